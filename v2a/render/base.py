"""The output-format interface. Formats are plugins (``register_renderers``): one file each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config
    from .article import Article


@dataclass(frozen=True)
class Renderer:
    """Writes the article as one file of the work folder."""

    name: str
    filename: str  # e.g. "article.md"
    render: Callable[[Article, Config], str]
    description: str = ""
    # binary formats (EPUB, PDF, DOCX) or folders write the file themselves; ``render`` is then
    # not called by the render stage
    write: Callable[[Article, Config, Path], None] | None = None


def no_text(article: Article, config: Config) -> str:
    """``render`` of a renderer that only writes files (see ``Renderer.write``)."""
    raise TypeError("this format is a binary file: call its write()")
