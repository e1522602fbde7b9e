"""The ASR backend interface and the factory that picks one from the config."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

from ..config import Config
from ..models import Transcript

OnProgress = Callable[[float], None]  # called with the audio position reached, in seconds


class AsrBackend(Protocol):
    name: str  # recorded as Transcript.backend

    def transcribe(self, audio_path: Path, language: str | None,
                   on_progress: OnProgress) -> Transcript:
        """Transcribe a whole file; segment ids start at 0 in time order."""
        ...


def get_backend(config: Config) -> AsrBackend:
    # imported lazily: each backend pulls in a heavy runtime (CTranslate2 / torch)
    if config.asr_backend == "openai-whisper":
        from .openai_whisper import OpenAIWhisperBackend

        return OpenAIWhisperBackend(config)
    from .faster import FasterWhisperBackend

    return FasterWhisperBackend(config)
