"""A/B of llama.cpp's speculative decoding in the xllamacpp wheel on chapter-rewrite prompts.

    .venv/bin/python -m bench.spec_ab TRANSCRIPT.json [N_PROMPTS] [TYPES]

TYPES is a comma list of ``common_speculative_type`` names without their prefix ("" = none),
e.g. ",NGRAM_SIMPLE,NGRAM_MOD". Each type gets a fresh in-process server (2 threads, one slot,
no prompt cache) and the same prompts with the same seeds; prints generation tokens/s and the
drafted/accepted token counts from the server's own timings. A first look (#24), measured on a
busy machine: see the stop-19 closing note. Needs a quiet machine to be conclusive.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

MODEL = Path.home() / ".cache" / "v2a" / "models" / "qwen2.5-coder-1.5b.gguf"
SYSTEM = ("You rewrite transcripts of talks as clean prose in the speaker's voice (first "
          "person). Keep every point; remove filler.")


def server(spec: str):
    import xllamacpp as x

    p = x.CommonParams()
    p.model.path = str(MODEL)
    p.model_alias = {"m"}
    p.hostnames = ["127.0.0.1"]
    p.port = 0
    p.n_parallel = 1
    p.n_ctx = 8192
    p.cpuparams.n_threads = 2
    p.cpuparams_batch.n_threads = 2
    p.ui, p.offline, p.warmup, p.fit_params = False, True, False, False
    p.cache_ram_mib = 0
    if spec:
        p.speculative.types = [getattr(x.common_speculative_type,
                                       "COMMON_SPECULATIVE_TYPE_" + spec)]
    return x.Server(p)


def ask(url: str, prompt: str, seed: int) -> tuple[dict, float]:
    body = {"model": "m", "temperature": 0.2, "max_tokens": 400, "seed": seed,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": prompt}]}
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=900) as r:
        return json.load(r), time.perf_counter() - t0


def prompts(transcript: Path, n: int) -> list[str]:
    out, chunk = [], []
    for s in json.loads(transcript.read_text())["segments"]:
        chunk.append(s["text"])
        if len(" ".join(chunk).split()) > 180:
            out.append("Rewrite this transcript as clean prose. Output only the text.\n\n"
                       '"""\n' + " ".join(chunk) + '\n"""')
            chunk = []
    return out[:n]


def main() -> None:
    transcript = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    specs = sys.argv[3].split(",") if len(sys.argv) > 3 else ["", "NGRAM_SIMPLE"]
    todo = prompts(transcript, n)
    for spec in specs:
        srv = server(spec)
        url = srv.listening_address
        url = url if url.startswith("http") else "http://" + url
        for i, prompt in enumerate(todo):
            d, wall = ask(url, prompt, i)
            t = d.get("timings", {})
            print(json.dumps({"spec": spec or "none", "wall_s": round(wall, 2),
                              "generated": t.get("predicted_n"),
                              "gen_tok_s": t.get("predicted_per_second"),
                              "prompt_tok_s": t.get("prompt_per_second"),
                              "drafted": t.get("draft_n"), "accepted": t.get("draft_n_accepted")}),
                  flush=True)
        del srv


if __name__ == "__main__":
    main()
