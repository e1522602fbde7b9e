"""LLM benchmark: embedded servers and packaged models on the generated lecture.

    .venv/bin/python -m bench.bench_llm [--servers xllamacpp,llama-cpp-python]
                                        [--models qwen2.5-coder-1.5b,qwen2.5-coder-0.5b]

Writes bench/results/llm.json with, per server: start-up time, RSS, prompt and generation
tokens/s, wall of 4 chapter-sized requests one after another vs 4 at once (ratio); per model:
outline + write on the lecture (chapter boundary precision/recall at ±3 s, grounding, wall,
usage) and a forced re-run served from the per-call cache (calls made, cache hits).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from bench.metrics import boundary_prf, grounding
from v2a.config import Config
from v2a.llm.open import open_llm
from v2a.models import Draft, Outline, Transcript
from v2a.pipeline import StageContext, run_pipeline, run_stage
from v2a.workspace import Workspace, read_model

RESULTS = Path(__file__).parent / "results" / "llm.json"
TOL = 3.0  # the lecture's slides are ~10 s long: ±3 s tells a right boundary from a neighbour

FILLER = ("Byte pair encoding builds a vocabulary by merging the most frequent pair of "
          "adjacent symbols, again and again, until the vocabulary has the size we want. ")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the server may fork workers)."""
    total = 0
    for p in [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                      if c]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def speed(llm) -> dict:
    """Prompt tokens/s (a ~600-token prompt, 1 output token) and generation tokens/s."""
    nonce = str(time.time())  # defeats prefix caches between runs
    long_msg = [{"role": "user", "content": nonce + " " + FILLER * 22 + "\nSay OK."}]
    t = time.perf_counter()
    c = llm.complete(long_msg, max_tokens=1, temperature=0)
    t_prompt = time.perf_counter() - t
    short = [{"role": "user", "content": nonce + " Count from 1 to 200, separated by commas."}]
    t = time.perf_counter()
    g = llm.complete(short, max_tokens=128, temperature=0)
    t_gen = time.perf_counter() - t
    per_prompt_tok = t_prompt / max(1, c.usage.prompt_tokens)
    gen_s = max(1e-3, t_gen - per_prompt_tok * g.usage.prompt_tokens)
    return {"prompt_tokens": c.usage.prompt_tokens,
            "prompt_tok_s": round(c.usage.prompt_tokens / t_prompt, 1),
            "gen_tokens": g.usage.completion_tokens,
            "gen_tok_s": round(g.usage.completion_tokens / gen_s, 1)}


