"""The output-format interface. Formats are plugins (``register_renderers``): one file each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
