"""Deterministic chapter-boundary candidates: lexical topic shifts, scene cuts, long pauses.

A small model is poor at *placing* boundaries but fair at *choosing* among sensible ones, so
code proposes them: a TextTiling-style lexical cohesion score between the words before and
after every segment gap (no embeddings, no torch), slide/scene cuts, and pauses in speech.
Every candidate is a segment id, so times always come from the transcript, never from a model.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from ..models import Segment

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# function words carry no topic; the list is short on purpose (language-agnostic fallback:
# very frequent words are dropped per transcript below)
_STOP = set("""a about above after again all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each even every few for
from further get gets got had has have having he her here hers him his how i if in into is it its
just let like lot many me more most much my no nor not now of off on once one only or other our
out over own really right same say she should so some such than that the their them then there
these they thing things this those through to too two under until up us very was way we well were
what when where which while who why will with would yeah you your okay ok gonna going want know
see look basically actually kind sort mean""".split())


def tokens(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower()):
        if len(w) < 3 or w in _STOP:
            continue
        # crude stemming: plural/verb endings, so "merge"/"merges"/"merged" count together
        for suf in ("ing", "ed", "es", "s"):
            if len(w) > len(suf) + 3 and w.endswith(suf):
                w = w[: -len(suf)]
                break
        out.append(w)
    return out


@dataclass
class Candidate:
    segment_id: int  # the chapter would start at this segment
    index: int  # position in the segment list
    time: float  # the segment's start (before snapping)
    score: float = 0.0
    lexical: float = 0.0  # depth score, 0..1
    reasons: list[str] = field(default_factory=list)


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def lexical_depths(segments: list[Segment], window_words: int | None = None) -> list[float]:
    """TextTiling depth score at each gap i (before segment i); index 0 is 0."""
    toks = [tokens(s.text) for s in segments]
    total = sum(len(t) for t in toks)
    if len(segments) < 3 or total == 0:
        return [0.0] * len(segments)
    # words that occur everywhere say nothing about topic changes
    df = Counter(w for t in toks for w in set(t))
    common = {w for w, n in df.items() if n > 0.5 * len(toks) and len(toks) >= 8}
    toks = [[w for w in t if w not in common] for t in toks]
    w = window_words or int(min(150, max(25, total / 12)))

    def block(start: int, step: int) -> Counter:
        c: Counter = Counter()
        i, n = start, 0
        while 0 <= i < len(toks) and n < w:
            c.update(toks[i])
            n += len(toks[i])
            i += step
        return c

    sims = [0.0] + [_cosine(block(i - 1, -1), block(i, 1)) for i in range(1, len(toks))]
    depths = [0.0] * len(toks)
    for i in range(1, len(toks)):
        # climb to the nearest peaks on each side (TextTiling)
        lp = sims[i]
        j = i - 1
        while j >= 1 and sims[j] >= lp:
            lp = sims[j]
            j -= 1
        rp = sims[i]
        j = i + 1
        while j < len(sims) and sims[j] >= rp:
            rp = sims[j]
            j += 1
        depths[i] = (lp - sims[i]) + (rp - sims[i])
    return depths


def snap_time(segments: list[Segment], index: int, cuts: list[float],
              before: float = 3.0, after: float = 1.0) -> float:
    """A chapter starting at segment ``index`` starts at a scene cut just before/after its first
    words when there is one (the slide change), else at the segment's own start."""
    seg = segments[index]
    lo = seg.start - before
    if index > 0:  # never before the previous segment has finished (its words belong earlier)
        lo = max(lo, segments[index - 1].end - 0.25)
    near = [c for c in cuts if lo <= c <= seg.start + after]
    if not near:
        return seg.start
    return min(near, key=lambda c: abs(c - seg.start))


# evidence weights: a new slide *title* is the strongest sign of a new section when titles
# change at only some cuts (when they change at most cuts, every slide has its own title and a
# title change says little more than a cut); a plain cut (next slide, same title) or a pause is
# weak on its own; lexical depth is 0..1
W_HEADING_RARE, W_HEADING_COMMON, W_SCENE, W_PAUSE = 1.0, 0.25, 0.25, 0.2
NEAR_LEXICAL = 0.8  # a depth peak one segment away still counts (Whisper segments straddle cuts)


