"""The ASR engine interface. Engines are plugins (``register_asr_engines``), looked up by name.

An engine is registered as a factory ``(config) -> AsrEngine``; the transcribe stage picks the
one named by ``config.asr_backend`` (``v2a.registry.ASR_ENGINES``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..models import Transcript

OnProgress = Callable[[float], None]  # called with the audio position reached, in seconds


class AsrEngine(Protocol):
    name: str  # recorded as Transcript.backend

    def transcribe(self, audio_path: Path, language: str | None, on_progress: OnProgress,
                   hints: list[str] | None = None) -> Transcript:
        """Transcribe a whole file; segment ids start at 0 in time order. ``hints``: terms the
        recogniser should expect (from the screen and the glossary), when it takes any."""
        ...
