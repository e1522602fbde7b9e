"""A third-party output format, as a plugin adds one: the article as plain text
(``article.txt``), its title and its chapters' headings. One module and one registration;
``--format plain`` then renders it (``tests/test_architecture.py`` runs it through the render
stage)."""

from __future__ import annotations

from v2a.hookspecs import hookimpl
from v2a.render.base import Renderer


def render(article, config) -> str:
    return "\n\n".join([article.title] + [s.heading for s in article.sections])


@hookimpl
def register_renderers(register):
    register("plain", Renderer("plain", "article.txt", render))
