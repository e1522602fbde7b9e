"""What is on screen, in the article: code copied verbatim, terms spelled right, transcript
WER with and without the screen's glossary, chapter F1, and what OCR costs per minute.

    .venv/bin/python -m bench.bench_screen [--parts asr article]

On the generated talk (``v2a.samples_talk``: notebook cells, an editor, a browser page and prose
slides; known code and terms). ``asr``: transcripts only, Whisper tiny.en and base, with and
without the glossary (respelling, and hints to Whisper). ``article``: the whole run with OCR off
and on (the default). Measured from the artifacts a reader gets, with checks written here:

* code lines recovered verbatim: each non-empty code line shown on screen (indentation
  included) found as a whole line of article.md;
* term recall: each known term found, spelled exactly, in article.md (and in the transcript);
* WER of the transcript against the script; chapter F1 at ±5 s;
* OCR seconds per minute of video.

Writes bench/results/screen.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.metrics import boundary_prf, machine, wer
from v2a.models import Outline, Screen, Transcript
from v2a.workspace import read_model

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"


def talk() -> tuple[Path, dict]:
    from v2a.samples_talk import make_talk

    p = CACHE / "talk.mp4"
    if not p.exists() or not p.with_suffix(".talk.json").exists():
        make_talk(p)
    return p, json.loads(p.with_suffix(".talk.json").read_text())


def v2a(*args: str) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                       text=True)
    return p.returncode, round(time.perf_counter() - t0, 1), (p.stdout + p.stderr)[-1500:]


def code_lines(truth: dict) -> list[str]:
    return [ln for sc in truth["screens"] for ln in sc["code"] if ln.strip()]


def transcript_metrics(wd: Path, truth: dict) -> dict:
    tr = read_model(wd / "transcript.json", Transcript)
    script = " ".join(s["text"] for sec in truth["sections"] for s in sec["sentences"])
    spoken_terms = [t for t in truth["terms"] if t.lower() in script.lower()]
    return {"wer": round(wer(tr.text, script), 3),
            "terms_in_transcript": round(sum(t in tr.text for t in spoken_terms)
                                         / max(1, len(spoken_terms)), 3),
            "respelled": len(tr.corrections), "corrections": tr.corrections[:20],
            "asr_s": tr.timings.get("asr_s")}


def article_metrics(wd: Path, truth: dict) -> dict:
    md = (wd / "article.md").read_text("utf-8")
    lines = {ln.rstrip() for ln in md.splitlines()}
    shown = code_lines(truth)
    outline = read_model(wd / "outline.json", Outline)
    out = {"code_lines_verbatim": round(sum(ln in lines for ln in shown) / len(shown), 3),
           "code_lines": len(shown),
           "term_recall": round(sum(t in md for t in truth["terms"]) / len(truth["terms"]), 3),
           "chapter_f1_5s": boundary_prf([c.start for c in outline.chapters],
                                         [s["start"] for s in truth["sections"]], 5.0)}
    if (wd / "screen.json").exists():
        screen = read_model(wd / "screen.json", Screen)
        if screen.engine:
            out["ocr_s"] = screen.timings.get("ocr_s")
            out["ocr_s_per_video_minute"] = round(
                (screen.timings.get("ocr_s") or 0) / (truth["duration"] / 60), 1)
            out["frames_read"] = screen.timings.get("frames")
            out["code_blocks"] = len(screen.code)
            out["terms_found"] = screen.terms[:15]
    return out


ASR_RUNS = {
    "tiny.en, no glossary": ["--whisper-model", "tiny.en", "--no-fix-terms",
                             "--whisper-hints", "off"],
    "tiny.en, respelled (default)": ["--whisper-model", "tiny.en"],
    "tiny.en, respelled + hints": ["--whisper-model", "tiny.en", "--whisper-hints", "on"],
    "base, no glossary": ["--whisper-model", "base", "--no-fix-terms", "--whisper-hints", "off"],
    "base, respelled": ["--whisper-model", "base"],
    "base, respelled + hints": ["--whisper-model", "base", "--whisper-hints", "on"],
}
ARTICLE_RUNS = {"ocr off": ["--ocr", "none", "--no-fix-terms"], "ocr on (default)": []}
# the default run is the same as bench_chapters' embedded-video run: reused when it is there
SHARED = {"ocr on (default)": CACHE / "chap-embedded-video"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", nargs="+", default=["asr", "article"], choices=["asr", "article"])
    args = ap.parse_args()
    video, truth = talk()
    res: dict = {"command": "python -m bench.bench_screen --parts " + " ".join(args.parts),
                 "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"),
                 "talk_s": truth["duration"], "asr": {}, "article": {}}
    prev = RESULTS / "screen.json"
    if prev.exists():
        old = json.loads(prev.read_text())
        res["asr"], res["article"] = old.get("asr", {}), old.get("article", {})
    # one OCR pass shared by the transcript runs (the screen stage is cached between them)
    media = CACHE / "screen-media"
    if "asr" in args.parts:
        shutil.rmtree(media, ignore_errors=True)
        for name, flags in ASR_RUNS.items():
            print(f"== {name}", flush=True)
            rc, wall, tail = v2a("transcribe", str(video), "--workdir", str(media), "-q", *flags)
            res["asr"][name] = ({"error": tail} if rc else
                                {**transcript_metrics(media, truth), "wall_s": wall})
            print(json.dumps(res["asr"][name])[:400], flush=True)
            RESULTS.mkdir(parents=True, exist_ok=True)
            prev.write_text(json.dumps(res, indent=1, ensure_ascii=False))
    if "article" in args.parts:
        for name, flags in ARTICLE_RUNS.items():
            print(f"== article, {name}", flush=True)
            wd = CACHE / f"screen-{'off' if 'off' in name else 'on'}"
            shared = SHARED.get(name)
            if shared is not None and (shared / "article.md").exists():
                wd, rc, wall, tail = shared, 0, None, ""
            else:
                shutil.rmtree(wd, ignore_errors=True)
                rc, wall, tail = v2a("run", str(video), "--workdir", str(wd), "-q", *flags)
            res["article"][name] = ({"error": tail} if rc else
                                    {**article_metrics(wd, truth),
                                     **transcript_metrics(wd, truth), "wall_s": wall})
            print(json.dumps(res["article"][name])[:600], flush=True)
            RESULTS.mkdir(parents=True, exist_ok=True)
            prev.write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