def propose(segments: list[Segment], cuts: list[float] | None = None,
            duration: float | None = None, max_candidates: int | None = None,
            headings: list[float] | None = None) -> list[Candidate]:
    """Scored candidates (segment ids after the first), in time order.

    ``headings``: the cuts where the slide title changes too (``Scenes.heading_changes``).
    """
    cuts = sorted(cuts or [])
    headings = sorted(headings or [])
    if len(segments) < 2:
        return []
    duration = duration or segments[-1].end
    depths = lexical_depths(segments)
    top = max(depths) or 1.0
    lex = [d / top for d in depths]
    gaps = [segments[i].start - segments[i - 1].end for i in range(1, len(segments))]
    long_pause = max(1.0, statistics.quantiles(gaps, n=4)[-1]) if len(gaps) >= 4 else 1.0
    w_heading = W_HEADING_RARE if len(headings) <= 0.5 * len(cuts) else W_HEADING_COMMON

    cands: list[Candidate] = []
    for i in range(1, len(segments)):
        s = segments[i]
        near = max([lex[i]] + [NEAR_LEXICAL * lex[j] for j in (i - 1, i + 1)
                               if 1 <= j < len(lex)])
        c = Candidate(segment_id=s.id, index=i, time=s.start, lexical=round(near, 3))
        if c.lexical >= 0.2:
            c.reasons.append("topic")
        lo = max(s.start - 3.0, segments[i - 1].end - 0.25)
        if any(lo <= t <= s.start + 1.0 for t in cuts):
            c.reasons.append("scene")
        if any(lo <= t <= s.start + 1.0 for t in headings):
            c.reasons.append("heading")
        if gaps[i - 1] >= long_pause:
            c.reasons.append("pause")
        c.score = round(c.lexical + w_heading * ("heading" in c.reasons)
                        + W_SCENE * ("scene" in c.reasons) + W_PAUSE * ("pause" in c.reasons), 3)
        if c.reasons:
            cands.append(c)

    # keep the best, spaced out: chapters shorter than this are not useful to a reader
    min_gap = min_chapter_gap(duration)
    cap = max_candidates or int(min(400, max(12, duration / 20)))
    chosen = _spaced(cands, segments[0].start, duration, min_gap, cap)
    return sorted(chosen, key=lambda c: c.time)


def min_chapter_gap(duration: float) -> float:
    return min(45.0, max(3.0, duration / 60))


def _spaced(cands: list[Candidate], start: float, duration: float, gap: float,
            cap: int) -> list[Candidate]:
    """Greedy best-first choice of at most ``cap`` candidates at least ``gap`` apart (and
    ``gap``/2 from both ends), in score order."""
    chosen: list[Candidate] = []
    for c in sorted(cands, key=lambda c: (-c.score, c.time)):
        if len(chosen) >= cap:
            break
        if c.time - start < gap / 2 or duration - c.time < gap / 2:
            continue
        if all(abs(c.time - o.time) >= gap for o in chosen):
            chosen.append(c)
    return chosen


def select_starts(cands: list[Candidate], duration: float) -> list[Candidate]:
    """Chapter starts chosen by code: the candidates with strong evidence, spaced out.

    How many depends on the evidence, not only on length, kept within the length's sensible
    range (``target_chapters``), no chapter shorter than a third of the typical one. With
    slide-title changes, the titles are the structure and a lexical bump between two of them is
    a sub-topic: only candidates half a standard deviation above the mean are kept. Without
    them (notebooks, editors, a talking head), words are the only evidence and TextTiling's own
    cutoff applies: half a standard deviation *below* the mean depth.
    """
    if not cands:
        return []
    target, lo, hi = target_chapters(duration, len(cands))
    hi = max(hi, min(30, int(duration // 120)))  # long talks may have many short sections
    gap = max(min_chapter_gap(duration), duration / max(1, target) / 3)
    start = min(c.time for c in cands) - gap  # the candidates begin after the first segment
    ranked = _spaced(cands, min(0.0, start), duration, gap, hi - 1)
    scores = [c.score for c in cands]
    spread = statistics.pstdev(scores) / 2 if len(scores) > 1 else 0.0
    titled = any("heading" in c.reasons for c in cands)
    cutoff = statistics.mean(scores) + (spread if titled else -spread)
    strong = [c for c in ranked if c.score >= cutoff]
    keep = ranked[: max(lo - 1, len(strong))]
    return sorted(keep, key=lambda c: c.time)


def target_chapters(duration: float, n_candidates: int) -> tuple[int, int, int]:
    """(suggested, min, max) chapter counts for a video of this length.

    Short videos get short chapters (~25-40 s for a 2-minute clip), long ones a few minutes each;
    the count levels off near a dozen, which is what a reader can scan.
    """
    target = max(1, round(duration / (25 + duration / 12)))
    hi = min(n_candidates + 1, max(2, 2 * target), 30)
    lo = min(hi, max(1, target // 2))
    return min(target, hi), lo, hi
