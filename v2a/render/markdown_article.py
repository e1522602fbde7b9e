"""``article.md``: CommonMark that reads well on GitHub (and in Python-Markdown/mkdocs).

Transcript excerpts sit in ``<details markdown="1">`` blocks: GitHub renders Markdown inside
``<details>`` after a blank line, and ``markdown="1"`` does the same for Python-Markdown's
``md_in_html``. All outside text is escaped by ``sanitize.md_text``/``md_prose``.
"""

from __future__ import annotations

import re

from ..hookspecs import hookimpl
from ..links import fmt_time
from .article import Article, Code, Figure, Section
from .base import Renderer
from .i18n import UI
from .sanitize import md_text


def to_markdown(article: Article) -> str:
    src, ui = article.source, article.ui
    out = [f"# {md_text(article.title)}", ""]
    meta = [f"**{ui.md_video}:** [{md_text(src.title or src.media_path)}]({article.source_href})"]
    if article.duration:
        meta.append(f"**{ui.md_duration}:** {fmt_time(article.duration)}")
    if src.uploader:
        meta.append(f"**{ui.md_by}:** {md_text(src.uploader)}")
    if src.upload_date:
        meta.append(f"**{ui.md_published}:** {md_text(ui.date(src.upload_date) or '')}")
    out += [" · ".join(meta), ""]
    out += [f"## {ui.contents}", ""]
    for s in article.sections:
        out.append(f"{s.number}. [{md_text(s.title)}](#{s.anchor}) · [{fmt_time(s.start)}]({s.href})")
    out.append("")
    for s in article.sections:
        out += _section(s, ui)
    out += ["---", "", _footer(article), ""]
    return "\n".join(out)


def _section(s: Section, ui: UI) -> list[str]:
    out = [f"## [{md_text(s.heading)}]({s.href})", "",
           f"*{fmt_time(s.start)} – {fmt_time(s.end)}*", ""]
    if s.status == "failed":
        out += [f"> **{ui.failed}** ({md_text(s.error)}). {ui.failed_more}", ""]
    for b in s.blocks:
        if isinstance(b, Figure):
            out += [_figure(b, ui), ""]
        elif isinstance(b, Code):
            out += [_code(b), ""]
        else:
            out += [b, ""]
    if s.transcript:
        opened = " open" if s.status == "failed" else ""
        out += [f'<details{opened} markdown="1">',
                f"<summary>{ui.transcript} {fmt_time(s.start)} – {fmt_time(s.end)}</summary>", ""]
        for p in s.transcript:
            out += [f"[{fmt_time(p.time)}]({p.href}) {md_text(p.text)}", ""]
        out += ["</details>", ""]
    return out


def _code(c: Code) -> str:
    """A fenced block longer than any run of backticks inside, so the code cannot end it."""
    runs = [len(m) for m in re.findall(r"`+", c.text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    lang = c.language if re.fullmatch(r"[\w+-]*", c.language) else ""
    return f"{fence}{lang}\n{c.text}\n{fence}"


def _figure(f: Figure, ui: UI) -> str:
    alt = md_text(f.alt(ui)) if f.text else f.alt(ui)  # OCR text is outside text
    return f"[![{alt}]({f.src})]({f.href})"


def provenance(a: Article) -> list[tuple[str, str]]:
    """(what, by whom) in the article's language."""
    ui = a.ui
    return [(getattr(ui, f"what_{what}"), getattr(ui, by[1:]) if by.startswith("@") else by)
            for what, by in a.provenance]


def _footer(a: Article) -> str:
    made = "; ".join(f"{what}: {md_text(by)}" for what, by in provenance(a))
    generated = a.ui("generated", v2a=f"v2a {a.version}", date=a.ui.date(a.generated))
    return f"*{generated} ({made}). {a.ui.times}*"


@hookimpl
def register_renderers(register):
    register("markdown", Renderer("markdown", "article.md", lambda a, config: to_markdown(a),
                                  "CommonMark that reads well on GitHub and in MkDocs"))
