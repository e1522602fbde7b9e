"""Assemble the book of a batch folder and write it in each format.

Layout in the batch root: ``book/`` holds ``book.md``, ``book.html``, ``book.epub``,
``book.pdf``, ``book.docx`` and ``obsidian/`` (whichever formats were asked for), ``book.json``
(what they were made from) and ``.cache/`` (one file per part). Incremental: a part is re-read
only when one of its artifacts (or the book's code) changed, an unchanged part's summary is
never asked again, and a format is rewritten only when the book it would hold changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..errors import UsageError, V2AError
from ..language import Language
from ..links import fmt_time, timestamp_url
from ..progress import NullProgress, Progress
from ..render.export import Chapter, Doc, esc, single_html, write_docx, write_epub, write_pdf
from ..render.sanitize import md_text, safe_href
from ..stage import StageContext
from ..workspace import BATCH_FILE, Workspace, atomic_write_text, read_model, write_json
from . import terms as T
from .models import BatchView, BookState, PartData, SectionData
from .parts import code_hash, part_hash, read_part, ready
from .summary import summarize

FILES = {"markdown": "book.md", "html": "book.html", "epub": "book.epub", "pdf": "book.pdf",
         "docx": "book.docx", "obsidian": "obsidian/index.md"}


@dataclass
class BookResult:
    folder: Path
    parts: int
    reread: int  # parts read again from their work folders (the rest came from the cache)
    outputs: dict[str, Path] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)  # formats rewritten this time
    index_terms: int = 0
    crossrefs: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Book:
    """Everything the writers need, assembled from the parts."""

    title: str
    parts: list[PartData]
    summaries: dict[str, tuple[str, str]]
    index: list[T.Entry]
    xrefs: dict[tuple[int, int], list[T.Entry]]
    glossary: list[T.Entry]  # the explained terms, with the sentence that explains them

    def anchor(self, pl: T.Place) -> str:
        return self.parts[pl.part - 1].sections[pl.chapter - 1].anchor

    def video(self, pl: T.Place) -> str:
        p = self.parts[pl.part - 1]
        return safe_href(timestamp_url(p.source, pl.second, p.media))

    def label(self, pl: T.Place) -> str:
        return f"Part {pl.part}, {pl.chapter}. at {fmt_time(pl.second)}"


def book_formats(formats: list[str]) -> list[str]:
    bad = [f for f in formats if f not in FILES]
    if bad:
        raise UsageError(f"the book has no format {bad[0]!r}; one of: {', '.join(FILES)}")
    return list(dict.fromkeys(formats))


def missing(fmt: str) -> str | None:
    """Why ``fmt`` cannot be written on this machine (None: it can): the tools the ``export``
    extra brings, looked for without starting them."""
    import importlib.util

    from ..render.export import chromium_path, pandoc_path

    if fmt == "epub" and importlib.util.find_spec("ebooklib") is None:
        return "needs EbookLib: pip install ebooklib"
    if fmt == "pdf":
        if importlib.util.find_spec("playwright") is None:
            return "needs pip install 'v2a[export]' (Playwright) and a Chromium"
        own = Path.home() / ".cache" / "ms-playwright"
        if chromium_path() is None and not any(own.glob("chromium*")):
            return "needs a Chromium: apt install chromium (or playwright install chromium)"
    if fmt == "docx" and pandoc_path() is None:
        return "needs pandoc: pip install 'v2a[export]' or apt install pandoc"
    return None


def build_book(root: Path, formats: list[str], config: Config | None = None,
               summaries: str = "outline", progress: Progress | None = None,
               approved: bool = False) -> BookResult:
    """Build (or bring up to date) the book of the batch folder ``root``. ``approved``: refuse
    while a part has a chapter an editor has not approved (as ``v2a publish`` does)."""
    formats = book_formats(formats)
    return write_formats(assemble(root, config, summaries, progress, approved), formats)


@dataclass
class Assembled:
    """The book as it would be written now: its parts (cached), summaries, index and the hash
    of what it holds (a format made from the same hash is up to date)."""

    root: Path
    book: Book
    state: BookState
    digest: str
    reread: int
    timings: dict[str, float] = field(default_factory=dict)
    t0: float = 0.0

    @property
    def folder(self) -> Path:
        return self.root / "book"

    @property
    def state_path(self) -> Path:
        return self.folder / "book.json"

    def up_to_date(self, fmt: str) -> bool:
        return self.state.outputs.get(fmt) == self.digest and (self.folder / FILES[fmt]).exists()


def assemble(root: Path, config: Config | None = None, summaries: str = "outline",
             progress: Progress | None = None, approved: bool = False) -> Assembled:
    """Read the parts (only the changed ones again), summarize and index them; write nothing
    but the parts' cache and the pooled series glossary. ``summaries``: outline, llm, or kept
    (the last build's way, with no model: the review app keeps the model's cached summaries
    and puts the chapter titles, not kept, where one is missing)."""
    t0 = time.perf_counter()
    root = Path(root)
    if not (root / BATCH_FILE).exists():
        raise UsageError(f"{root} is not a batch folder (no {BATCH_FILE}); run v2a batch first")
    batch = read_model(root / BATCH_FILE, BatchView)
    book_dir = root / "book"
    cache = book_dir / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    state_path = book_dir / "book.json"
    state = read_model(state_path, BookState) if state_path.exists() else BookState(
        title=batch.title)
    state.title = batch.title
    use_model = summaries == "llm"
    if summaries == "kept":  # the review app: the last build's way, without starting a model
        summaries, use_model = state.summaries_mode, False
    state.summaries_mode = summaries
    code = code_hash()
    parts: list[PartData] = []
    reread = 0
    for e in batch.ordered():
        folder = root / e.workdir
        if e.status != "done" or not ready(folder):
            continue
        n = len(parts) + 1
        digest = f"{part_hash(folder, code)}-{n}"  # its number is in its anchors
        cached = cache / f"{_safe(e.key)}.json"
        part = None
        if cached.exists():
            try:
                part = PartData.model_validate_json(cached.read_text("utf-8"))
            except ValueError:
                part = None
        if part is None or part.hash != digest:
            part = read_part(e.key, folder, root, book_dir, n, digest)
            write_json(cached, part)
            reread += 1
        parts.append(part)
    if not parts:
        raise V2AError(f"{root}: no finished video to make a book of yet")
    waiting = [(n, p) for n, p in enumerate(parts, 1)
               if p.review.get("approved", 0) < len(p.sections)]
    if approved and waiting:
        n, p = waiting[0]
        raise V2AError(f"book not published: {len(waiting)} of {len(parts)} parts have chapters "
                       f"not approved (first: part {n}, {p.title!r}, "
                       f"{p.review.get('approved', 0)}/{len(p.sections)} approved; "
                       f"v2a review {root / p.folder})")
    state.parts = {p.key: p.hash for p in parts}
    t_parts = time.perf_counter()
    ctx = None
    if use_model:
        cfg = config or Config()
        ctx = StageContext(ws=Workspace(book_dir), config=cfg, src=str(root),
                           progress=progress or NullProgress())
    try:
        said = summarize(parts, batch.title, state, summaries, ctx)
    finally:
        if ctx is not None:
            ctx.close()
    t_summary = time.perf_counter()
    pooled = T.pool_glossary(root, parts)
    index = T.build_index(parts, pooled)
    book = Book(title=batch.title, parts=parts, summaries=said, index=index,
                xrefs=T.crossrefs(parts, index),
                glossary=[e for e in index if e.home.defined])
    t_terms = time.perf_counter()
    digest = hashlib.sha256(json.dumps(
        [code, batch.title, [p.hash for p in parts], [said[p.key] for p in parts],
         [[e.term, [pl.__dict__ for pl in e.places]] for e in index]]).encode()).hexdigest()[:20]
    return Assembled(root=root, book=book, state=state, digest=digest, reread=reread, t0=t0,
                     timings={"parts": round(t_parts - t0, 3),
                              "summaries": round(t_summary - t_parts, 3),
                              "terms": round(t_terms - t_summary, 3)})


def write_formats(a: Assembled, formats: list[str]) -> BookResult:
    """Write each format whose file is missing or was made from another book; ``book.json``
    records what each was made from."""
    formats = book_formats(formats)
    book, state, book_dir = a.book, a.state, a.folder
    result = BookResult(folder=book_dir, parts=len(book.parts), reread=a.reread,
                        index_terms=len(book.index),
                        crossrefs=sum(map(len, book.xrefs.values())))
    doc: Doc | None = None
    for f in formats:
        out = book_dir / FILES[f]
        result.outputs[f] = out
        if a.up_to_date(f):
            continue
        t = time.perf_counter()
        if f in ("epub", "pdf", "docx", "html") and doc is None:
            doc = book_doc(book, book_dir)
        WRITERS[f](book, doc, out)
        state.outputs[f] = a.digest
        result.written.append(f)
        result.timings[f] = round(time.perf_counter() - t, 3)
        write_json(a.state_path, state)  # a later format's failure keeps this one's record
    write_json(a.state_path, state)
    result.timings.update(a.timings, total=round(time.perf_counter() - a.t0, 3))
    return result


def _safe(key: str) -> str:
    return re.sub(r"[^\w.-]", "_", key)[:80] + "-" + hashlib.sha256(key.encode()).hexdigest()[:8]


# ---- the book as a Doc (EPUB, PDF, DOCX, one HTML page) --------------------------------------------


def book_doc(book: Book, book_dir: Path) -> Doc:
    lang = Language.of(book.parts[0].lang)
    doc = Doc(title=book.title, lang=lang.base if lang is not None else "en", base=book_dir,
              ident="urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "v2a-book:" + book.title)))
    for p in book.parts:
        doc.images.update({k: Path(v) for k, v in p.images.items()})
    total = sum(p.duration or 0 for p in book.parts)
    front = [f'<div class="front"><h1>{esc(book.title)}</h1>',
             f'<p class="meta">{len(book.parts)} parts · {fmt_time(total)} of video</p></div>']
    for n, p in enumerate(book.parts, 1):
        _by, text = book.summaries[p.key]
        front.append(f'<h3><a href="#part-{n}">Part {n}. {esc(p.title)}</a></h3>'
                     f"<p>{esc(text)}</p>")
    doc.chapters.append(Chapter("front", book.title, "\n".join(front)))
    contents = ['<h1 id="contents">Contents</h1>', "<ol>"]
    for n, p in enumerate(book.parts, 1):
        contents.append(f'<li><a href="#part-{n}">Part {n}. {esc(p.title)}</a><ol>')
        contents += [f'<li><a href="#{esc(s.anchor)}">{esc(s.title)}</a> '
                     f'<span class="ts">{fmt_time(s.start)}</span></li>' for s in p.sections]
        contents.append("</ol></li>")
    back = ['<a href="#glossary">Glossary</a>'] if book.glossary else []
    contents += ["</ol>", "<p>" + " · ".join([*back, '<a href="#index">Index</a>']) + "</p>"]
    doc.chapters.append(Chapter("contents", "Contents", "\n".join(contents)))
    for n, p in enumerate(book.parts, 1):
        body = [f'<h1 id="part-{n}">Part {n}. {esc(p.title)}</h1>',
                f'<p class="meta"><a href="{esc(p.source_href)}">{esc(p.source.title or p.title)}'
                f"</a>{' · ' + fmt_time(p.duration) if p.duration else ''}</p>",
                f"<p><em>{esc(book.summaries[p.key][1])}</em></p>"]
        for s in p.sections:
            body.append(_section_html(book, n, s))
        doc.chapters.append(Chapter(f"part-{n}", f"Part {n}. {p.title}", "\n".join(body),
                                    children=[(s.anchor, s.title) for s in p.sections]))
    if book.glossary:
        items = [f'<dt>{esc(e.term)}</dt><dd>“{esc(e.home.sentence)}” — '
                 f'<a href="#{esc(book.anchor(e.home))}">{esc(book.label(e.home))}</a> '
                 f'(<a href="{esc(book.video(e.home))}">video</a>)</dd>' for e in book.glossary]
        doc.chapters.append(Chapter("glossary", "Glossary", '<h1 id="glossary">Glossary</h1>\n'
                                    "<dl>" + "\n".join(items) + "</dl>"))
    rows = []
    for e in book.index:
        links = []
        for pl in e.places:
            label = f"{pl.part}.{pl.chapter} {fmt_time(pl.second)}"
            link = f'<a href="#{esc(book.anchor(pl))}">{label}</a>'
            links.append(f"<strong>{link}</strong>" if pl.defined else link)
        rows.append(f"<li>{esc(e.term)}: " + ", ".join(links) + "</li>")
    doc.chapters.append(Chapter("index", "Index", '<h1 id="index">Index</h1>\n<p class="meta">'
                                "Part.chapter and time; in bold where the term is explained.</p>"
                                '\n<ul class="index">' + "\n".join(rows) + "</ul>"))
    return doc


def _section_html(book: Book, n: int, s: SectionData) -> str:
    out = [f'<section id="{esc(s.anchor)}">', f"<h2>{s.number}. {esc(s.title)}</h2>",
           f'<p class="ts"><a href="{esc(s.href)}">{fmt_time(s.start)} – {fmt_time(s.end)}</a></p>']
    refs = book.xrefs.get((n, s.number), [])
    if refs:
        said = "; ".join(
            f'<em>{esc(e.term)}</em>: {"explained" if e.home.defined else "introduced"} in '
            f'<a href="#{esc(book.anchor(e.home))}">Part {e.home.part}</a> at '
            f'<a href="{esc(book.video(e.home))}">{fmt_time(e.home.second)}</a>' for e in refs)
        out.append(f'<p class="xref">See also — {said}.</p>')
    out += [s.html, "</section>"]
    return "\n".join(out)


# ---- writers -----------------------------------------------------------------------------------------


def _write_html(book: Book, doc: Doc | None, out: Path) -> None:
    assert doc is not None
    rel = {k: Path(v) for p in book.parts for k, v in p.images.items()}
    import os
    from urllib.parse import quote

    def src(key: str, path: Path) -> str:
        return quote(Path(os.path.relpath(rel.get(key, path), out.parent)).as_posix())

    atomic_write_text(out, single_html(doc, src))


def _write_markdown(book: Book, doc: Doc | None, out: Path) -> None:
    atomic_write_text(out, book_markdown(book))


def book_markdown(book: Book) -> str:
    total = sum(p.duration or 0 for p in book.parts)
    out = [f"# {md_text(book.title)}", "", f"*{len(book.parts)} parts · {fmt_time(total)} of video*",
           "", "## Contents", ""]
    for n, p in enumerate(book.parts, 1):
        out.append(f"{n}. [Part {n}. {md_text(p.title)}](#part-{n}) — "
                   f"{md_text(book.summaries[p.key][1])}")
        out += [f"   - [{md_text(s.title)}](#{s.anchor}) · {fmt_time(s.start)}" for s in p.sections]
    out.append("")
    for n, p in enumerate(book.parts, 1):
        out += [f'<a id="part-{n}"></a>', "", f"# Part {n}. {md_text(p.title)}", "",
                f"[{md_text(p.source.title or p.title)}]({p.source_href})", ""]
        for s in p.sections:
            out += [f'<a id="{s.anchor}"></a>', "",
                    f"## {s.number}. {md_text(s.title)}", "",
                    f"*[{fmt_time(s.start)} – {fmt_time(s.end)}]({s.href})*", ""]
            refs = book.xrefs.get((n, s.number), [])
            if refs:
                out += ["> See also — " + "; ".join(
                    f"*{md_text(e.term)}*: {'explained' if e.home.defined else 'introduced'} in "
                    f"[Part {e.home.part}](#{book.anchor(e.home)}) at "
                    f"[{fmt_time(e.home.second)}]({book.video(e.home)})" for e in refs) + ".", ""]
            out += [s.md, ""]
    if book.glossary:
        out += ["# Glossary", ""]
        for e in book.glossary:
            out += [f"**{md_text(e.term)}** — “{md_text(e.home.sentence)}” "
                    f"([{book.label(e.home)}](#{book.anchor(e.home)}))", ""]
    out += ["# Index", "", "*Part.chapter and time; in bold where the term is explained.*", ""]
    for e in book.index:
        links = [(f"**[{pl.part}.{pl.chapter} {fmt_time(pl.second)}](#{book.anchor(pl)})**"
                  if pl.defined else f"[{pl.part}.{pl.chapter} {fmt_time(pl.second)}]"
                  f"(#{book.anchor(pl)})") for pl in e.places]
        out.append(f"- {md_text(e.term)}: " + ", ".join(links))
    return "\n".join(out) + "\n"


def _write_obsidian(book: Book, doc: Doc | None, out: Path) -> None:
    """A vault: ``index.md`` (front page, contents, index), one note per chapter."""
    from ..render.obsidian_article import attach, note_name, wikilink

    vault = out.parent
    vault.mkdir(parents=True, exist_ok=True)
    for old in vault.glob("*.md"):
        old.unlink()
    names = {(n, s.number): note_name(s.number, s.title, f"P{n:02d}.")
             for n, p in enumerate(book.parts, 1) for s in p.sections}

    def link(pl: T.Place) -> str:
        return wikilink(names[(pl.part, pl.chapter)], f"{pl.part}.{pl.chapter} "
                                                      f"{fmt_time(pl.second)}")

    flat = [(n, s) for n, p in enumerate(book.parts, 1) for s in p.sections]
    img = re.compile(r"\[!\[([^\]]*)\]\(([^)\s]+)\)\]\(([^)\s]+)\)")
    from urllib.parse import unquote

    for i, (n, s) in enumerate(flat):
        body = img.sub(lambda m: f"![[{attach((vault.parent / unquote(m.group(2))).resolve(), vault)}]]"
                       f"\n*[{m.group(1)}]({m.group(3)})*", s.md)
        refs = book.xrefs.get((n, s.number), [])
        lines = ["---", f"title: {json.dumps(s.title, ensure_ascii=False)}",
                 f"part: {n}", f"start: {json.dumps(fmt_time(s.start))}",
                 f"link: {json.dumps(s.href)}", "---", "", f"# {md_text(s.title)}", "",
                 f"[{fmt_time(s.start)} – {fmt_time(s.end)}]({s.href}) · "
                 f"{wikilink('index', f'Part {n}. ' + book.parts[n - 1].title)}", ""]
        if refs:
            lines += ["> [!info] See also", *(f"> {md_text(e.term)}: {link(e.home)}"
                                              for e in refs), ""]
        lines += [body, "", "---"]
        prev = wikilink(names[(flat[i - 1][0], flat[i - 1][1].number)]) if i else ""
        nxt = (wikilink(names[(flat[i + 1][0], flat[i + 1][1].number)])
               if i + 1 < len(flat) else "")
        lines += [" · ".join(x for x in (f"← {prev}" if prev else "", f"{nxt} →" if nxt else "")
                             if x), ""]
        (vault / f"{names[(n, s.number)]}.md").write_text("\n".join(lines), "utf-8")
    index = [f"# {md_text(book.title)}", ""]
    for n, p in enumerate(book.parts, 1):
        index += [f"## Part {n}. {md_text(p.title)}", "", md_text(book.summaries[p.key][1]), ""]
        index += [f"{s.number}. {wikilink(names[(n, s.number)], s.title)}" for s in p.sections]
        index.append("")
    index += ["## Index", ""]
    index += [f"- {md_text(e.term)}: " + ", ".join(link(pl) for pl in e.places)
              for e in book.index]
    (vault / "index.md").write_text("\n".join(index) + "\n", "utf-8")


WRITERS: dict[str, Callable[[Book, Doc | None, Path], None]] = {
    "markdown": _write_markdown,
    "html": _write_html,
    "epub": lambda b, d, o: write_epub(_need(d), o),
    "pdf": lambda b, d, o: write_pdf(_need(d), o),
    "docx": lambda b, d, o: write_docx(_need(d), o),
    "obsidian": _write_obsidian,
}


def _need(doc: Doc | None) -> Doc:
    assert doc is not None
    return doc


