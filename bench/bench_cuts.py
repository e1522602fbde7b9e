"""Where chapters start, without the LLM: real recordings joined at known times, generated talks.

    nice -n 10 .venv/bin/python -m bench.bench_cuts [--label NAME] [--items real-a talk-video ...]

Media stages (audio, transcript, scenes, screen) run once per item through ``run_pipeline``
(cached in ``bench/.cache/cuts-<item>``); then the chapter starts are placed exactly as the
outline stage places them for ``--chapters code`` (``candidates.place_starts``), and measured:
F1 at ±5 s and ±15 s against the known starts, the chapter count against the truth, and the
seconds each signal cost. Writes ``bench/results/chapters-<label>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.cuts_set import SETS, make_set
from bench.metrics import boundary_prf, machine
from v2a.config import Config
from v2a.models import Transcript
from v2a.pipeline import run_pipeline
from v2a.workspace import Workspace, read_model

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"
ITEMS = (*SETS, "talk-video", "talk-audio")


def media(item: str) -> tuple[Path, list[float]]:
    if item in SETS:
        return make_set(item)
    from bench.bench_chapters import talk_media

    p = talk_media()[item.split("-")[1]]
    truth = json.loads(p.with_suffix(".talk.json").read_text())
    return p, [s["start"] for s in truth["sections"]]


def starts_of(wd: Path, semantic: bool = True) -> tuple[list[float], dict]:
    """The chapter start times the outline stage would use (``--chapters code``)."""
    from v2a.models import Screen
    from v2a.stage import StageContext
    from v2a.write import candidates as cand
    from v2a.write.outline import _scenes_cuts

    ctx = StageContext(ws=Workspace(wd), config=Config(workdir=wd, quiet=True), src=str(wd))
    transcript = read_model(wd / "transcript.json", Transcript)
    cuts, headings = _scenes_cuts(ctx)
    sp = wd / "screen.json"
    screen = read_model(sp, Screen) if sp.exists() else None
    duration = transcript.duration or transcript.segments[-1].end
    costs: dict = {}
    cands = cand.propose(transcript.segments, cuts, duration, headings=headings,
                         audio=wd / "audio.wav", continuing=cand.continuing_cuts(screen),
                         costs=costs, semantic=semantic)
    t0 = time.perf_counter()
    chosen = cand.select_starts(cands, duration)
    costs["select_s"] = round(time.perf_counter() - t0, 3)
    return [0.0] + [cand.snap_time(transcript.segments, c.index, cuts) for c in chosen], costs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", nargs="+", default=list(ITEMS), choices=ITEMS)
    ap.add_argument("--label", default="new")
    args = ap.parse_args()
    res: dict = {"command": "python -m bench.bench_cuts --label " + args.label,
                 "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"), "items": {}}
    for item in args.items:
        path, truth = media(item)
        wd = CACHE / f"cuts-{item}"
        t0 = time.perf_counter()
        run_pipeline(str(path), Config(workdir=wd, quiet=True), target="media")
        media_s = round(time.perf_counter() - t0, 1)
        transcript = read_model(wd / "transcript.json", Transcript)
        starts, costs = starts_of(wd)
        r = {"duration_s": round(transcript.duration or transcript.segments[-1].end, 1),
             "sentences": len(transcript.segments), "truth": [round(t, 1) for t in truth],
             "starts": [round(t, 1) for t in starts],
             "chapters": len(starts), "chapters_true": len(truth),
             "f1_5s": boundary_prf(starts, truth, 5.0)["f1"],
             "f1_15s": boundary_prf(starts, truth, 15.0)["f1"],
             "signal_s": costs, "media_s_first_run_or_cached": media_s}
        res["items"][item] = r
        print(item, json.dumps(r), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"chapters-{args.label}.json"
    out.write_text(json.dumps(res, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
