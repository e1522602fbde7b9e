"""``article.docx``: for editors in word processors, converted by pandoc (``v2a[export]``)."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..hookspecs import hookimpl
from .article import Article
from .base import Renderer, no_text
from .export import doc_from_article, write_docx


def write(article: Article, config: Config, path: Path) -> None:
    write_docx(doc_from_article(article, path.parent), path)


@hookimpl
def register_renderers(register):
    register("docx", Renderer("docx", "article.docx", no_text,
                              "Word document by pandoc (needs v2a[export] or a pandoc)",
                              write=write))
