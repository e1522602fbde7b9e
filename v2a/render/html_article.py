"""``article.html``: one page, CSS and JS inlined, video player that the links seek.

The page works offline and from ``file://``: the only outside reference is the YouTube IFrame
API, and only for YouTube sources. A Content-Security-Policy allows exactly our inline script
(by hash) plus YouTube's, so even markup that slipped past the sanitiser could not run script.
"""

from __future__ import annotations

import base64
import hashlib
import html
import mimetypes
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..hookspecs import hookimpl
from ..language import Language
from ..links import fmt_time
from ..sources import key as paragraph_key
from .article import Article, Code, Figure, Section
from .base import Renderer
from .markdown_article import provenance
from .sanitize import prose_html, text_html

TEMPLATES = Path(__file__).parent / "templates"
YOUTUBE_SCRIPT_SRC = "https://www.youtube.com https://s.ytimg.com"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(text=text_html, prose=prose_html, time=fmt_time)
    env.globals["sourced"] = sourced_html
    env.tests["figure"] = lambda b: isinstance(b, Figure)
    env.tests["code"] = lambda b: isinstance(b, Code)
    return env


def to_html(article: Article, self_contained: bool = False) -> str:
    """Render the page; ``self_contained`` embeds keyframes as data URIs (no image files needed)."""
    js = (TEMPLATES / "article.js").read_text("utf-8")
    css = (TEMPLATES / "article.css").read_text("utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    script_src = f"'sha256-{digest}'" + (f" {YOUTUBE_SCRIPT_SRC}" if article.player == "youtube" else "")
    csp = f"script-src {script_src}; object-src 'none'; base-uri 'none'; form-action 'none'"
    return _env().get_template("article.html.j2").render(
        a=article, css=Markup(css), js=Markup(js), csp=csp, lang=_lang(article.lang),
        ui=article.ui, date=article.ui.date(article.source.upload_date),
        provenance=provenance(article),
        img=(_data_uri if self_contained else lambda f: f.src), size=_size_attrs)


_P = re.compile(r"<p>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")


def sourced_html(md: str, section: Section) -> Markup:
    """Prose as HTML whose paragraphs carry their sources: ``data-start`` (seconds, what a
    click plays), ``data-sources`` (transcript sentence ids) and the source text as a tooltip.
    Attributes are added after sanitising, from our own values, escaped."""
    out = str(prose_html(md))
    links = {p.key: p for p in reversed(section.sources)}  # the first paragraph of a key wins
    if not links:
        return Markup(out)

    def mark(m: re.Match[str]) -> str:
        p = links.get(paragraph_key(html.unescape(_TAG.sub(" ", m.group(1)))))
        if p is None:
            return m.group(0)
        tip = html.escape(f"▶ {fmt_time(p.start)} — {p.text}", quote=True)
        ids = " ".join(str(i) for i in p.segments)
        return (f'<p class="sourced" data-start="{p.start:.2f}" data-sources="{ids}" '
                f'title="{tip}">{m.group(1)}</p>')

    return Markup(_P.sub(mark, out))


def _data_uri(f: Figure) -> str:
    mime = mimetypes.guess_type(f.path.name)[0] or "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(f.path.read_bytes()).decode("ascii")


def _size_attrs(f: Figure) -> Markup:
    """Intrinsic size so the page doesn't jump while lazy images load."""
    from PIL import Image

    try:
        with Image.open(f.path) as im:
            w, h = im.size
    except OSError:
        return Markup("")
    return Markup(f' width="{int(w)}" height="{int(h)}"')


def _lang(code: str | None) -> str:
    """``<html lang>``: the article's tag (``Language``), English when it has none."""
    return Language.of(code) or "en"




@hookimpl
def register_renderers(register):
    register("html", Renderer(
        "html", "article.html", lambda a, config: to_html(a, config.self_contained),
        "one page with a player that every link seeks"))
