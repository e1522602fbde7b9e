"""Transcription: subtitle reuse or Whisper (faster-whisper / openai-whisper)."""
