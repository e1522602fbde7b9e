"""Files for e-readers, print and word processors, made by well-kept tools from one static page.

A ``Doc`` is a title and a list of chapters, each a sanitised XHTML-compatible fragment; images
are local files. ``write_epub`` packages it with EbookLib (EPUB 3: nav document, spine, images
inside), ``write_pdf`` prints it with Chromium through Playwright, ``write_docx`` converts it with
pandoc. The single article (``doc_from_article``) and the book of a batch (``v2a.book``) both
build a ``Doc``; no format has its own idea of the content.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from ..errors import V2AError
from ..language import Language
from ..links import fmt_time
from .article import Article, Code, Figure, Section
from .markdown_article import provenance
from .sanitize import prose_html

PRINT_CSS = """
body { font-family: "DejaVu Serif", Georgia, serif; line-height: 1.5; max-width: 42em;
       margin: 0 auto; color: #111; }
h1, h2, h3 { font-family: "DejaVu Sans", Helvetica, sans-serif; line-height: 1.2; }
h1 { font-size: 1.8em; } h2 { font-size: 1.35em; margin-top: 1.6em; }
.ts, .meta, figcaption, .xref { font-size: 0.85em; color: #555; }
figure { margin: 1em 0; text-align: center; break-inside: avoid; }
figure img { max-width: 100%; max-height: 60vh; }
pre { white-space: pre-wrap; font-family: "DejaVu Sans Mono", monospace; font-size: 0.8em;
      background: #f4f4f4; padding: 0.6em; border-radius: 3px; break-inside: avoid; }
.part { break-before: page; }
.front { text-align: center; margin-top: 30%; }
nav ol, .index ul { padding-left: 1.2em; }
.failed { border-left: 3px solid #c33; padding-left: 0.6em; }
"""


@dataclass
class Chapter:
    """One file of an e-book (one page break in print): its heading and body."""

    id: str  # file stem and anchor: [A-Za-z][\w-]*
    title: str  # plain text, for the contents
    body: str  # XHTML-compatible fragment, with its own heading; images as ``Img.src`` values
    children: list[tuple[str, str]] = field(default_factory=list)  # (anchor, title) for the nav


@dataclass
class Doc:
    title: str
    lang: str = "en"
    author: str | None = None
    chapters: list[Chapter] = field(default_factory=list)
    images: dict[str, Path] = field(default_factory=dict)  # placeholder src → file on disk
    ident: str | None = None  # stable identifier (urn:uuid from the title when None)
    base: Path | None = None  # where relative links (a local video) are relative to

    def image(self, path: Path) -> str:
        """The placeholder ``src`` of a local image; each writer rewrites it for its format."""
        key = "v2a-img-" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16] \
            + path.suffix.lower()
        self.images[key] = path
        return key


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


# ---- the article as a Doc ------------------------------------------------------------------------


def section_html(s: Section, doc: Doc, level: int = 2, heading: str | None = None,
                 after_heading: str = "") -> str:
    """A chapter of an article as static HTML: heading with its moment, prose, figures, code."""
    h = f"h{level}"
    out = [f'<section id="{esc(s.anchor)}">',
           f'<{h}>{esc(heading or s.heading)}</{h}>',
           f'<p class="ts"><a href="{esc(s.href)}">{fmt_time(s.start)} – {fmt_time(s.end)}</a></p>',
           after_heading]
    out += [blocks_html(s, doc), "</section>"]
    return "\n".join(x for x in out if x)


def blocks_html(s: Section, doc: Doc) -> str:
    """A chapter's body (no heading): prose, keyframes and code in reading order."""
    out = []
    if s.status == "failed":
        out.append(f'<p class="failed">No text was written for this chapter ({esc(s.error)}).</p>')
    for b in s.blocks:
        if isinstance(b, Figure):
            out.append(figure_html(b, doc))
        elif isinstance(b, Code):
            out.append(code_html(b))
        else:
            out.append(str(prose_html(b)))
    return "\n".join(out)


def figure_html(f: Figure, doc: Doc) -> str:
    alt = esc(f.text[:300] if f.text else f"Frame at {fmt_time(f.time)}")
    return (f'<figure><img src="{doc.image(f.path)}" alt="{alt}"/>'
            f'<figcaption><a href="{esc(f.href)}">{fmt_time(f.time)}</a></figcaption></figure>')


def code_html(c: Code) -> str:
    lang = f' class="language-{esc(c.language)}"' if c.language.isidentifier() else ""
    return f"<pre><code{lang}>{esc(c.text)}</code></pre>"


def meta_html(a: Article) -> str:
    src, ui = a.source, a.ui
    bits = [f'{esc(ui.md_video)}: <a href="{esc(a.source_href)}">'
            f'{esc(src.title or src.media_path)}</a>']
    if a.duration:
        bits.append(f"{esc(ui.md_duration)}: {fmt_time(a.duration)}")
    if src.uploader:
        bits.append(f"{esc(ui.md_by)}: {esc(src.uploader)}")
    return f'<p class="meta">{" · ".join(bits)}</p>'


def doc_from_article(a: Article, base: Path | None = None) -> Doc:
    """The article (written in the folder ``base``) as a Doc: a title page with contents, then
    one chapter per section."""
    doc = Doc(title=a.title, lang=_lang(a.lang), author=a.source.uploader,
              ident=_ident(a.source.url or a.source.media_path or a.title),
              base=base)
    items = "".join(f'<li><a href="#{esc(s.anchor)}">{esc(s.title)}</a> '
                    f'<span class="ts">{fmt_time(s.start)}</span></li>' for s in a.sections)
    made = "; ".join(f"{esc(w)}: {esc(b)}" for w, b in provenance(a))
    doc.chapters.append(Chapter("title", a.title, (
        f"<h1>{esc(a.title)}</h1>\n{meta_html(a)}\n<h2>{esc(a.ui.contents)}</h2>\n"
        f"<ol>{items}</ol>\n<p class=\"meta\">v2a {esc(a.version)} ({made})</p>")))
    for s in a.sections:
        doc.chapters.append(Chapter(f"ch{s.number:03d}", s.heading, section_html(s, doc)))
    return doc


def _lang(code: str | None) -> str:
    """The primary language subtag (``zh`` for ``zh-TW``) the formats take; English for none."""
    lang = Language.of(code)
    return lang.base if lang is not None else "en"


def _ident(text: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, text))


def _resolve_anchors(doc: Doc) -> dict[str, str]:
    """Where each anchor lives (chapter id), so ``#anchor`` links can cross e-book files."""
    where: dict[str, str] = {}
    for ch in doc.chapters:
        where.setdefault(ch.id, ch.id)
        for m in re.finditer(r'\sid="([^"]+)"', ch.body):
            where.setdefault(m.group(1), ch.id)
    return where


_LOCAL_LINK = re.compile(r'<a href="(?![a-zA-Z][a-zA-Z0-9+.-]*:|#)([^"]+)">(.*?)</a>', re.S)


def _local_links(body: str, doc: Doc, keep: bool) -> str:
    """Links to local files (a local video, relative to the article): absolute ``file:`` URIs
    for print and DOCX (``keep``), plain text in an EPUB (nothing outside it can be opened)."""

    def fix(m: re.Match[str]) -> str:
        if keep and doc.base is not None:
            uri = (doc.base / unquote(html.unescape(m.group(1)))).resolve().as_uri()
            return f'<a href="{esc(uri)}">{m.group(2)}</a>'
        return f"<span>{m.group(2)}</span>"

    return _LOCAL_LINK.sub(fix, body)


def _images(body: str, doc: Doc, src: Callable[[str, Path], str]) -> str:
    for key, path in doc.images.items():
        if key in body:
            body = body.replace(f'src="{key}"', f'src="{esc(src(key, path))}"')
    return body


def single_html(doc: Doc, src: Callable[[str, Path], str], css: str = PRINT_CSS,
                title: bool = True) -> str:
    """The whole Doc as one HTML page (for print and pandoc); chapters after the first start
    on a new page."""
    parts = []
    for i, ch in enumerate(doc.chapters):
        cls = ' class="part"' if i else ""
        body = _local_links(_images(ch.body, doc, src), doc, True)
        parts.append(f'<div id="{esc(ch.id)}"{cls}>\n{body}\n</div>')
    return (f'<!doctype html>\n<html lang="{esc(doc.lang)}"><head><meta charset="utf-8"/>'
            + (f"<title>{esc(doc.title)}</title>" if title else "")
            + f"<style>{css}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


# ---- EPUB ------------------------------------------------------------------------------------------


def write_epub(doc: Doc, path: Path) -> None:
    """EPUB 3 with EbookLib: one XHTML file per chapter, a nav document, images packaged."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier(doc.ident or _ident(doc.title))
    book.set_title(doc.title)
    book.set_language(doc.lang)
    if doc.author:
        book.add_author(doc.author)
    css = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css",
                        content=PRINT_CSS.replace("margin-top: 30%", "margin-top: 20%").encode())
    book.add_item(css)
    names: dict[str, str] = {}
    for key, p in doc.images.items():
        if p.is_file():
            names[key] = f"images/{key}"
            book.add_item(epub.EpubImage(uid=key.replace(".", "-"), file_name=names[key],
                                         media_type=_mime(p), content=p.read_bytes()))
    where = _resolve_anchors(doc)

    def link(m: re.Match[str]) -> str:  # "#anchor" → "file.xhtml#anchor" across files
        anchor = m.group(2)
        target = where.get(anchor)
        return f'{m.group(1)}{target}.xhtml#{anchor}"' if target else m.group(0)

    items = []
    for ch in doc.chapters:
        body = _local_links(_images(ch.body, doc, lambda k, p: names.get(k, "")), doc, False)
        body = re.sub(r'(href=")#([^"]+)"', link, body)
        item = epub.EpubHtml(uid=ch.id, title=ch.title, file_name=f"{ch.id}.xhtml", lang=doc.lang)
        item.content = f"<html><head><title>{esc(ch.title)}</title></head><body>{body}</body></html>"
        item.add_item(css)
        book.add_item(item)
        items.append(item)
    toc: list = []
    for ch in doc.chapters:
        if ch.children:
            toc.append((epub.Section(ch.title, f"{ch.id}.xhtml"),
                        [epub.Link(f"{where.get(a, ch.id)}.xhtml#{a}", t, f"{ch.id}-{a}")
                         for a, t in ch.children]))
        else:
            toc.append(epub.Link(f"{ch.id}.xhtml", ch.title, ch.id))
    book.toc = toc
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    # the nav document is the reader's menu; the reading order starts on the title page (which
    # holds the contents already)
    book.spine = [("nav", "no"), *items]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    epub.write_epub(str(tmp), book, {"epub3_pages": False})
    os.replace(tmp, path)


def _mime(p: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(p.name)[0] or "image/jpeg"


# ---- PDF -------------------------------------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """A system Chromium when there is one (Debian's); else Playwright's own download."""
    env = os.environ.get("V2A_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def write_pdf(doc: Doc, path: Path) -> None:
    """Print the Doc with headless Chromium (Playwright): A4, backgrounds, page numbers."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _print_pdf(doc, path)
    # Playwright's sync API refuses a thread that runs an event loop (an async caller): print
    # from a thread of its own
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_print_pdf, doc, path).result()


def _print_pdf(doc: Doc, path: Path) -> None:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise V2AError("--format pdf needs Playwright and a Chromium: pip install 'v2a[export]' "
                       "and apt install chromium (or: playwright install chromium)") from None
    page_html = single_html(doc, lambda k, p: p.resolve().as_uri())
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="v2a-pdf-") as tmpdir:
        src = Path(tmpdir) / "print.html"
        src.write_text(page_html, "utf-8")
        tmp = path.with_name(path.name + ".tmp")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page()
                    page.goto(src.as_uri(), wait_until="load")
                    footer = ('<div style="font-size:8px;width:100%;text-align:center;color:#777">'
                              '<span class="pageNumber"></span> / <span class="totalPages"></span>'
                              "</div>")
                    page.pdf(path=str(tmp), format="A4", print_background=True,
                             display_header_footer=True, header_template="<span></span>",
                             footer_template=footer,
                             margin={"top": "18mm", "bottom": "18mm", "left": "16mm",
                                     "right": "16mm"})
                finally:
                    browser.close()
        except PlaywrightError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise V2AError(f"--format pdf: Chromium could not print ({first}); install one "
                           "(apt install chromium, or playwright install chromium) or set "
                           "V2A_CHROMIUM") from None
        os.replace(tmp, path)


# ---- DOCX ------------------------------------------------------------------------------------------


def pandoc_path() -> str | None:
    """pandoc from the pypandoc-binary wheel when installed, else one on PATH (Debian's)."""
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        return shutil.which("pandoc")


def write_docx(doc: Doc, path: Path) -> None:
    """Convert the one-page HTML to DOCX with pandoc (headings become Word's heading styles,
    so the navigation pane shows the contents; images embedded)."""
    exe = pandoc_path()
    if not exe:
        raise V2AError("--format docx needs pandoc: pip install 'v2a[export]' (pypandoc-binary) "
                       "or apt install pandoc")
    # no <title>: pandoc would make it a Title paragraph above the document's own heading
    page_html = single_html(doc, lambda k, p: str(p.resolve()), css="", title=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.docx")
    with tempfile.TemporaryDirectory(prefix="v2a-docx-") as tmpdir:
        src = Path(tmpdir) / "doc.html"
        src.write_text(page_html, "utf-8")
        proc = subprocess.run(
            [exe, str(src), "-f", "html", "-t", "docx", "-o", str(tmp),
             "--metadata", f"lang={doc.lang}"],
            capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise V2AError(f"--format docx: pandoc failed ({last})")
    os.replace(tmp, path)
