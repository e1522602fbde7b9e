"""``article.epub``: EPUB 3 for e-readers (EbookLib), one file per chapter, keyframes inside."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..hookspecs import hookimpl
from .article import Article
from .base import Renderer, no_text
from .export import doc_from_article, write_epub


def write(article: Article, config: Config, path: Path) -> None:
    write_epub(doc_from_article(article, path.parent), path)


@hookimpl
def register_renderers(register):
    register("epub", Renderer("epub", "article.epub", no_text,
                              "EPUB 3 for e-readers, images included", write=write))
