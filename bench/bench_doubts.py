"""Doubts against known narration: do they point at the recogniser's real errors?

    .venv/bin/python -m bench.bench_doubts

Each set is a work folder whose lecture was narrated from a known script (espeak-ng, then
Whisper tiny.en): the transcript's content-word errors are found by aligning it with the script
(``bench/doubt_truth.py``). Then ``v2a.checks`` runs over the folder's artifacts, and:

- recall: the share of errors that fall inside a doubt (time overlap, any kind of doubt that
  points at a place: at most 10 s long);
- precision: the share of doubts that hold a real error. Transcript doubts (``unsure``,
  ``screen``) hold one when an error overlaps them; prose doubts (``unsaid``) when the number
  or name is not in the narration either (the writer made it up, or copied a mishearing);
  ``unsupported`` when the sentence's words are mostly absent from the narration of its time
  too; ``title`` when the word of the title it doubts is not in the narration. ``uncovered``,
  ``code`` and ``retried`` have no truth here and are counted, not scored.
- the trade-off: recall and precision as the ``unsure`` threshold moves;
- the time the checks add (their own timings, per folder).

Tuning sets (the thresholds were chosen looking at them): the two examples. Held out: the
8-minute generated lecture of ``bench_cuts`` (its transcript, no prose) and, where present,
the folders given with ``--held-out``.

Writes bench/results/doubts.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.doubt_truth import Error, errors, narration
from v2a.checks import doubts as D
from v2a.checks import second as S
from v2a.checks import spans as SP
from v2a.checks.build import auto_listen, find_doubts
from v2a.checks.models import Doubt
from v2a.checks.numbers import tokens
from v2a.models import Draft, Outline, Screen, Transcript
from v2a.sources import content
from v2a.workspace import read_model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "bench" / ".cache"

SETS = [  # (name, work folder, script, audio, held out)
    ("tokenization-lecture", ROOT / "examples/tokenization-lecture",
     ROOT / "examples/tokenization-lecture/lecture.script.json",
     ROOT / "examples/tokenization-lecture/lecture.mp4", False),
    ("notebook-talk", ROOT / "examples/notebook-talk",
     ROOT / "examples/notebook-talk/talk.script.json",
     ROOT / "examples/notebook-talk/audio.wav", False),
    ("lecture-8m", CACHE / "cuts-lecture-8m", CACHE / "cuts-lecture-8m.script.json",
     CACHE / "cuts-lecture-8m/audio.wav", True),
    ("lecture-audio", CACHE / "cuts-lecture-audio", CACHE / "cuts-lecture-audio.script.json",
     CACHE / "cuts-lecture-audio/audio.wav", True),
]
TRANSCRIPT_KINDS = ("unsure", "screen")
SCORED = ("unsure", "screen", "unsaid", "unsupported", "title")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
TOL = 0.05
PLACED_S = 10.0  # a doubt longer than this does not count towards recall


def _hits(x: Doubt, errs: list[Error]) -> bool:
    return any(e.start < x.end + TOL and x.start < e.end + TOL for e in errs)


def _script_times(path: Path) -> list[tuple[float, float, str]]:
    d = json.loads(path.read_text("utf-8"))
    if "slides" in d:
        return [(s["start"], s["end"], s["speech"]) for s in d["slides"]]
    return [(x["start"], x["end"], x["text"]) for s in d["sections"] for x in s["sentences"]]


def real(x: Doubt, errs: list[Error], truth_tokens: set[str],
         script: list[tuple[float, float, str]]) -> bool | None:
    """Whether a doubt holds a real error (None: no truth for its kind)."""
    if x.kind in TRANSCRIPT_KINDS:
        return _hits(x, errs)
    if x.kind == "unsaid":
        toks = tokens(x.text)
        return not toks or not all(t in truth_tokens for t in toks)
    if x.kind == "title":  # the title's doubted word, quoted first in the evidence
        m = re.match(r"""\s*['"]([^'"]+)['"]""", x.evidence)
        return bool(m) and not all(t in truth_tokens for t in tokens(m.group(1)))
    if x.kind == "unsupported":
        said = " ".join(t for a, b, t in script if a < x.end + 5 and x.start - 5 < b)
        return D.weighted_share(content(x.text), set(content(said)), {}) < D.UNSUPPORTED
    return None


def score(found: list[Doubt], errs: list[Error], truth_tokens: set[str],
          script: list[tuple[float, float, str]]) -> dict:
    per: dict[str, dict] = {}
    for kind in sorted({x.kind for x in found} | set(SCORED)):
        mine = [x for x in found if x.kind == kind]
        verdicts = [real(x, errs, truth_tokens, script) for x in mine]
        judged = [v for v in verdicts if v is not None]
        row: dict = {"doubts": len(mine)}
        if judged:
            row["precision"] = round(sum(judged) / len(judged), 3)
        if kind in TRANSCRIPT_KINDS:
            row["recall"] = round(sum(any(_hits(x, [e]) for x in mine) for e in errs)
                                  / max(len(errs), 1), 3)
        per[kind] = row
    verdicts = [real(x, errs, truth_tokens, script) for x in found]
    judged = [v for v in verdicts if v is not None]
    # a doubt points at a place: one over a whole chapter or minutes of speech does not count
    placed = [x for x in found if x.end - x.start <= PLACED_S]
    inside = sum(any(_hits(x, [e]) for x in placed) for e in errs)
    high = [x for x in found if x.severity == "high"]
    hv = [v for x in high if (v := real(x, errs, truth_tokens, script)) is not None]
    return {
        "errors": len(errs), "doubts": len(found),
        "recall": round(inside / max(len(errs), 1), 3),
        "precision": round(sum(judged) / len(judged), 3) if judged else None,
        "high": len(high), "precision_high": round(sum(hv) / len(hv), 3) if hv else None,
        "per_kind": per,
    }


def _migrate(cache: Path, audio: Path, model: str, transcript: Transcript) -> None:
    """A whole reading cached before readings were kept clip by clip: the same words, as one
    piece over the whole speech."""
    if not cache.exists():
        return
    got = json.loads(cache.read_text("utf-8"))
    key = S.cache_key(audio, model, transcript.language, 5)
    if got.get("key") == key or not ("words" in got or len(got.get("pieces", [])) == 1):
        return
    piece = got["pieces"][0] if "pieces" in got else {
        "span": list(S.whole(transcript)[0]), "wall_s": got.get("wall_s", 0.0),
        "words": got["words"]}
    cache.write_text(json.dumps({"key": key, "model": model, "pieces": [piece]}), "utf-8")


def listen(name: str, wd: Path, transcript: Transcript, audio: Path | None, mode: str,
           budget: float, screen, outline, draft):
    """The second model's reading for one set (``whole`` or ``spans`` within ``budget``
    seconds per minute of speech), each mode cached in its own file under bench/.cache."""
    model = S.second_model(transcript)
    if mode == "off" or not model or audio is None or not audio.exists():
        return None, {}
    t0 = time.perf_counter()
    beam = S.BEAM
    if mode == "auto":  # what a run hears by default: whole or spans, by the talk's length
        mode, budget = auto_listen(transcript, budget)
    if mode == "whole-beam5":  # how the whole listen was first measured (its cached reading)
        cache, beam = CACHE / f"second-{name}.json", 5
        _migrate(cache, audio, model, transcript)
        cuts = S.whole(transcript)
    elif mode == "whole":
        cache = CACHE / f"second-{name}-whole-b{beam}.json"
        cuts = S.whole(transcript)
    else:
        cache = CACHE / f"second-{name}-spans{budget:g}-b{beam}.json"
        first, paras = find_doubts(transcript, screen, outline, draft, D.UNSURE)
        cuts = SP.plan(transcript, screen, first, paras, budget, S.duration(transcript))
    pick = time.perf_counter() - t0
    opinion = S.hear(audio, cuts, model, transcript.language, cache=cache, beam=beam)
    assert opinion is not None
    return opinion, {"model": model, "mode": mode, "beam": beam, "budget_s_per_min": budget if mode == "spans"
                     else None, "clips": len(cuts), "audio_s": round(opinion.audio_s, 1),
                     "share": round(opinion.audio_s / max(S.duration(transcript), 1), 3),
                     "wall_s": round(opinion.wall_s, 2), "pick_s": round(pick, 3),
                     "cached": opinion.cached}


def run_set(name: str, wd: Path, script_path: Path, audio: Path | None, mode: str,
            budget: float) -> dict:
    transcript = read_model(wd / "transcript.json", Transcript)

    def opt(n: str, cls):
        return read_model(wd / n, cls) if (wd / n).exists() else None

    screen, outline, draft = opt("screen.json", Screen), opt("outline.json", Outline), \
        opt("chapters.json", Draft)
    opinion, heard = listen(name, wd, transcript, audio, mode, budget, screen, outline, draft)
    truth = narration(script_path)
    errs = errors(transcript, truth)
    truth_tokens = set(tokens(truth))
    script = _script_times(script_path)
    words = sum(len(s.words) for s in transcript.segments)
    out: dict = {"words": words, "errors": len(errs), "prose": draft is not None,
                 "second_opinion": heard or None,
                 "audio_s": round(transcript.segments[-1].end if transcript.segments else 0, 1)}
    trade = []
    for th in THRESHOLDS:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        found, _ = find_doubts(transcript, screen, outline, draft, th, timings, opinion)
        wall = time.perf_counter() - t0
        row = score(found, errs, truth_tokens, script)
        row.update(threshold=th, wall_s=round(wall, 3), timings=timings)
        trade.append(row)
    out["tradeoff"] = trade
    out["at_default"] = next(r for r in trade if r["threshold"] == D.UNSURE)
    # the baseline the issue names: one global probability threshold
    glob = []
    for p in (0.3, 0.5, 0.7):
        flagged = [Doubt(id=str(k), kind="unsure", start=w.start, end=w.end, text=w.text,
                         evidence="") for k, w in enumerate(
                             w for s in transcript.segments for w in s.words)
                   if (w.probability or 1.0) < p]
        r = score(flagged, errs, truth_tokens, script)
        glob.append({"p_below": p, "flagged": len(flagged), "recall": r["recall"],
                     "precision": r["precision"]})
    out["global_threshold"] = glob
    return out


def _pool(results: dict, names: list[str], th: float) -> dict:
    """Recall and precision pooled over sets (micro), at one threshold."""
    errs = inside = judged = good = 0
    for n in names:
        row = next(r for r in results[n]["tradeoff"] if r["threshold"] == th)
        errs += row["errors"]
        inside += round(row["recall"] * row["errors"])
        for k in SCORED:
            pk = row["per_kind"].get(k, {})
            if "precision" in pk:
                judged += pk["doubts"]
                good += round(pk["precision"] * pk["doubts"])
    return {"threshold": th, "errors": errs, "recall": round(inside / max(errs, 1), 3),
            "judged_doubts": judged, "precision": round(good / judged, 3) if judged else None}


def evaluate(sets: list, mode: str, budget: float) -> tuple[dict, dict]:
    results = {name: run_set(name, wd, sp, au, mode, budget) | {"held_out": held}
               for name, wd, sp, au, held in sets}
    held = [n for n, *_, h in sets if h]
    tuned = [n for n, *_, h in sets if not h]
    pooled = {"tuning": [_pool(results, tuned, th) for th in THRESHOLDS],
              "held_out": [_pool(results, held, th) for th in THRESHOLDS]}
    return results, pooled


def listen_row(label: str, results: dict, pooled: dict) -> dict:
    """One line of the whole-vs-spans table: pooled quality at the default threshold, and
    what the listen cost (audio heard, seconds it took on this machine)."""
    heard = [r["second_opinion"] for r in results.values() if r["second_opinion"]]
    speech = sum(r["audio_s"] for r in results.values())
    at = {k: next(p for p in v if p["threshold"] == D.UNSURE) for k, v in pooled.items()}
    return {"listen": label, "held_out_recall": at["held_out"]["recall"],
            "held_out_precision": at["held_out"]["precision"],
            "tuning_recall": at["tuning"]["recall"], "tuning_precision": at["tuning"]["precision"],
            "speech_s": round(speech, 1),
            "heard_s": round(sum(h["audio_s"] for h in heard), 1),
            "listen_s": round(sum(h["wall_s"] for h in heard), 1),
            "clips": sum(h["clips"] for h in heard)}


def main() -> None:
    from v2a.checks.build import BUDGET

    ap = argparse.ArgumentParser()
    ap.add_argument("--held-out", nargs=3, action="append", default=[],
                    metavar=("WORKDIR", "SCRIPT", "AUDIO"), help="another narrated work folder")
    ap.add_argument("--no-second", action="store_true",
                    help="without the second recogniser (word probabilities and context only)")
    ap.add_argument("--budgets", type=float, nargs="*", default=[10.0, BUDGET, 30.0],
                    help="--listen-budget values (seconds per minute of speech) to compare "
                    "with the whole listen")
    ap.add_argument("--listens", nargs="*", default=["whole-beam5", "whole"],
                    choices=["whole-beam5", "whole"],
                    help="whole-file second listens to compare (each costs a full base pass)")
    ap.add_argument("--out", help="results file name in bench/results (default: doubts.json, "
                    "doubts-no-second.json with --no-second)")
    args = ap.parse_args()
    sets = [s for s in SETS if (s[1] / "transcript.json").exists()]
    sets += [(Path(w).name, Path(w), Path(s), Path(a), True) for w, s, a in args.held_out]
    modes = [("off", 0.0)] if args.no_second else \
        [(m, 0.0) for m in args.listens] + \
        [("spans", b) for b in args.budgets] + [("auto", BUDGET)]
    listens = []
    for mode, budget in modes:
        results, pooled = evaluate(sets, mode, budget)
        listens.append(listen_row(f"spans {budget:g} s/min" if mode == "spans" else
                                  "auto (default)" if mode == "auto" else mode,
                                  results, pooled))
    # the tables below are of the default (the last mode evaluated)
    con = Console()
    t = Table(title="doubts: recall of content-word errors / precision of doubts, by threshold")
    for c in ("set", "threshold", "errors", "doubts", "recall", "precision", "high", "prec. high",
              "checks s"):
        t.add_column(c)
    for n, r in results.items():
        for row in r["tradeoff"]:
            t.add_row(n + (" (held out)" if r["held_out"] else ""), f"{row['threshold']:.1f}",
                      str(row["errors"]), str(row["doubts"]), str(row["recall"]),
                      str(row["precision"]), str(row["high"]), str(row["precision_high"]),
                      f"{row['wall_s']:.2f}")
    con.print(t)
    for n, r in results.items():
        k = Table(title=f"{n}: per kind at the default threshold {D.UNSURE}")
        for c in ("kind", "doubts", "recall", "precision"):
            k.add_column(c)
        for kind, row in r["at_default"]["per_kind"].items():
            k.add_row(kind, str(row["doubts"]), str(row.get("recall", "—")),
                      str(row.get("precision", "—")))
        con.print(k)
        con.print(f"  global p-threshold baseline: {r['global_threshold']}")
    con.print(f"pooled: {json.dumps(pooled)}")
    lt = Table(title=f"the second listen: whole vs spans (threshold {D.UNSURE})")
    for c in listens[0]:
        lt.add_column(c)
    for row in listens:
        lt.add_row(*(str(v) for v in row.values()))
    con.print(lt)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"command": " ".join(["python -m bench.bench_doubts", *sys.argv[1:]]),
           "default_threshold": D.UNSURE, "default_listen": modes[-1][0],
           "default_budget_s_per_min": BUDGET if not args.no_second else None,
           "machine": {"python": platform.python_version(), "cpu": platform.processor(),
                       "cores": os.cpu_count()},
           "listens": listens, "sets": results, "pooled": pooled}
    path = RESULTS / (args.out or ("doubts-no-second.json" if args.no_second else "doubts.json"))
    path.write_text(json.dumps(out, indent=1) + "\n", "utf-8")
    con.print(f"wrote {path}")


if __name__ == "__main__":
    main()
