"""Does overlapping media work with LLM work across videos beat one video after another?

`python -m bench.bench_batch [--videos 3] [--repeat 1]`: serves an RSS feed of generated talks
(~45 s each, distinct topics) on a loopback server and runs the same batch twice in fresh
output roots, each in its own process: *sequential* (each video start to finish, then the next)
and *pipelined* (the `v2a batch` default: 1 media worker + 1 LLM worker, so video 2 downloads,
transcribes and cuts scenes while video 1's chapters are being written). Both share one
embedded LLM server per batch, as `v2a batch` does. Writes bench/results/batch.json.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "batch"
RESULTS = ROOT / "bench" / "results"
TOPICS = [[0, 1], [4, 5], [6, 7], [2, 3]]
MODES = ("sequential", "pipelined")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client closing early (yt-dlp probing) is not news


def talks(n: int) -> list[Path]:
    """Generated talks, cached between benchmark runs."""
    from v2a.samples import make_lecture

    CACHE.mkdir(parents=True, exist_ok=True)
    out = []
    for i, topics in enumerate(TOPICS[:n], 1):
        path = CACHE / f"talk-{i}.mp4"
        if not path.exists():
            print(f"generating {path.name} (topics {topics})", flush=True)
            make_lecture(path, topics=topics)
        out.append(path)
    return out


def feed_xml(base: str, files: list[Path]) -> str:
    items = "".join(
        f'<item><title>Talk {i}</title><guid isPermaLink="false">talk-{i}</guid>'
        f'<itunes:duration>{round(_duration(p))}</itunes:duration>'
        f'<enclosure url="{base}/{p.name}" type="video/mp4" length="{p.stat().st_size}"/></item>'
        for i, p in enumerate(files, 1))
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
            f"<title>Batch bench</title><link>{base}/</link><description>bench</description>"
            f"{items}</channel></rss>")


def child(mode: str, feed: str, out: Path) -> dict:
    """One batch in this process (the real planner, state and runner), timed."""
    from v2a.batch.plan import list_playlist, make_plan
    from v2a.batch.runner import BatchRunner
    from v2a.batch.state import BatchState, StateStore
    from v2a.config import Config

    cfg = Config(out_root=out, quiet=True)
    playlist = list_playlist(feed, cfg)
    plan = make_plan(playlist)
    root = out / plan.root_slug
    store = StateStore.open(root / "batch.json", BatchState(
        input=feed, playlist_id=playlist.id, title=playlist.title))
    store.merge(plan.selected)
    t0 = time.perf_counter()
    BatchRunner(store, root, cfg, overlap=(mode == "pipelined")).run()
    wall = time.perf_counter() - t0
    entries = [{"title": e.title, "status": e.status, "reason": e.reason, "timings": e.timings}
               for e in store.state.ordered()]
    return {"mode": mode, "batch_wall_s": round(wall, 2), "entries": entries}


def run_mode(mode: str, feed: str) -> dict:
    from bench.procmon import TreeMonitor

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"v2a-bench-batch-{mode}-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bench.bench_batch", "--child", mode,
                                 "--feed", feed, "--out", tmp], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with TreeMonitor(proc.pid) as mon:
            out, err = proc.communicate()
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed (rc {proc.returncode}):\n{err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    bad = [e for e in res["entries"] if e["status"] != "done"]
    if bad:
        raise SystemExit(f"{mode} run did not finish every video: {bad}")
    # other work on this machine slows the LLM many times over: keep the evidence with the figure
    res.update(process_wall_s=round(wall, 2), loadavg_1m_before=round(load_before, 2),
               loadavg_1m_after=round(os.getloadavg()[0], 2), **mon.summary())
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_batch", description=__doc__)
    ap.add_argument("--videos", type=int, default=3, choices=range(2, len(TOPICS) + 1))
    ap.add_argument("--repeat", type=int, default=1, help="runs per mode (alternating)")
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--feed", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.feed, args.out)))
        return

    files = talks(args.videos)
    srv = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(CACHE)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    feed_name = f"feed-{args.videos}.xml"
    (CACHE / feed_name).write_text(feed_xml(base, files))
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    try:
        for r in range(args.repeat):
            for mode in MODES:
                print(f"[{r + 1}/{args.repeat}] {mode} …", flush=True)
                res = run_mode(mode, f"{base}/{feed_name}")
                runs[mode].append(res)
                print(f"    batch {res['batch_wall_s']:.1f} s, process {res['process_wall_s']:.1f} s"
                      f" (load {res['loadavg_1m_before']} → {res['loadavg_1m_after']})", flush=True)
                if all(runs.values()):
                    write(summarize(args, argv, files, runs))  # partial results survive a stop
    finally:
        srv.shutdown()
        srv.server_close()
    result = summarize(args, argv, files, runs)
    write(result)
    print(f"{args.videos} videos: sequential {result['sequential_s']:.1f} s, pipelined "
          f"{result['pipelined_s']:.1f} s → {result['speedup']:.2f}x ({result['saved_s']:.1f} s "
          f"saved; media {result['sequential_media_s']:.1f} s, LLM "
          f"{result['sequential_llm_s']:.1f} s when sequential). Wrote {RESULTS / 'batch.json'}")


def summarize(args, argv, files: list[Path], runs: dict[str, list[dict]]) -> dict:
    seq = statistics.median(x["batch_wall_s"] for x in runs["sequential"])
    pipe = statistics.median(x["batch_wall_s"] for x in runs["pipelined"])
    last = runs["sequential"][-1]["entries"]
    return {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"cores": os.cpu_count()},
        "command": "python -m bench.bench_batch " + " ".join(argv or sys.argv[1:]),
        "videos": args.videos,
        "video_seconds": [round(_duration(p), 1) for p in files],
        "workers": {"media": 1, "llm": 1},
        "sequential_s": seq,
        "pipelined_s": pipe,
        "saved_s": round(seq - pipe, 2),
        "speedup": round(seq / pipe, 3),
        # what overlap can hide at best: the media work of every video after the first
        "sequential_media_s": round(sum(e["timings"].get("media", 0) for e in last), 2),
        "sequential_llm_s": round(sum(e["timings"].get("llm", 0) for e in last), 2),
        "runs": runs,
    }


def write(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "batch.json").write_text(json.dumps(result, indent=2) + "\n")


def _duration(path: Path) -> float:
    meta = json.loads(path.with_suffix(".script.json").read_text())
    return float(meta["duration"])


if __name__ == "__main__":
    main()
