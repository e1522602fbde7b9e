"""Naming chapters from less of their text (#24): outline time and tokens against title quality.

    .venv/bin/python -m bench.bench_naming WORKDIR SCRIPT [--caps full 400 250]

For each cap (tokens of a chapter's beginning that its naming call reads; ``full``: as much as
the context holds, the default), WORKDIR's inputs are copied into a fresh folder (its own LLM
cache) and the outline stage runs with the embedded default. Chapter starts come from code, so
they are the same in every variant and only the names differ. Reported: the stage's wall time,
its prompt and completion tokens, and the titles against the truth — for each chapter, whether
its title shares a content word (stemmed) with the true section it covers most, and whether it
is the same title as with the whole text.

Writes bench/results/naming.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.metrics import boundary_prf, machine
from v2a.checks.numbers import tokens
from v2a.config import Config
from v2a.models import Outline
from v2a.workspace import read_model

RESULTS = Path(__file__).resolve().parent / "results"
INPUTS = ("source.json", "audio.wav", "scenes.json", "screen.json", "transcript.json",
          "keyframes", "run.json", ".v2a")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in tokens(text) if len(w) > 2}


def title_agreement(outline: Outline, truth: list[dict], duration: float) -> float:
    """The share of chapters whose title shares a stemmed content word with the true section
    it overlaps most."""
    bounds = [(t["start"], truth[k + 1]["start"] if k + 1 < len(truth) else duration, t["title"])
              for k, t in enumerate(truth)]
    hits = 0
    for ch in outline.chapters:
        best = max(bounds, key=lambda b: min(ch.end, b[1]) - max(ch.start, b[0]))
        hits += bool(_stems(ch.title) & _stems(best[2]))
    return round(hits / max(1, len(outline.chapters)), 3)


def run_variant(src: Path, cap: int | None) -> tuple[Outline, float]:
    from tests.fixtures.llm import run_stages
    from v2a.write import naming

    tmp = Path(tempfile.mkdtemp(prefix="v2a-naming-"))
    try:
        wd = tmp / "ws"
        wd.mkdir()
        for name in INPUTS:
            p = src / name
            if p.is_dir():
                shutil.copytree(p, wd / name, ignore=shutil.ignore_patterns("llm*"))
            elif p.exists():
                shutil.copy2(p, wd / name)
        naming.EXCERPT_TOKENS = cap
        t0 = time.perf_counter()
        run_stages(wd, Config(workdir=wd), "outline")
        wall = time.perf_counter() - t0
        return read_model(wd / "outline.json", Outline), wall
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", type=Path)
    ap.add_argument("script", type=Path)
    ap.add_argument("--caps", nargs="+", default=["full", "400", "250"])
    args = ap.parse_args()
    script = json.loads(args.script.read_text())
    truth, duration = script["chapters"], script["duration"]
    rows, base = [], None
    for c in args.caps:
        cap = None if c == "full" else int(c)
        outline, wall = run_variant(args.workdir, cap)
        titles = [ch.title for ch in outline.chapters]
        if base is None:
            base = titles
        u = outline.usage
        rows.append({
            "cap": c, "wall_s": round(wall, 1), "calls": u.calls if u else None,
            "prompt_tokens": u.prompt_tokens if u else None,
            "completion_tokens": u.completion_tokens if u else None,
            "chapters": len(titles),
            "f1_15s": boundary_prf([ch.start for ch in outline.chapters],
                                   [t["start"] for t in truth], 15)["f1"],
            "title_agreement": title_agreement(outline, truth, duration),
            "same_title_as_first": round(sum(a == b for a, b in zip(titles, base))
                                         / max(1, len(titles)), 3),
            "named_from_own_words": sum("named from its own words" in n for n in outline.notes),
            "titles": titles})
    t = Table(title=f"naming excerpt caps on {args.workdir.name}")
    for k in rows[0]:
        if k != "titles":
            t.add_column(k)
    for r in rows:
        t.add_row(*(str(v) for k, v in r.items() if k != "titles"))
    Console().print(t)
    RESULTS.mkdir(exist_ok=True)
    out = {"command": "python -m bench.bench_naming " + " ".join(
        [str(args.workdir), str(args.script), "--caps", *args.caps]),
        "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"),
        "truth_titles": [t["title"] for t in truth], "rows": rows}
    (RESULTS / "naming.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
