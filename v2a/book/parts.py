"""A video's work folder as a part of the book: read once, cached under the hash of its inputs."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote

from ..config import Config
from ..edits.store import FILENAME as REVIEW
from ..glossary import FILENAME as GLOSSARY
from ..glossary import load as load_glossary
from ..render.article import Code, Figure, Section, media_href
from ..render.export import Doc, blocks_html
from ..render.markdown_article import _code
from ..render.sanitize import md_text
from ..stage import StageContext
from ..stages import CHAPTERS, OUTLINE, SCENES, SCREEN, SOURCE, TRANSCRIPT
from ..workspace import Workspace, sha256_file
from .models import PartData, SectionData

# what a part is made from: a change to any of these re-reads that part (and nothing else)
INPUTS = (SOURCE.name, TRANSCRIPT.name, OUTLINE.name, CHAPTERS.name, SCENES.name, SCREEN.name,
          REVIEW, GLOSSARY)
HERE = Path(__file__).parent
RENDER = HERE.parent / "render"


def code_hash() -> str:
    """The book's and the renderers' code: editing either rebuilds every part."""
    h = hashlib.sha256()
    for p in sorted([*HERE.glob("*.py"), *RENDER.glob("*.py")]):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def part_hash(folder: Path, code: str) -> str:
    h = hashlib.sha256(code.encode())
    for name in INPUTS:
        p = folder / name
        h.update(f"{name}:{sha256_file(p) if p.exists() else '-'};".encode())
    return h.hexdigest()[:20]


def ready(folder: Path) -> bool:
    """A work folder the book can use: its outline and transcript exist."""
    return (folder / OUTLINE.name).exists() and (folder / TRANSCRIPT.name).exists()


def read_part(key: str, folder: Path, root: Path, book_dir: Path, number: int,
              digest: str) -> PartData:
    """Build the article of ``folder`` (with the editor's edits) and keep what the book needs."""
    from ..edits.store import load as load_review
    from ..edits.store import review_path
    from ..render.stage import load_article

    ws = Workspace(folder)
    ctx = StageContext(ws=ws, config=Config(workdir=folder), src=str(folder))
    article = load_article(ctx)
    transcript = ws.read(TRANSCRIPT)
    screen = ws.read(SCREEN) if ws.path(SCREEN.name).exists() else None
    outline = ws.read(OUTLINE)
    review = load_review(ws) if review_path(ws).exists() else None
    images = Doc(title="")
    sections = []
    for s in article.sections:
        ch = next((c for c in outline.chapters if abs(c.start - s.start) < 1e-6), None)
        segs = transcript.between(ch.first_segment, ch.last_segment) if ch else []
        sections.append(SectionData(
            number=s.number, key=str(ch.first_segment) if ch else "", title=s.title,
            anchor=f"p{number}-{s.anchor}", start=s.start,
            end=s.end, href=rebase(s.href, folder, book_dir), status=s.status,
            html=rebase_html(blocks_html(s, images), folder, book_dir),
            md=rebase_md(_blocks_md(s), folder, book_dir),
            spoken=[(g.start, g.text) for g in segs],
            code=[b.text for b in s.blocks if isinstance(b, Code)],
            review=_status(review, ch.first_segment if ch else None)))
    counts: dict[str, int] = {}
    for sd in sections:
        counts[sd.review] = counts.get(sd.review, 0) + 1
    return PartData(
        key=key, folder=os.path.relpath(folder, root), hash=digest, title=article.title,
        source_href=rebase(article.source_href, folder, book_dir), source=article.source,
        media=media_href(article.source, book_dir), duration=article.duration,
        uploader=article.source.uploader, lang=article.lang, sections=sections,
        outline=[(c.title, c.summary) for c in sorted(outline.chapters, key=lambda c: c.start)],
        screen_terms=list(screen.terms) if screen else [],
        editor_terms=list(load_glossary(ws.path(GLOSSARY)).terms),
        images={k: str(p.resolve()) for k, p in images.images.items()}, review=counts)


def _status(review, first_segment: int | None) -> str:
    """The editor's status of the chapter starting at ``first_segment`` (review.json's key)."""
    if review is None or first_segment is None:
        return "draft"
    r = review.sections.get(str(first_segment))
    return r.status if r is not None else "draft"


def _blocks_md(s: Section) -> str:
    """A chapter's body in Markdown, links relative to its work folder."""
    out = []
    if s.status == "failed":
        out.append(f"> No text was written for this chapter ({md_text(s.error)}).")
    for b in s.blocks:
        if isinstance(b, Figure):
            alt = md_text(b.text[:200]) if b.text else "frame"
            out.append(f"[![{alt}]({b.src})]({b.href})")  # rebased with the rest
        elif isinstance(b, Code):
            out.append(_code(b))
        else:
            out.append(b)
    return "\n\n".join(out)


_SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|#|v2a-img-)")


def rebase(href: str, folder: Path, book_dir: Path) -> str:
    """A link relative to the work folder (a local video) made relative to the book's folder."""
    if not href or _SCHEME.match(href):
        return href
    path, _, frag = href.partition("#")
    rel = os.path.relpath((folder / unquote(path)).resolve(), book_dir.resolve())
    return quote(Path(rel).as_posix()) + (f"#{frag}" if frag else "")


def rebase_html(html: str, folder: Path, book_dir: Path) -> str:
    return re.sub(r'(href=")([^"]*)(")',
                  lambda m: m.group(1) + rebase(m.group(2), folder, book_dir) + m.group(3), html)


def rebase_md(md: str, folder: Path, book_dir: Path) -> str:
    """Links of the form ``](target)`` outside code (ours: timestamps of a local video)."""
    out, fence = [], False
    for line in md.split("\n"):
        if re.match(r"^ {0,3}(`{3,}|~{3,})", line):
            fence = not fence
        if not fence:
            line = re.sub(r"(\]\()([^)\s]+)(\))",
                          lambda m: m.group(1) + rebase(m.group(2), folder, book_dir)
                          + m.group(3), line)
        out.append(line)
    return "\n".join(out)
