"""``obsidian/``: the article as an Obsidian-style Markdown folder (a vault you can open).

``index.md`` holds the title, the video and the contents as ``[[wikilinks]]``; each chapter is a
note of its own (``01 Title.md``) with YAML properties (source, start, end), its prose, keyframes
embedded with ``![[attachments/…]]``, code as written on screen, the transcript in a folded
callout, and links to the previous and next chapter. Note names drop the characters Obsidian
refuses in file names (``* " \\ / < > : | ? # ^ [ ]``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from ..config import Config
from ..hookspecs import hookimpl
from ..links import fmt_time
from .article import Article, Code, Figure, Section
from .base import Renderer, no_text
from .markdown_article import _code, provenance
from .sanitize import md_text

_BAD = re.compile(r'[*"\\/<>:|?#^\[\]\x00-\x1f]')


def note_name(number: int, title: str, prefix: str = "") -> str:
    """A chapter's note name: ``01 Title`` (``P02.03 Title`` in a book), safe as a file name."""
    clean = " ".join(_BAD.sub(" ", title).split())[:80].strip(" .") or "Chapter"
    return f"{prefix}{number:02d} {clean}"


def wikilink(name: str, label: str | None = None) -> str:
    label = _BAD.sub(" ", label).strip() if label else None
    return f"[[{name}|{label}]]" if label and label != name else f"[[{name}]]"


def attach(path: Path, folder: Path) -> str:
    """Hard-link (or copy) an image into ``attachments/``; its vault path."""
    dst = folder / "attachments" / path.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists() or dst.stat().st_size != path.stat().st_size:
        dst.unlink(missing_ok=True)
        try:
            os.link(path, dst)
        except OSError:
            shutil.copy2(path, dst)
    return f"attachments/{dst.name}"


def section_note(s: Section, folder: Path, up: str, prev: str | None, nxt: str | None,
                 source_href: str, extra: list[str] | None = None) -> str:
    """One chapter as an Obsidian note."""
    props = {"title": s.title, "source": source_href, "start": fmt_time(s.start),
             "end": fmt_time(s.end), "link": s.href}
    out = ["---", *(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in props.items()), "---",
           "", f"# {md_text(s.title)}", "",
           f"[{fmt_time(s.start)} – {fmt_time(s.end)}]({s.href}) · up: {up}", ""]
    if s.status == "failed":
        out += [f"> [!warning] No text was written for this chapter ({md_text(s.error)}).", ""]
    for b in s.blocks:
        if isinstance(b, Figure):
            out += [f"![[{attach(b.path, folder)}]]", f"*[{fmt_time(b.time)}]({b.href})*", ""]
        elif isinstance(b, Code):
            out += [_code(b), ""]
        else:
            out += [b, ""]
    out += extra or []
    if s.transcript:
        out += ["> [!quote]- Transcript"]
        for p in s.transcript:
            out += [f"> [{fmt_time(p.time)}]({p.href}) {md_text(p.text)}", ">"]
        out[-1] = ""
    nav = [f"← {prev}" if prev else "", f"{nxt} →" if nxt else ""]
    out += ["---", " · ".join(x for x in nav if x), ""]
    return "\n".join(out)


def write_vault(article: Article, folder: Path) -> None:
    """The folder: ``index.md`` and one note per chapter (stale notes of an earlier run go)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    names = [note_name(s.number, s.title) for s in article.sections]
    for i, s in enumerate(article.sections):
        note = section_note(s, folder, wikilink("index", article.title),
                            wikilink(names[i - 1], article.sections[i - 1].title) if i else None,
                            wikilink(names[i + 1], article.sections[i + 1].title)
                            if i + 1 < len(names) else None, article.source_href)
        (folder / f"{names[i]}.md").write_text(note, "utf-8")
    made = "; ".join(f"{w}: {md_text(b)}" for w, b in provenance(article))
    index = ["---", f"title: {json.dumps(article.title, ensure_ascii=False)}",
             f"source: {json.dumps(article.source_href)}", "---", "",
             f"# {md_text(article.title)}", "",
             f"[{md_text(article.source.title or article.source.media_path)}]"
             f"({article.source_href})", "", f"## {article.ui.contents}", ""]
    index += [f"{s.number}. {wikilink(n, s.title)} · [{fmt_time(s.start)}]({s.href})"
              for s, n in zip(article.sections, names)]
    index += ["", f"*v2a {article.version} ({made})*", ""]
    (folder / "index.md").write_text("\n".join(index), "utf-8")


def write(article: Article, config: Config, path: Path) -> None:
    write_vault(article, path.parent)


@hookimpl
def register_renderers(register):
    register("obsidian", Renderer("obsidian", "obsidian/index.md", no_text,
                                  "an Obsidian vault: a note per chapter, [[wikilinks]]",
                                  write=write))
