"""The book of a 20-video batch: time and memory to build it, to rebuild it after one video
changes or one is added, and the index's precision on talks with known definitions.

`python -m bench.bench_book [--videos 20] [--formats markdown,html,epub,pdf,docx,obsidian]`

The batch folder is generated (``tests/fixtures/course.py``): finished work folders with real
JPEG keyframes, transcripts, outlines and chapters, each video explaining two terms in one of
seven phrasings (two of them outside the index's definition forms, on purpose) and using the
terms of earlier parts. No media pipeline runs: the book reads artifacts only. Each build runs
in its own process, watched with ``bench.procmon.TreeMonitor`` (peak RSS of the process and of
its children: Chromium for the PDF, pandoc for the DOCX). Writes bench/results/book.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def _phase(root: str, formats: str) -> None:
    """One build in this process; prints its BookResult as JSON."""
    from v2a.book.build import build_book

    r = build_book(Path(root), formats.split(","))
    print(json.dumps({"parts": r.parts, "reread": r.reread, "written": r.written,
                      "index_terms": r.index_terms, "crossrefs": r.crossrefs,
                      "timings": r.timings}))


def run_phase(root: Path, formats: str) -> dict:
    from bench.procmon import TreeMonitor

    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bench_book", "_phase", str(root),
                             formats], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    with TreeMonitor(proc.pid, interval=0.05) as mon:
        out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"build failed ({proc.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    res["wall_s"] = round(time.perf_counter() - t, 2)  # with interpreter start and imports
    res["peak_rss_mb"] = {"python": round(mon.peak() / 2**20, 1),
                          "chromium": round(mon.peak_matching("chrom") / 2**20, 1) or None,
                          "pandoc": round(mon.peak_matching("pandoc") / 2**20, 1) or None}
    return res


def index_quality(root: Path, truth: dict) -> dict:
    """Precision: index entries whose first place (where the term is explained, else its first
    mention) is the chapter that explains it in the script. Recall: of the script's explained
    terms, those the index sends to the right chapter."""
    from v2a.book import terms as T
    from v2a.book.models import PartData

    parts = sorted((PartData.model_validate_json(p.read_text("utf-8"))
                    for p in (root / "book" / ".cache").glob("*.json")), key=lambda p: p.folder)
    index = T.build_index(parts, [])
    right = [e for e in index if e.term in truth
             and (e.home.part, e.home.chapter) == (truth[e.term].part, truth[e.term].chapter)]
    explained = [e for e in index if e.home.defined]
    explained_right = [e for e in right if e.home.defined]
    xrefs = T.crossrefs(parts, index)
    # a cross-reference is right when it points to where the script explains the term
    refs = [(k, e) for k, es in xrefs.items() for e in es]
    refs_right = [1 for (_, e) in refs if e.term in truth
                  and (e.home.part, e.home.chapter) == (truth[e.term].part, truth[e.term].chapter)]
    return {
        "index_entries": len(index), "script_terms": len(truth),
        "precision": round(len(right) / len(index), 3) if index else None,
        "recall": round(len(right) / len(truth), 3),
        "explained_entries": len(explained),
        "explained_precision": round(len(explained_right) / len(explained), 3)
        if explained else None,
        "not_in_script": sorted(e.term for e in index if e.term not in truth),
        "wrong_home": sorted(e.term for e in index if e.term in truth and e not in right),
        "missed": sorted(set(truth) - {e.term for e in index}),
        "crossrefs": len(refs), "crossrefs_max_per_chapter": max(map(len, xrefs.values()),
                                                                  default=0),
        "crossrefs_precision": round(len(refs_right) / len(refs), 3) if refs else None,
    }


def screenshots(book: Path) -> list[str]:
    """The EPUB as a browser engine shows it (Chromium on its part file, with the book's CSS)
    and the PDF's pages as PDFium renders them: bench/results/book-epub.png, book-pdf.png."""
    import zipfile

    import pypdfium2 as pdfium
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from v2a.render.export import CHROMIUM_ARGS, chromium_path

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(book / "book.epub") as z:
            z.extractall(tmp)
        shots = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 640, "height": 900})
            for name in ("front.xhtml", "part-2.xhtml", "index.xhtml"):
                page.goto((Path(tmp) / "EPUB" / name).as_uri())
                shot = Path(tmp) / f"{name}.png"
                page.screenshot(path=str(shot))
                shots.append(Image.open(shot).convert("RGB"))
            browser.close()
        _row(shots, RESULTS / "book-epub.png")
        out.append("bench/results/book-epub.png")
    pdf = pdfium.PdfDocument(str(book / "book.pdf"))
    texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    part2 = next(i for i, t in enumerate(texts) if "See also" in t)
    contents = next(i for i, t in enumerate(texts) if "Contents" in t)
    pages = [pdf[i].render(scale=0.9).to_pil().convert("RGB")
             for i in (0, contents, part2, len(pdf) - 2)]
    _row(pages, RESULTS / "book-pdf.png")
    out.append("bench/results/book-pdf.png")
    return out


