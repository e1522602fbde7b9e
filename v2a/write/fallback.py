"""Deterministic outline when there is no usable model reply: strongest candidates + keywords.

Never the goal, always available: the run must not die on a bad JSON.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from ..models import Segment
from .candidates import _STOP, Candidate, tokens

_SURFACE = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def choose_starts(cands: list[Candidate], count: int) -> list[int]:
    """Segment indexes where ``count`` chapters start (always including 0), best-scored first."""
    best = sorted(cands, key=lambda c: (-c.score, c.time))[: max(0, count - 1)]
    return [0] + sorted(c.index for c in best)


def keywords(texts: list[str], k: int = 3) -> list[list[str]]:
    """Per text, its most distinctive words (tf-idf), in their most common spoken form."""
    docs = [Counter(tokens(t)) for t in texts]
    df = Counter(w for d in docs for w in d)
    surface: dict[str, Counter] = {}
    for t in texts:
        for w in _SURFACE.findall(t):
            lw = w.lower()
            if lw in _STOP or len(lw) < 3:
                continue
            stem = tokens(lw)
            if stem:
                surface.setdefault(stem[0], Counter())[lw] += 1
    out = []
    for d in docs:
        scored = sorted(d, key=lambda w: (-d[w] * math.log(1 + len(docs) / df[w]), w))
        out.append([surface[w].most_common(1)[0][0] if w in surface else w for w in scored[:k]])
    return out


def first_sentence(text: str, max_words: int = 25) -> str:
    s = _SENTENCE.split(text.strip(), maxsplit=1)[0]
    words = s.split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def describe(segments: list[Segment], starts: list[int],
             end: int | None = None) -> list[tuple[str, str]]:
    """(title, summary) per chapter (``starts`` up to segment index ``end``) from its own words."""
    bounds = starts + [len(segments) if end is None else end]
    texts = [" ".join(s.text.strip() for s in segments[a:b]) for a, b in zip(bounds, bounds[1:])]
    out = []
    for i, (text, kws) in enumerate(zip(texts, keywords(texts))):
        title = ", ".join(kws).capitalize() if kws else f"Part {i + 1}"
        out.append((title, first_sentence(text)))
    return out
