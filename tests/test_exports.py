"""EPUB, PDF, DOCX and the Obsidian folder from real work folders, each read back and validated:
the EPUB's container structure and EPUBCheck (when Java and epubcheck are installed), the PDF's
pages rendered by PDFium (non-blank, with the chapters' text), the DOCX read by python-docx."""

from __future__ import annotations

import builtins
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.render import context, synthetic_workdir
from v2a.errors import V2AError
from v2a.render import export
from v2a.render.article import Article
from v2a.render.stage import load_article, run
from v2a.workspace import Workspace

EXAMPLE = Path(__file__).parent.parent / "examples" / "notebook-talk"
EPUBCHECK = next((p for p in ("/usr/share/java/epubcheck.jar", "/usr/bin/epubcheck")
                  if Path(p).is_file()), None)


def example(tmp_path: Path) -> Workspace:
    """A copy of the committed example's artifacts (not its video: exports never read it)."""
    dst = tmp_path / "talk"
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns("*.mp4", "*.wav", ".v2a"))
    return Workspace(dst)


def check_epub(path: Path, article: Article) -> None:
    """The OCF container by the spec: ``mimetype`` first and stored, container.xml → OPF with
    a nav document; EbookLib opens it; every chapter and keyframe is inside; EPUBCheck passes."""
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/epub+zip"
        container = z.read("META-INF/container.xml").decode()
        opf_path = re.search(r'full-path="([^"]+)"', container).group(1)
        opf = z.read(opf_path).decode()
        assert 'version="3.0"' in opf and 'properties="nav"' in opf
        names = z.namelist()
    from ebooklib import ITEM_DOCUMENT, ITEM_IMAGE, epub

    book = epub.read_epub(str(path))
    docs = [i for i in book.get_items_of_type(ITEM_DOCUMENT)
            if not isinstance(i, epub.EpubNav)]
    text = " ".join(i.get_content().decode() for i in docs)
    for s in article.sections:
        assert re.sub(r"\s+", " ", s.title.replace("&", "&amp;").replace("<", "&lt;")) in \
            re.sub(r"\s+", " ", text)
    figures = {f.path.resolve() for s in article.sections for f in s.figures}
    assert len(list(book.get_items_of_type(ITEM_IMAGE))) == len(figures) > 0
    assert all(n.startswith(("mimetype", "META-INF/", "EPUB/")) for n in names)
    if EPUBCHECK and shutil.which("java"):
        out = subprocess.run(["java", "-jar", EPUBCHECK, str(path)], capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "No errors or warnings detected" in out.stdout + out.stderr


def check_pdf(path: Path, article: Article) -> None:
    """Each page rendered by PDFium: ink on every page, the chapters' titles in the text."""
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(str(path))
    assert len(pdf) >= len(article.sections)
    text = ""
    for page in pdf:
        image = page.render(scale=0.5).to_pil().convert("L")
        lo, hi = image.getextrema()
        assert hi - lo > 100, "a blank page"
        text += page.get_textpage().get_text_range() + "\n"
    flat = " ".join(text.split())
    for s in article.sections:
        assert " ".join(s.title.split()) in flat


def check_docx(path: Path, article: Article) -> None:
    docx = pytest.importorskip("docx")
    d = docx.Document(str(path))
    heads = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert heads[0] == article.title
    for s in article.sections:
        assert s.heading in heads
    figures = {f.path.resolve() for s in article.sections for f in s.figures}
    assert len(d.inline_shapes) == sum(len(s.figures) for s in article.sections) >= len(figures)


def has_chromium() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return export.chromium_path() is not None


def test_exports_of_the_example_are_valid(tmp_path):
    ws = example(tmp_path)
    formats = ["epub", "docx", "obsidian"] + (["pdf"] if has_chromium() else [])
    ctx = context(ws, formats=formats)
    result = run(ctx)
    assert "chapters" in result.detail
    article = load_article(ctx)
    check_epub(ws.path("article.epub"), article)
    check_docx(ws.path("article.docx"), article)
    if "pdf" in formats:
        check_pdf(ws.path("article.pdf"), article)
    # the vault: every wikilink of the index is a note, every embedded image a file
    vault = ws.path("obsidian")
    index = (vault / "index.md").read_text()
    links = re.findall(r"\[\[([^|\]]+)", index)
    assert len(links) == len(article.sections)
    for name in links:
        note = (vault / f"{name}.md").read_text()
        assert note.startswith("---\ntitle: ")
        for img in re.findall(r"!\[\[([^\]]+)\]\]", note):
            assert (vault / img).is_file()
    assert len(list((vault / "attachments").iterdir())) > 0


def test_outside_text_cannot_break_the_epub(tmp_path):
    """The synthetic folder's titles and prose carry HTML/Markdown injections: the EPUB still
    validates, no script gets in, and a link to the local video is not a dangling reference."""
    ws = synthetic_workdir(tmp_path / "w")
    ctx = context(ws, formats=["epub", "docx"])
    run(ctx)
    article = load_article(ctx)
    check_epub(ws.path("article.epub"), article)
    with zipfile.ZipFile(ws.path("article.epub")) as z:
        body = " ".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert not re.search(r"(?i)<script|<[^>]*\son\w+=", body)  # as text only (&lt;img …)
    assert "onerror" in body
    assert "talk%20video.mp4" not in body  # outside the package: plain text, not a link
    import docx

    assert docx.Document(str(ws.path("article.docx"))).paragraphs


def test_pdf_without_playwright_fails_with_one_line(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_playwright(name, *args, **kwargs):
        if name.startswith("playwright"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_playwright)
    ws = synthetic_workdir(tmp_path / "w")
    with pytest.raises(V2AError) as e:
        run(context(ws, formats=["pdf"]))
    assert "v2a[export]" in str(e.value) and "\n" not in str(e.value)


def test_docx_without_pandoc_fails_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "pandoc_path", lambda: None)
    ws = synthetic_workdir(tmp_path / "w")
    with pytest.raises(V2AError) as e:
        run(context(ws, formats=["docx"]))
    assert "pandoc" in str(e.value) and "\n" not in str(e.value)


def test_formats_comma_separated_with_md(tmp_path):
    from v2a.config import Config

    assert Config(formats=["md,html", "epub", "pdf,docx"]).formats == [
        "markdown", "html", "epub", "pdf", "docx"]
    with pytest.raises(ValueError, match="--format 'nope' is not one of"):
        Config(formats=["md,nope"])


def test_publish_in_every_format_from_the_command_line(tmp_path):
    """`v2a publish DIR --format md,html,epub,docx,obsidian` (the same option as `v2a run`)."""
    ws = example(tmp_path)
    out = subprocess.run([sys.executable, str(Path(__file__).parent.parent / "cli.py"), "publish",
                          str(ws.root), "--format", "md,html,epub,docx,obsidian", "--force"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("article.md", "article.html", "article.epub", "article.docx",
                 "obsidian/index.md"):
        assert ws.path(name).is_file(), name


@pytest.mark.skipif(not has_chromium(), reason="needs Playwright and a Chromium")
def test_pdf_from_inside_an_event_loop(tmp_path):
    """An async caller (a web app) can print: Playwright's sync API runs on a thread of its own."""
    import asyncio

    ws = synthetic_workdir(tmp_path / "w")
    ctx = context(ws, formats=["pdf"])
    article = load_article(ctx)

    async def main():
        export.write_pdf(export.doc_from_article(article, ws.root), ws.path("article.pdf"))

    asyncio.run(main())
    assert ws.path("article.pdf").read_bytes().startswith(b"%PDF")


def test_a_bad_format_in_a_list_is_one_usage_line(tmp_path):
    out = subprocess.run([sys.executable, str(Path(__file__).parent.parent / "cli.py"), "run",
                          "x.mp4", "--format", "md,epub,nope"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert "'nope' is not one of: markdown, html, epub" in lines[0] and "--help" in lines[0]
