"""How often the first run leaves a chapter unwritten, and on which check.

    .venv/bin/python -m bench.bench_first_run [--material examples/notebook-talk ...]
        [--threads N] [--concurrency 2]

For each work folder (transcript made; the outline first where missing), the write stage runs with the
embedded model and an empty LLM cache, so every chapter is asked afresh. Each chapter's notes
say which tries were rejected and why, so one run gives both figures:

* **before** (two tries, the policy until #19): a chapter whose second reply was rejected;
* **after** (three tries: as asked, warmer, the reply shown back with its fault): a chapter
  still failed.

The first two tries are the same requests under both policies (same prompt, temperature and
seed), so the "before" count is what the old code would have got on this CPU in this run.

Writes bench/results/first-run.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.metrics import machine
from v2a.config import Config
from v2a.models import Draft
from v2a.workspace import read_model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MATERIAL = ("examples/notebook-talk", "examples/tokenization-lecture")
KEEP = ("transcript.json", "outline.json", "source.json", "screen.json", "scenes.json")


def _reason(note: str) -> str:
    """The check behind a rejection note, without the reply it quotes."""
    m = re.search(r"rejected: (.*)$", note)
    text = m.group(1) if m else note
    return re.split(r"[:(]", text, maxsplit=1)[0].strip()


def run_one(src: Path, threads: int | None, concurrency: int) -> dict:
    from v2a.pipeline import StageContext, run_stage
    from v2a.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="v2a-first-run-") as tmp:
        wd = Path(tmp) / "ws"
        wd.mkdir()
        for name in KEEP:
            if (src / name).exists():
                shutil.copy(src / name, wd / name)
        if (src / "keyframes").exists():
            shutil.copytree(src / "keyframes", wd / "keyframes")
        cfg = Config(workdir=wd, quiet=True, local_threads=threads, llm_concurrency=concurrency)
        ctx = StageContext(ws=Workspace(wd).ensure(), config=cfg, src=str(wd))
        try:
            if not (wd / "outline.json").exists():
                # material kept before its outline was made (bench/.cache/cuts-*): outline first
                run_stage(ctx, "outline")
        except BaseException:
            ctx.close()
            raise
        t0 = time.perf_counter()
        try:
            report = run_stage(ctx, "write")
        finally:
            ctx.close()
        wall = time.perf_counter() - t0
        draft = read_model(wd / "chapters.json", Draft)
    chapters = []
    for c in draft.chapters:
        rejected = [n for n in c.notes if "rejected" in n]
        chapters.append({"index": c.index, "status": c.status, "tries": c.usage.calls,
                         "rejected": [_reason(n) for n in rejected],
                         "salvaged": any("kept the usable part" in n for n in c.notes),
                         "error": c.error})
    n = len(chapters)
    before = sum(1 for c in chapters if len(c["rejected"]) >= 2)
    after = sum(1 for c in chapters if c["status"] == "failed")
    return {"material": str(src.relative_to(ROOT) if src.is_relative_to(ROOT) else src),
            "chapters": n, "failed_before": before, "failed_after": after,
            "first_try_ok": sum(1 for c in chapters if not c["rejected"]),
            "reasons": dict(Counter(r for c in chapters for r in c["rejected"])),
            "calls": draft.usage.calls, "wall_s": round(wall, 1), "stage": report.status,
            "detail": report.detail, "per_chapter": chapters}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--material", nargs="+", default=list(MATERIAL))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    runs = []
    for m in args.material:
        r = run_one((ROOT / m).resolve(), args.threads, args.concurrency)
        print(json.dumps({k: v for k, v in r.items() if k != "per_chapter"}), flush=True)
        runs.append(r)
    total = sum(r["chapters"] for r in runs)
    out = {"command": "python -m bench.bench_first_run " + " ".join(
               f"--material {m}" for m in args.material),
           "machine": machine(), "threads": args.threads, "concurrency": args.concurrency,
           "chapters": total,
           "failed_first_run_before": sum(r["failed_before"] for r in runs),
           "failed_first_run_after": sum(r["failed_after"] for r in runs),
           "runs": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "first-run.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"chapters {total}: failed on the first run before {out['failed_first_run_before']}, "
          f"after {out['failed_first_run_after']}")


if __name__ == "__main__":
    main()
