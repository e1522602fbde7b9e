"""Ground truth for the doubts benchmark: which transcript words are recognition errors.

The transcript's words are aligned with the known narration (difflib over normalised tokens);
a content word in a stretch that differs is an error, and a content word the recogniser left out
is an error at the gap where it should have been. Numbers are compared as numbers ("forty" =
"40", "a hundred thousand" = "100 000"), British and American spellings as the same word.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from v2a.checks.numbers import tokens
from v2a.models import Transcript
from v2a.sources import STOP


def narration(path: Path) -> str:
    d = json.loads(path.read_text("utf-8"))
    if "slides" in d:
        return " ".join(s["speech"] for s in d["slides"])
    return " ".join(x["text"] for s in d["sections"] for x in s["sentences"])


@dataclass
class Error:
    start: float
    end: float
    heard: str
    said: str


def errors(transcript: Transcript, truth: str) -> list[Error]:
    """Content-word recognition errors, each with the time span where it is."""
    words = [w for s in transcript.segments for w in s.words]
    hyp: list[str] = []
    at: list[int] = []
    for i, w in enumerate(words):
        for t in tokens(w.text):
            hyp.append(t)
            at.append(i)
    ref = tokens(truth)
    out: list[Error] = []
    sm = difflib.SequenceMatcher(None, ref, hyp, autojunk=False)
    for op, a, b, c, d in sm.get_opcodes():
        if op == "equal":
            continue
        said, heard = ref[a:b], hyp[c:d]
        if not any(t not in STOP for t in said + heard):
            continue
        if c < d:
            for k in range(c, d):
                if heard[k - c] in STOP and any(t not in STOP for t in heard):
                    continue  # the content words of the stretch are the errors
                w = words[at[k]]
                out.append(Error(w.start, w.end, w.text.strip(), " ".join(said)))
        else:  # left out: the gap between its neighbours
            prev = words[at[c - 1]] if c > 0 else None
            nxt = words[at[c]] if c < len(at) else None
            a0 = prev.end if prev else (nxt.start if nxt else 0.0)
            b0 = nxt.start if nxt else a0
            out.append(Error(min(a0, b0), max(a0, b0), "", " ".join(said)))
    # one error per word (a word split into several tokens counts once)
    seen: set[tuple[float, float]] = set()
    uniq = []
    for err in out:
        if (err.start, err.end) not in seen:
            seen.add((err.start, err.end))
            uniq.append(err)
    return uniq
