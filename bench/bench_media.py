"""Media stages on a long generated lecture: ASR speed and accuracy, scene detection speed and
accuracy, peak memory.

`python -m bench.bench_media [--minutes 10]` generates (once, cached in bench/.cache/) a lecture
of about that length with known slide changes and script, runs ingest → audio → transcribe and
scenes through ``run_pipeline`` in a fresh work folder, and prints and writes
bench/results/media.json. The machine's load average is recorded too: on a shared machine wall
times stretch, CPU seconds much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.lectures import lecture
from bench.metrics import boundary_prf, wer
from v2a.config import Config
from v2a.models import Scenes, Transcript
from v2a.pipeline import run_pipeline
from v2a.workspace import read_model, write_json

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"
CUT_TOLERANCE_S = 0.5
console = Console()


def _cpu_s() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def bench(minutes: float) -> dict:
    video = lecture(minutes)
    script = json.loads(video.with_suffix(".script.json").read_text())
    wd = CACHE / f"media-{int(minutes)}m"
    shutil.rmtree(wd, ignore_errors=True)
    load_before = os.getloadavg()[0]
    cpu0, t0 = _cpu_s(), time.perf_counter()
    stages, rss_after = {}, {}
    # scenes first: ru_maxrss only grows, so reading it after each target attributes the peak
    for target in ("scenes", "transcribe"):
        report = run_pipeline(str(video), Config(workdir=wd, quiet=True), target=target)
        stages.update({s.name: {"status": s.status, "wall_s": s.wall_s, "detail": s.detail}
                       for s in report.stages if s.status == "ran"})
        rss_after[target] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    wall, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
    tr = read_model(wd / "transcript.json", Transcript)
    sc = read_model(wd / "scenes.json", Scenes)
    truth_cuts = [s["start"] for s in script["slides"][1:]]
    ref = " ".join(s["speech"] for s in script["slides"])
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # children: ffmpeg/ffprobe; a forked child briefly counts its parent's pages, so this
    # is an upper bound
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    duration = script["duration"]
    return {
        "lecture": {"path": str(video), "duration_s": duration, "slides": len(script["slides"])},
        "machine": {"cores": os.cpu_count(), "load_avg_1m_before": round(load_before, 2),
                    "load_avg_1m_after": round(os.getloadavg()[0], 2)},
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "stages": stages,
        "asr": {"model": tr.model, "backend": tr.backend, "rtf": tr.timings.get("rtf"),
                "asr_s": tr.timings.get("asr_s"), "load_s": tr.timings.get("load_s"),
                "segments": len(tr.segments), "wer": round(wer(tr.text, ref), 4)},
        "scenes": {"detect_s": sc.timings.get("detect_s"),
                   "frames_per_s": sc.timings.get("fps_processed"),
                   "realtime_x": round(duration / sc.timings["detect_s"], 1)
                   if sc.timings.get("detect_s") else None,
                   "frames": sc.frames, "frames_scored": sc.timings.get("frames_scored"),
                   "keyframes_s": sc.timings.get("keyframes_s"), "scenes": len(sc.scenes),
                   "duplicate_keyframes": sum(s.duplicate_of is not None for s in sc.scenes),
                   "cuts": boundary_prf(sc.cuts, truth_cuts, CUT_TOLERANCE_S)},
        "peak_rss_mb": {"self": round(rss_self, 1), "children": round(rss_children, 1),
                        "self_after_scenes": rss_after["scenes"],
                        "self_after_transcribe": rss_after["transcribe"]},
    }


def print_table(res: dict) -> None:
    t = Table(title=f"media stages, {res['lecture']['duration_s'] / 60:.1f}-minute lecture",
              header_style="bold")
    t.add_column("metric")
    t.add_column("value", justify="right")
    a, s = res["asr"], res["scenes"]
    rows = [
        ("ASR real-time factor", a["rtf"]),
        ("ASR s (model load s)", f"{a['asr_s']} ({a['load_s']})"),
        ("WER", a["wer"]), ("scene detection s", s["detect_s"]),
        ("scene detection frames/s", s["frames_per_s"]), ("keyframes s", s["keyframes_s"]),
        ("cut precision", s["cuts"]["precision"]), ("cut recall", s["cuts"]["recall"]),
        ("scenes / duplicate keyframes", f"{s['scenes']} / {s['duplicate_keyframes']}"),
        ("peak RSS MB (self / children)",
         f"{res['peak_rss_mb']['self']} / {res['peak_rss_mb']['children']}"),
        ("peak RSS MB after scenes / + transcribe",
         f"{res['peak_rss_mb']['self_after_scenes']} / "
         f"{res['peak_rss_mb']['self_after_transcribe']}"),
        ("wall s / CPU s", f"{res['wall_s']} / {res['cpu_s']}"),
        ("load average before / after", f"{res['machine']['load_avg_1m_before']} / "
                                        f"{res['machine']['load_avg_1m_after']}"),
    ]
    for name, v in rows:
        t.add_row(name, str(v))
    console.print(t)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_media", description=__doc__)
    ap.add_argument("--minutes", type=float, default=10, help="lecture length (default 10)")
    args = ap.parse_args(argv)
    res = bench(args.minutes)
    res["when"] = time.strftime("%Y-%m-%d %H:%M")
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / "media.json", res)
    print_table(res)
    console.print(f"wrote {RESULTS / 'media.json'}")


if __name__ == "__main__":
    main()