def concurrency(llm, n: int = 4) -> dict:
    """n chapter-sized requests sequentially vs all at once."""
    def msgs(i: int, tag: str):
        return [{"role": "user", "content": f"{tag} chapter {i}. " + FILLER * 5 +
                 f"\nSummarise chapter {i} in one sentence."}]

    t = time.perf_counter()
    for i in range(n):
        llm.complete(msgs(i, "seq"), max_tokens=48, temperature=0)
    seq = time.perf_counter() - t
    t = time.perf_counter()
    threads = [threading.Thread(target=llm.complete, args=(msgs(i, "par"),),
                                kwargs={"max_tokens": 48, "temperature": 0}) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    par = time.perf_counter() - t
    return {"requests": n, "sequential_s": round(seq, 1), "concurrent_s": round(par, 1),
            "speedup": round(seq / par, 2)}


def bench_server(kind: str, model: str) -> dict:
    cfg = Config(local_server=kind, local_model=model, llm_concurrency=4, llm_retries=0)
    t = time.perf_counter()
    try:
        handle = open_llm(cfg)
    except Exception as exc:  # noqa: BLE001 - report what is missing, keep benchmarking
        return {"server": kind, "error": str(exc)}
    try:
        out = {"server": kind, "model": model, "start_s": round(time.perf_counter() - t, 1)}
        out["speed"] = speed(handle.llm)
        out["rss_mb"] = rss_mb(handle.server.proc.pid)
        out["concurrency"] = concurrency(handle.llm)
        out["rss_mb_after_concurrency"] = rss_mb(handle.server.proc.pid)
        out["structured_mode"] = handle.llm.mode
        return out
    finally:
        handle.close()


def bench_pipeline(media: Path, model: str, server: str, chapters_truth: list[float],
                   tmp: Path) -> dict:
    """Outline + write on the lecture with the embedded model, then a forced cached re-run."""
    import shutil

    wd = tmp / f"ws-{model}-{server}"
    shutil.copytree(media, wd)
    cfg = Config(workdir=wd, local_model=model, local_server=server, quiet=True)
    out: dict = {"model": model, "server": server}
    handle = open_llm(cfg)
    try:
        for run, force in (("first", []), ("rerun_forced", ["outline", "write"])):
            ctx = StageContext(ws=Workspace(wd), config=cfg.model_copy(update={"force": force}),
                          src=str(wd))
            ctx.llm_handle = handle
            t = time.perf_counter()
            stages = {n: run_stage(ctx, n).status for n in ("outline", "write")}
            cached = ctx.llm()
            usage = read_model(wd / "outline.json", Outline).usage.add(
                read_model(wd / "chapters.json", Draft).usage)
            out[run] = {"wall_s": round(time.perf_counter() - t, 1), "stages": stages,
                        "llm_calls": cached.calls, "cache_hits": cached.cache.hits,
                        "usage": usage.model_dump()}
    finally:
        handle.close()
    outline = read_model(wd / "outline.json", Outline)
    draft = read_model(wd / "chapters.json", Draft)
    transcript = read_model(wd / "transcript.json", Transcript)
    out["outline"] = {"method": outline.method, "notes": outline.notes,
                      "chapters": [[c.start, c.title] for c in outline.chapters],
                      "boundaries": boundary_prf([c.start for c in outline.chapters],
                                                 chapters_truth, TOL)}
    prose = "\n".join(c.markdown for c in draft.chapters)
    out["write"] = {"ok": sum(c.status == "ok" for c in draft.chapters),
                    "chapters": len(draft.chapters), "words": len(prose.split()),
                    "grounding": grounding(prose, transcript.text)}
    out["sample"] = [c.markdown[:400] for c in draft.chapters]
    return out


def save(result: dict) -> None:
    """Written after every section, so an interrupted run keeps what it measured."""
    result["machine"]["load_avg_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", default="xllamacpp,llama-cpp-python")
    ap.add_argument("--models", default="qwen2.5-coder-1.5b,qwen2.5-coder-0.5b")
    ap.add_argument("--skip-pipeline", action="store_true")
    args = ap.parse_args()
    from v2a.samples import make_lecture

    result: dict = {"machine": {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()},
                    "tolerance_s": TOL, "servers": [], "pipeline": []}
    models = args.models.split(",")
    for kind in args.servers.split(","):
        print(f"== server {kind}", flush=True)
        result["servers"].append(bench_server(kind, models[0]))
        print(json.dumps(result["servers"][-1]), flush=True)
        save(result)
    if not args.skip_pipeline:
        with tempfile.TemporaryDirectory(prefix="v2a-bench-llm-") as tmp:
            tmp = Path(tmp)
            lec = make_lecture(tmp / "lecture.mp4")
            media = tmp / "media"
            run_pipeline(str(lec.video), Config(workdir=media, quiet=True), target="media")
            truth = [c["start"] for c in lec.chapters]
            result["truth_chapters"] = truth
            for model in models:
                print(f"== pipeline {model}", flush=True)
                result["pipeline"].append(bench_pipeline(media, model, args.servers.split(",")[0],
                                                         truth, tmp))
                print(json.dumps(result["pipeline"][-1])[:2000], flush=True)
                save(result)
    save(result)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
