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

from bench.cuts_set import LONG_SETS, SETS, make_set
from bench.metrics import boundary_prf, machine
from v2a.config import Config
from v2a.models import Transcript
from v2a.pipeline import run_pipeline
from v2a.workspace import Workspace, read_model

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"
ITEMS = (*SETS, *LONG_SETS, "talk-video", "talk-audio", "lecture-audio", "lecture-8m")
BASELINE = "aab6d9c"  # the code before issue 21


def media(item: str) -> tuple[Path, list[float]]:
    if item in SETS or item in LONG_SETS:
        return make_set(item)
    if item.startswith("lecture-"):  # held out: the other generator (a pause at every slide)
        from v2a.samples import make_lecture

        p = CACHE / f"cuts-{item}.m4a"
        if not p.with_suffix(".script.json").exists():
            if item == "lecture-8m":  # four 2-minute chapters
                make_lecture(p, minutes=8, audio_only=True)
            else:  # four short chapters on topics the talk does not have
                make_lecture(p, audio_only=True, topics=[4, 5, 6, 7])
        script = json.loads(p.with_suffix(".script.json").read_text())
        return p, [c["start"] for c in script["chapters"]]
    from bench.bench_chapters import talk_media

    p = talk_media()[item.split("-")[1]]
    truth = json.loads(p.with_suffix(".talk.json").read_text())
    return p, [s["start"] for s in truth["sections"]]


def baseline_module():
    """``v2a/write/candidates.py`` as it was at ``BASELINE``, loaded beside today's."""
    import importlib.util
    import subprocess
    import sys

    name = f"v2a.write._candidates_{BASELINE}"
    if name not in sys.modules:
        src = subprocess.run(["git", "show", f"{BASELINE}:v2a/write/candidates.py"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        spec = importlib.util.spec_from_loader(name, loader=None)
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        mod.__package__ = "v2a.write"
        sys.modules[name] = mod  # dataclasses look their module up while it runs
        exec(compile(src, name, "exec"), mod.__dict__)
    return sys.modules[name]


def starts_of(wd: Path, semantic: bool = True, baseline: bool = False
              ) -> tuple[list[float], dict]:
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
    if baseline:  # the code before issue 21, on today's transcript
        old = baseline_module()
        t0 = time.perf_counter()
        chosen = old.select_starts(old.propose(transcript.segments, cuts, duration,
                                               headings=headings), duration)
        costs["lexical+select_s"] = round(time.perf_counter() - t0, 3)
        return [0.0] + [old.snap_time(transcript.segments, c.index, cuts) for c in chosen], costs
    cands = cand.propose(transcript.segments, cuts, duration, headings=headings,
                         audio=wd / "audio.wav", continuing=cand.continuing_cuts(screen),
                         costs=costs, semantic=semantic)
    t0 = time.perf_counter()
    chosen = cand.select_starts(cands, duration)
    costs["select_s"] = round(time.perf_counter() - t0, 3)
    return [0.0] + [cand.snap_time(transcript.segments, c.index, cuts, onset=c.onset)
                    for c in chosen], costs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", nargs="+", default=list(ITEMS), choices=ITEMS)
    ap.add_argument("--label", default="new")
    ap.add_argument("--baseline", action="store_true",
                    help=f"place starts with the code of commit {BASELINE} (before issue 21)")
    args = ap.parse_args()
    res: dict = {"command": "python -m bench.bench_cuts --label " + args.label
                 + " --baseline" * args.baseline + " --items " + " ".join(args.items),
                 "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"),
                 "code": BASELINE if args.baseline else "working tree",
                 "held_out": ["real-c", "long-g", "long-h", "lecture-audio", "lecture-8m",
                              "long-i", "long-j"],
                 "chose_between_variants": ["long-e", "long-f"],
                 "seen_after_first_change": ["long-c", "long-d"],
                 "items": {}}
    for item in args.items:
        path, truth = media(item)
        wd = CACHE / f"cuts-{item}"
        t0 = time.perf_counter()
        run_pipeline(str(path), Config(workdir=wd, quiet=True), target="media")
        media_s = round(time.perf_counter() - t0, 1)
        transcript = read_model(wd / "transcript.json", Transcript)
        starts, costs = starts_of(wd, baseline=args.baseline)
        r = {"duration_s": round(transcript.duration or transcript.segments[-1].end, 1),
             "sentences": len(transcript.segments), "truth": [round(t, 1) for t in truth],
             "starts": [round(t, 1) for t in starts],
             "chapters": len(starts), "chapters_true": len(truth),
             "f1_5s": boundary_prf(starts, truth, 5.0)["f1"],
             "f1_15s": boundary_prf(starts, truth, 15.0)["f1"],
             "signal_s": costs, "media_s_first_run_or_cached": media_s}
        res["items"][item] = r
        print(item, json.dumps(r), flush=True)
    for k in ("f1_5s", "f1_15s"):
        res[f"mean_{k}"] = round(sum(r[k] for r in res["items"].values())
                                 / max(1, len(res["items"])), 3)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"chapters-{args.label}.json"
    out.write_text(json.dumps(res, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
