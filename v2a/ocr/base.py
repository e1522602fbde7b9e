"""The OCR engine interface. Engines are plugins (``register_ocr_engines``), looked up by name
(``--ocr``); an engine is registered as a factory ``(config) -> OcrEngine``."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..models import ScreenLine


class OcrEngine(Protocol):
    name: str

    def read(self, image: Path) -> list[ScreenLine]:
        """Every line of text in the image, with its box, in reading order."""
        ...
