"""The ASR engine interface. Engines are plugins (``register_asr_engines``), looked up by name.

An engine is registered as a factory ``(config) -> AsrEngine``; the transcribe stage picks the
one named by ``config.asr_backend`` (``v2a.registry.ASR_ENGINES``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..language import Language
from ..models import Transcript

OnProgress = Callable[[float], None]  # called with the audio position reached, in seconds


class AsrEngine(Protocol):
    name: str  # recorded as Transcript.backend

    def transcribe(self, audio_path: Path, language: Language | None, on_progress: OnProgress,
                   hints: list[str] | None = None) -> Transcript:
        """Transcribe a whole file; segment ids start at 0 in time order. ``language``: the one
        spoken (``--spoken-language``; None: detect it). ``hints``: terms the recogniser should
        expect (from the screen and the glossary), when it takes any."""
        ...


# Whisper's own codes where they differ from the canonical BCP 47 tag
_WHISPER = {"jv": "jw", "fil": "tl"}


def whisper_code(language: str | None) -> str | None:
    """The code Whisper knows a language by: the primary subtag (``zh`` for ``zh-TW``), and
    ``jw``/``tl`` where BCP 47 says ``jv``/``fil``. A code that is no tag is passed as given."""
    lang = Language.of(language)
    if lang is None:
        return language
    return _WHISPER.get(lang.base, lang.base)
