"""`python -m bench.bench_review`: how fast the review page of a 2-hour lecture is interactive.

A generated work folder of the size the issue names — 60 sections, 2,000 transcript segments,
150 keyframes, prose of a 2-hour talk, a 2-hour video, and review.json with edits, history,
comments, a proposal and stale marks — served by the real app (uvicorn on loopback), opened in
headless Chromium. Synthetic artifacts are fine here: this measures size, not quality.

Per load (cold: a new browser context; warm: a reload): the server's time to build the page,
navigation start → the page's script has wired everything (``data-ready``), DOMContentLoaded,
the longest main-thread task, and the first interactions: opening a section's editor deep in
the page, and a transcript line seeking the video. Results: bench/results/review.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import time
from pathlib import Path

from bench.metrics import machine

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

WORDS = ("token tokens byte bytes merge merges pair encoding vocabulary model text sequence "
         "unicode character characters frequent rule rules training split regex number numbers "
         "attention context length cost python string code point decoder encoder table").split()


def _sentence(rng: random.Random, n: int) -> str:
    w = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(w).capitalize() + "."


def video(seconds: int) -> Path:
    """A 2-hour video, small: 1 frame per second, 320x180, silent (cached)."""
    p = CACHE / f"review-{seconds}s.mp4"
    if not p.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=s=320x180:r=1:d={seconds}", "-f", "lavfi", "-i",
                        f"anullsrc=r=16000:cl=mono:d={seconds}", "-c:v", "libx264",
                        "-preset", "ultrafast", "-tune", "stillimage", "-g", "10",
                        "-c:a", "aac", "-b:a", "16k", "-shortest", str(p)], check=True)
    return p


def make_workdir(root: Path, sections: int = 60, segments: int = 2000, keyframes: int = 150,
                 seconds: int = 7200, seed: int = 1) -> Path:
    """A work folder of a 2-hour lecture with the given sizes (and a review under way)."""
    import shutil

    from PIL import Image, ImageDraw

    from v2a.edits.models import Comment, Proposal, Review, SectionReview, Version
    from v2a.models import (
        ChapterText,
        Draft,
        Outline,
        OutlineChapter,
        Scene,
        Scenes,
        Segment,
        Source,
        Transcript,
    )
    from v2a.workspace import Workspace, write_json

    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    ws = Workspace(root).ensure()
    media = root / "media" / "lecture.mp4"
    media.parent.mkdir(parents=True)
    shutil.copy(video(seconds), media)
    step = seconds / segments
    segs = [Segment(id=i, start=round(i * step, 2), end=round((i + 1) * step - 0.3, 2),
                    text=" " + _sentence(rng, rng.randint(8, 20))) for i in range(segments)]
    per = segments // sections
    chapters, texts = [], []
    for k in range(sections):
        a, b = k * per, (segments - 1 if k == sections - 1 else (k + 1) * per - 1)
        ch = OutlineChapter(index=k, title=f"{_sentence(rng, 4)[:-1]} ({k + 1})",
                            summary=_sentence(rng, 12), first_segment=a, last_segment=b,
                            start=segs[a].start, end=segs[b + 1].start if b + 1 < segments
                            else float(seconds))
        chapters.append(ch)
        paras = ["\n".join(_sentence(rng, rng.randint(10, 22)) for _ in range(4))
                 for _ in range(rng.randint(3, 5))]
        if k % 4 == 0:
            paras.insert(2, "```python\nfor pair in merges:\n    ids = merge(ids, pair)\n```")
        if k % 5 == 0:
            paras.insert(1, "- " + "\n- ".join(_sentence(rng, 6) for _ in range(3)))
        texts.append(ChapterText(index=k, title=ch.title, start=ch.start, end=ch.end,
                                 markdown="\n\n".join(paras)))
    (root / "keyframes").mkdir()
    scenes = []
    span = seconds / keyframes
    for i in range(keyframes):
        rel = f"keyframes/scene-{i:03d}.jpg"
        im = Image.new("RGB", (640, 360), (20 + i % 60, 40, 90))
        ImageDraw.Draw(im).text((30, 160), f"Slide {i + 1}: {_sentence(rng, 5)}", fill="white")
        im.save(root / rel, "JPEG", quality=70)
        scenes.append(Scene(index=i, start=round(i * span, 2), end=round((i + 1) * span, 2),
                            keyframe=rel, keyframe_time=round(i * span + 1, 2)))
    write_json(ws.source_json, Source(input=str(media), id="lecture", title="A two-hour lecture "
                                      "on tokenization", kind="local",
                                      media_path="media/lecture.mp4", duration=float(seconds)))
    write_json(ws.path("transcript.json"), Transcript(language="en", origin="asr",
                                                      backend="faster-whisper", model="tiny.en",
                                                      duration=float(seconds), segments=segs))
    write_json(ws.path("scenes.json"), Scenes(scenes=scenes))
    write_json(ws.path("outline.json"), Outline(method="llm", model="bench", chapters=chapters))
    write_json(ws.path("chapters.json"), Draft(lang="en", model="bench", chapters=texts))
    # a review half done: statuses, edits with history, comments, a proposal, stale marks
    review = Review()
    now = "2026-01-01T10:00:00"
    for k, ch in enumerate(chapters):
        rec = SectionReview(key=str(ch.first_segment), rev=k % 7,
                            status=("approved", "reviewed", "draft")[k % 3])
        if k % 6 == 0:
            edited = texts[k].markdown.replace("token", "TOKEN")
            rec.title, rec.markdown = ch.title + " (edited)", edited
            rec.base_title, rec.base_markdown, rec.base_sha = ch.title, texts[k].markdown, "0" * 64
            rec.history = [Version(n=1, at=now, kind="generated", title=ch.title,
                                   markdown=texts[k].markdown),
                           Version(n=2, at=now, kind="edit", title=rec.title, markdown=edited)]
        if k % 10 == 3:
            rec.comments = [Comment(id=f"c{k}", time=ch.start + 5, text="Check this claim.",
                                    at=now)]
        if k == 20:
            rec.proposal = Proposal(id="p1", markdown=texts[k].markdown[::-1][:400], at=now)
        if k % 15 == 7:
            rec.stale = ["transcript: “parent coding” → “byte pair encoding”"]
        review.sections[rec.key] = rec
    write_json(ws.path("review.json"), review)
    return root


def measure(root: Path, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    from v2a.config import Config
    from v2a.review.hub import open_hub
    from v2a.review.page import PageBuilder
    from v2a.review.server import serve_in_thread

    hub = open_hub(root, lambda ws: Config(workdir=ws.root, quiet=True))
    vid = next(iter(hub.videos))
    session = hub.session(vid)
    build = []
    for _ in range(runs):
        t0 = time.perf_counter()
        html = PageBuilder(session, vid).render_page("x", home=False)
        build.append(time.perf_counter() - t0)
    out: dict = {"page_bytes": len(html.encode()), "server_build_ms": _stats(build, 1000)}
    loads: dict[str, list[dict]] = {"cold": [], "warm": []}
    with serve_in_thread(hub) as s, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for _ in range(runs):
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                page = ctx.new_page()
                page.add_init_script(_LONGTASKS)
                page.goto(s.url)
                page.wait_for_selector("html[data-ready='1']")
                loads["cold"].append(_timings(page))
                page.reload()
                page.wait_for_selector("html[data-ready='1']")
                loads["warm"].append(_timings(page))
                if not out.get("dom_nodes"):
                    out["dom_nodes"] = page.evaluate("document.getElementsByTagName('*').length")
                    out["sections"] = page.locator("section.sec").count()
                    out["transcript_lines"] = page.locator("ol.lines li").count()
                    out["figures"] = page.locator("section.sec figure").count()
                ctx.close()
        finally:
            browser.close()
    for kind, rows in loads.items():
        out[kind] = {k: _stats([r[k] for r in rows]) for k in rows[0]}
    hub.close()
    return out


_LONGTASKS = """
window.__longest = 0;
try {
  new PerformanceObserver((l) => { for (const e of l.getEntries())
    window.__longest = Math.max(window.__longest, e.duration); })
    .observe({ type: "longtask", buffered: true });
} catch (e) {}
"""


def _timings(page) -> dict:
    nav = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd }; })()")
    ready = page.evaluate("window.__v2aReady")
    # first interactions, deep in the page: open section 45's editor; seek from a line
    t_edit = page.evaluate("""async () => {
        const sec = document.querySelectorAll('section.sec')[44];
        sec.scrollIntoView();
        const t0 = performance.now();
        sec.querySelector("button[data-act=edit]").click();
        while (!sec.querySelector('textarea.md')) await new Promise(r => setTimeout(r, 1));
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t0; }""")
    t_seek = page.evaluate("""async () => {
        const sec = document.querySelectorAll('section.sec')[50];
        const d = sec.querySelector('details.transcript'); d.open = true;
        const li = sec.querySelectorAll('ol.lines li')[3];
        const v = document.getElementById('player');
        const t0 = performance.now();
        li.click();
        await new Promise(r => v.addEventListener('seeked', r, { once: true }));
        return performance.now() - t0; }""")
    longest = page.evaluate("window.__longest")
    return {"ready_ms": ready, "dom_content_loaded_ms": nav["dcl"], "load_ms": nav["load"],
            "longest_task_ms": longest, "open_editor_ms": t_edit, "seek_from_line_ms": t_seek}


def _stats(xs: list[float], scale: float = 1.0) -> dict:
    xs = [x * scale for x in xs]
    return {"median": round(statistics.median(xs), 1), "max": round(max(xs), 1),
            "min": round(min(xs), 1)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_review", description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sections", type=int, default=60)
    ap.add_argument("--segments", type=int, default=2000)
    ap.add_argument("--keyframes", type=int, default=150)
    ap.add_argument("--out", type=Path, default=RESULTS / "review.json")
    args = ap.parse_args(argv)
    root = make_workdir(CACHE / "review-2h", args.sections, args.segments, args.keyframes)
    res = {"command": "python -m bench.bench_review" + (f" --runs {args.runs}"
                                                         if args.runs != 5 else ""),
           "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"),
           "size": {"sections": args.sections, "segments": args.segments,
                    "keyframes": args.keyframes, "video_s": 7200},
           "goal": "interactive in < 1000 ms (ready_ms, cold)", **measure(root, args.runs)}
    res["ok"] = res["cold"]["ready_ms"]["max"] < 1000
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
