"""``article.pdf``: printed by Chromium through Playwright (``v2a[export]``), A4, page numbers."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..hookspecs import hookimpl
from .article import Article
from .base import Renderer, no_text
from .export import doc_from_article, write_pdf


def write(article: Article, config: Config, path: Path) -> None:
    write_pdf(doc_from_article(article, path.parent), path)


@hookimpl
def register_renderers(register):
    register("pdf", Renderer("pdf", "article.pdf", no_text,
                             "PDF printed by Chromium (needs v2a[export])", write=write))
