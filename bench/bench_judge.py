"""The LLM as a judge of candidate chapter starts (issue 21): does one cheap call help?

    nice -n 10 .venv/bin/python -m bench.bench_judge [--items long-a ...] [--top 8]

For each item of ``bench_cuts`` (media already cached there), code proposes and scores the
candidates as the outline stage does; the embedded model then sees, in **one** call, the
``--top`` best candidates with the sentence before and after each, and says for each whether a
new part starts there (a new recording, speaker situation or topic) or the same one goes on.
Its verdict adds or takes ``JUDGE_W`` from the candidate's score, and the starts are chosen again
by the same dynamic programming. Reports F1 at ±5/±15 s with and without the judge, the call's
seconds and tokens. Writes ``bench/results/chapters-judge.json``. The model only judges: times
still come from the transcript.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pydantic import BaseModel

from bench.bench_cuts import CACHE, RESULTS, media, starts_of
from bench.cuts_set import LONG_SETS, SETS
from bench.metrics import boundary_prf, machine
from v2a.config import Config
from v2a.models import Transcript
from v2a.workspace import read_model

JUDGE_W = 0.6  # what a verdict adds (new) or takes (same): less than a clear voice change


class Verdict(BaseModel):
    number: int
    new_part: bool


class Verdicts(BaseModel):
    verdicts: list[Verdict]


PROMPT = """Below are places in a transcript of a recording where a new part might begin.
For each place you see the sentence just before it and the sentence just after it.
A new part begins when the text after belongs to a different recording, a different kind of
speech (a poem, a meeting, a news report, a lecture, a story) or a clearly different subject.
The same part goes on when the text after continues the same speech, conversation or subject.

{places}

For every numbered place answer new_part true (a new part begins) or false (the same goes on).
Reply as JSON: {{"verdicts": [{{"number": 1, "new_part": true}}, ...]}}"""


def judge(llm, segments, cands) -> tuple[dict[int, bool], dict]:
    places = []
    for k, c in enumerate(cands, 1):
        before = segments[c.index - 1].text.strip()
        after = segments[c.index].text.strip()
        places.append(f"{k}. before: \"{before[-300:]}\"\n   after: \"{after[:300]}\"")
    msgs = [{"role": "user", "content": PROMPT.format(places="\n".join(places))}]
    t0 = time.perf_counter()
    c = llm.complete(msgs, schema=Verdicts, max_tokens=40 + 16 * len(cands), temperature=0)
    info = {"seconds": round(time.perf_counter() - t0, 1),
            "prompt_tokens": c.usage.prompt_tokens,
            "completion_tokens": c.usage.completion_tokens}
    parsed = c.parsed if isinstance(c.parsed, Verdicts) else Verdicts(verdicts=[])
    out = {v.number: v.new_part for v in parsed.verdicts if 1 <= v.number <= len(cands)}
    return {cands[n - 1].index: new for n, new in out.items()}, info


def main() -> None:
    from v2a.llm.open import open_llm
    from v2a.write import candidates as cand

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", nargs="+", default=[*SETS, *LONG_SETS])
    ap.add_argument("--top", type=int, default=8)
    args = ap.parse_args()
    handle = open_llm(Config(llm_retries=1))
    res: dict = {"command": "python -m bench.bench_judge --top " + str(args.top)
                 + " --items " + " ".join(args.items), "machine": machine(),
                 "when": time.strftime("%Y-%m-%d %H:%M"), "judge_weight": JUDGE_W,
                 "held_out": ["real-c", "long-g", "long-h"], "items": {}}
    try:
        for item in args.items:
            _, truth = media(item)
            wd = CACHE / f"cuts-{item}"
            segs = read_model(wd / "transcript.json", Transcript).segments
            duration = read_model(wd / "transcript.json", Transcript).duration or segs[-1].end
            plain, _ = starts_of(wd)
            cands = cand.propose(segs, [], duration, audio=wd / "audio.wav")
            top = sorted(cands, key=lambda c: -c.score)[:args.top]
            top.sort(key=lambda c: c.time)
            try:
                verdict, info = judge(handle.llm, segs, top)
            except Exception as exc:  # noqa: BLE001 - a failed call is a result too
                verdict, info = {}, {"error": str(exc)[:200]}
            for c in cands:
                if c.index in verdict:
                    c.score += JUDGE_W if verdict[c.index] else -JUDGE_W
            chosen = cand.select_starts(cands, duration)
            judged = [0.0] + [cand.snap_time(segs, c.index, [], onset=c.onset) for c in chosen]
            r = {"truth": [round(t, 1) for t in truth],
                 "plain": [round(t, 1) for t in plain], "judged": [round(t, 1) for t in judged],
                 "verdicts": {f"{segs[i].start:.1f}": v for i, v in sorted(verdict.items())},
                 "f1_5s": [boundary_prf(plain, truth, 5.0)["f1"],
                           boundary_prf(judged, truth, 5.0)["f1"]],
                 "f1_15s": [boundary_prf(plain, truth, 15.0)["f1"],
                            boundary_prf(judged, truth, 15.0)["f1"]], "call": info}
            res["items"][item] = r
            print(item, json.dumps(r), flush=True)
    finally:
        handle.close()
    for k in ("f1_5s", "f1_15s"):
        vals = [r[k] for r in res["items"].values()]
        res[f"mean_{k}_plain_judged"] = [round(sum(v[i] for v in vals) / max(1, len(vals)), 3)
                                         for i in (0, 1)]
    out = RESULTS / "chapters-judge.json"
    out.write_text(json.dumps(res, indent=1))
    print("wrote", out, res["mean_f1_5s_plain_judged"], res["mean_f1_15s_plain_judged"])


if __name__ == "__main__":
    Path(RESULTS).mkdir(parents=True, exist_ok=True)
    main()