def _row(images: list, path: Path) -> None:
    from PIL import Image

    h = min(im.height for im in images)
    images = [im.resize((int(im.width * h / im.height), h)) for im in images]
    row = Image.new("RGB", (sum(im.width for im in images) + 10 * (len(images) - 1), h), "gray")
    x = 0
    for im in images:
        row.paste(im, (x, 0))
        x += im.width + 10
    row.save(path, optimize=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_phase":
        _phase(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=20)
    ap.add_argument("--formats", default="markdown,html,epub,pdf,docx,obsidian")
    args = ap.parse_args()
    import os

    from tests.fixtures.course import make_course, make_video
    from v2a.batch.state import BatchState, EntryState
    from v2a.workspace import read_model, write_json

    load = [round(os.getloadavg()[0], 1)]  # the machine is shared: timings move with its load
    with tempfile.TemporaryDirectory(prefix="v2a-bench-book-") as tmp:
        root = Path(tmp) / "course"
        t = time.perf_counter()
        truth = make_course(root, args.videos)
        made = round(time.perf_counter() - t, 2)
        phases = {"full": run_phase(root, args.formats)}
        phases["unchanged"] = run_phase(root, args.formats)
        # one video re-run: its chapters changed
        ch = root / "videos" / "10-lesson-10" / "chapters.json"
        data = json.loads(ch.read_text())
        data["chapters"][1]["markdown"] += "\n\nOne more paragraph after a re-run."
        ch.write_text(json.dumps(data))
        phases["one_changed"] = run_phase(root, args.formats)
        # one video added at the end of the playlist
        n = args.videos + 1
        slug = f"{n:02d}-lesson-{n}"
        for term, where in make_video(root / "videos" / slug, n, n).items():
            truth.setdefault(term, where)  # a term explained again: the first place counts
        state = read_model(root / "batch.json", BatchState)
        state.entries[slug] = EntryState(key=slug, index=n, id=slug, title=f"Lesson {n}",
                                         url="u", workdir=f"videos/{slug}", status="done")
        write_json(root / "batch.json", state)
        phases["one_added"] = run_phase(root, args.formats)
        sizes = {p.name: p.stat().st_size for p in (root / "book").glob("book.*")}
        pages = None
        if (root / "book" / "book.pdf").exists():
            import pypdfium2 as pdfium

            pages = len(pdfium.PdfDocument(str(root / "book" / "book.pdf")))
        quality = index_quality(root, truth)
        shots = screenshots(root / "book") if pages else []
    out = {
        "what": f"book of a {args.videos}-video generated course (3 chapters, 90 s, 3 keyframes "
                "each), then rebuilt unchanged, after one video changed, after one was added",
        "command": f"python -m bench.bench_book --videos {args.videos} --formats {args.formats}",
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs (shared, busy)",
        "load_average_1m": load + [round(os.getloadavg()[0], 1)],
        "generate_s": made, "phases": phases, "files_bytes": sizes, "pdf_pages": pages,
        "index": quality, "screenshots": shots,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "book.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
