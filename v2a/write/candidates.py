"""Deterministic chapter-boundary candidates, and the chapter starts chosen among them.

A small model is poor at *placing* boundaries but fair at *choosing* among sensible ones, so
code proposes them from evidence at every sentence gap: word overlap (TextTiling), sentence
embeddings (``topics``: all-MiniLM-L6-v2 in numpy), a change of voice or recording and long
pauses (``signals``), and the screen — a new heading starts a section, a new code cell or the
next slide under the same title continues one. ``select_starts`` then picks starts by dynamic
programming: every start earns its evidence minus a fixed price, and every chapter pays for
straying from the length that suits the talk's duration, so the count follows the evidence
within what a reader can use — never a chapter per scene. Every candidate is a segment id, so
times always come from the transcript, never from a model.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..models import Screen, Segment
from ..stopwords import STOP as _STOP

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


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
    semantic: float = 0.0  # sentence-embedding shift, 0..1
    voice: float = 0.0  # change of voice/recording, 0..1
    pause: float = 0.0  # the silence before it, 0..1
    onset: float | None = None  # where the new recording begins, before its first words


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
    return depth_scores(sims)


def depth_scores(sims: list[float]) -> list[float]:
    """TextTiling's depth at each gap: how far the similarity across it dips below the nearest
    peaks on both sides (index 0, before the first item, is 0)."""
    depths = [0.0] * len(sims)
    for i in range(1, len(sims)):
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
              before: float = 3.0, after: float = 1.0, onset: float | None = None) -> float:
    """A chapter starting at segment ``index`` starts at a scene cut just before/after its first
    words when there is one (the slide change), else at the segment's own start. ``onset``:
    where its recording begins in an untranscribed stretch before those words
    (``signals.onsets``); the chapter then starts there, or at a cut within ``after`` of it."""
    if onset is not None:
        near_onset = [c for c in cuts if abs(c - onset) <= after]
        return min(near_onset, key=lambda c: abs(c - onset)) if near_onset else onset
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
# title change says little more than a cut); a plain cut (next slide, same title) is weak, and
# a cut between two code screens (the next cell, the same file scrolled) says nothing. A change
# of voice or recording is strong (two recordings joined, a second speaker); the embedding
# shift is the main sign of a new topic in words, word overlap a weaker one; a long pause is
# weak on its own (speakers pause to think). Each signal is 0..1.
W_HEADING_RARE, W_HEADING_COMMON, W_SCENE, W_PAUSE = 1.0, 0.25, 0.15, 0.2
W_LEXICAL, W_SEMANTIC, W_VOICE = 0.4, 1.0, 1.2
W_INSIDE = 0.2  # a start inside one recording of a compilation (signals.inside_recordings)
NEAR_LEXICAL = 0.8  # a depth peak one segment away still counts (Whisper segments straddle cuts)
PAUSE_FULL_S = 2.5  # a silence this long (or longer) is full pause evidence
# absolute scales, not the talk's own spread: a talk by one voice on one topic must score near
# 0 everywhere (scaled by its own spread, its noise would look like evidence). Measured on real
# recordings joined (bench/cuts_set.py) and the generated talk: one speaker going on scores
# 0.1-0.6 in voice distance, another recording 1.4-2.8; the embedding depth is 0-0.3 inside a
# topic and 0.35-0.55 at most of its changes.
VOICE_FROM, VOICE_FULL = 0.6, 2.0
SEMANTIC_FULL = 0.5
SEMANTIC_WINDOW = 3  # sentences each side whose mean vector is compared
NEAR_SEMANTIC = 0.0  # embedding peaks are sharp; spreading them made neighbours win


def _scale(xs: list[float], lo: float, hi: float) -> list[float]:
    return [min(1.0, max(0.0, (x - lo) / (hi - lo))) for x in xs]


def continuing_cuts(screen: Screen | None) -> list[float]:
    """Cuts between two code screens under the same (or no) heading: the next notebook cell,
    the file scrolled — the same topic goes on."""
    if screen is None:
        return []
    frames = sorted(screen.frames, key=lambda f: f.time)
    return [b.time for a, b in zip(frames, frames[1:])
            if a.code and b.code and (a.title or "").lower() == (b.title or "").lower()]


def semantic_shifts(segments: list[Segment]) -> list[float] | None:
    """Embedding depth at each gap (TextTiling over the cosine of 3-sentence means), or None
    without the model."""
    from . import topics

    vecs = topics.embed([s.text for s in segments])
    if vecs is None:
        return None
    return depth_scores([1.0 - x for x in topics.shift_scores(vecs, SEMANTIC_WINDOW)])


def propose(segments: list[Segment], cuts: list[float] | None = None,
            duration: float | None = None, max_candidates: int | None = None,
            headings: list[float] | None = None, audio: Path | None = None,
            continuing: list[float] | None = None, costs: dict | None = None,
            semantic: bool = True) -> list[Candidate]:
    """Scored candidates (segment ids after the first), in time order.

    ``headings``: the cuts where the slide title changes too (``Scenes.heading_changes``).
    ``audio``: the talk's 16 kHz WAV, for changes of voice. ``continuing``: cuts that continue
    the topic (``continuing_cuts``). ``costs``: filled with the seconds each signal took.
    """
    from . import signals

    cuts = sorted(cuts or [])
    headings = sorted(headings or [])
    cont = sorted(continuing or [])
    costs = costs if costs is not None else {}
    if len(segments) < 2:
        return []
    duration = duration or segments[-1].end
    t0 = time.perf_counter()
    depths = lexical_depths(segments)
    top = max(depths) or 1.0
    lex = [d / top for d in depths]
    costs["lexical_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    sem = semantic_shifts(segments) if semantic else None
    if sem is not None:
        costs["embeddings_s"] = round(time.perf_counter() - t0, 3)
        sem = _scale(sem, 0.0, SEMANTIC_FULL)
    voice = [0.0] * len(segments)
    inside = [False] * len(segments)
    feat = None
    if audio is not None and Path(audio).exists():
        t0 = time.perf_counter()
        feat = signals.read_features(Path(audio))
        if feat is not None:
            voice = [0.0] + _scale(signals.gap_changes(feat, segments), VOICE_FROM, VOICE_FULL)
            inside = [False] + signals.inside_recordings(feat, segments)
            costs["voice_s"] = round(time.perf_counter() - t0, 3)
    silence = signals.pauses(segments)
    gaps = silence[1:]
    long_pause = max(1.0, statistics.quantiles(gaps, n=4)[-1]) if len(gaps) >= 4 else 1.0
    w_heading = W_HEADING_RARE if len(headings) <= 0.5 * len(cuts) else W_HEADING_COMMON

    cands: list[Candidate] = []
    for i in range(1, len(segments)):
        s = segments[i]
        near = max([lex[i]] + [NEAR_LEXICAL * lex[j] for j in (i - 1, i + 1)
                               if 1 <= j < len(lex)])
        near_sem = max([sem[i]] + [NEAR_SEMANTIC * sem[j] for j in (i - 1, i + 1)
                                   if 1 <= j < len(sem)]) if sem else 0.0
        c = Candidate(segment_id=s.id, index=i, time=s.start, lexical=round(near, 3),
                      semantic=round(near_sem, 3), voice=round(voice[i], 3),
                      pause=round(min(1.0, silence[i] / PAUSE_FULL_S), 3))
        if c.lexical >= 0.2 or c.semantic >= 0.3:
            c.reasons.append("topic")
        if c.voice >= 0.3:
            c.reasons.append("voice")
        lo = max(s.start - 3.0, segments[i - 1].end - 0.25)
        near_cut = [t for t in cuts if lo <= t <= s.start + 1.0]
        heading = any(lo <= t <= s.start + 1.0 for t in headings)
        if near_cut and not heading and not any(abs(t - u) < 0.5 for t in near_cut
                                                for u in cont):
            c.reasons.append("scene")
        if heading:
            c.reasons.append("heading")
        if silence[i] >= long_pause:
            c.reasons.append("pause")
        c.score = round(W_LEXICAL * c.lexical + W_SEMANTIC * c.semantic + W_VOICE * c.voice
                        + W_PAUSE * c.pause * ("pause" in c.reasons)
                        + w_heading * heading + W_SCENE * ("scene" in c.reasons)
                        - W_INSIDE * inside[i], 3)
        if c.reasons:
            cands.append(c)

    # keep the best, spaced out: chapters shorter than this are not useful to a reader
    min_gap = min_chapter_gap(duration)
    cap = max_candidates or int(min(400, max(12, duration / 20)))
    chosen = _spaced(cands, segments[0].start, duration, min_gap, cap)
    if feat is not None:  # starts after speech the recogniser left without words
        t0 = time.perf_counter()
        found = signals.onsets(feat, segments, [c.index for c in chosen])
        for c in chosen:
            c.onset = found.get(c.index)
        costs["onsets_s"] = round(time.perf_counter() - t0, 3)
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


PRICE = 1.0  # what a start costs: the evidence must be worth more (signals are on fixed scales)
LENGTH_WEIGHT = 0.15  # what a chapter pays per (its length / the typical one − 2)², when over 2


def select_starts(cands: list[Candidate], duration: float) -> list[Candidate]:
    """Chapter starts chosen by code: dynamic programming over the candidates.

    The chosen set maximises Σ (score − price) − Σ over chapters LENGTH_WEIGHT ·
    max(0, length / typical − 2)², with no chapter shorter than a third of the typical one
    (``target_chapters``) nor than ``min_chapter_gap``. The price is fixed (``PRICE``; every
    signal is on a fixed 0..1 scale), so only clear evidence pays for a start; the length term asks for
    a start inside a chapter far longer than usual and refuses many short ones. At most the
    length's maximum count.
    """
    if not cands:
        return []
    target, _, hi = target_chapters(duration, len(cands))
    hi = max(hi, min(30, int(duration // 120)))  # long talks may have many short sections
    typical = duration / max(1, target)
    gap = max(min_chapter_gap(duration), typical / 3)
    price = PRICE
    chosen = _dp(cands, duration, typical, gap, price)
    while len(chosen) > hi - 1:  # too many for a reader: make starts dearer
        price += 0.05
        chosen = _dp(cands, duration, typical, gap, price)
    return chosen


def _dp(cands: list[Candidate], duration: float, typical: float, gap: float,
        price: float) -> list[Candidate]:
    """The best chain start → chosen candidates → end (see ``select_starts``). A candidate
    with an ``onset`` starts there, so its chapter's length and spacing count from it (two
    starts seconds apart, one at the last sentence before an untranscribed stretch and one
    at the onset in it, are one start)."""
    def at(c: Candidate) -> float:
        return c.time if c.onset is None else c.onset

    items = sorted((c for c in cands if gap / 2 <= at(c) <= duration - gap / 2), key=at)
    times = [0.0] + [at(c) for c in items] + [duration]
    gain = [0.0] + [c.score - price for c in items] + [0.0]

    def length_cost(a: float, b: float) -> float:
        return LENGTH_WEIGHT * max(0.0, (b - a) / typical - 2.0) ** 2

    n = len(times)
    best = [-math.inf] * n
    back = [-1] * n
    best[0] = 0.0
    for j in range(1, n):
        last = j == n - 1
        for i in range(j):
            span = times[j] - times[i]
            if best[i] == -math.inf or span < (gap / 2 if last or i == 0 else gap):
                continue
            v = best[i] + gain[j] - length_cost(times[i], times[j])
            if v > best[j]:
                best[j], back[j] = v, i
    if best[-1] == -math.inf:  # too short for any cut
        return []
    out, j = [], back[n - 1]
    while j > 0:
        out.append(items[j - 1])
        j = back[j]
    return out[::-1]


def target_chapters(duration: float, n_candidates: int) -> tuple[int, int, int]:
    """(suggested, min, max) chapter counts for a video of this length.

    Short videos get short chapters (~25-40 s for a 2-minute clip), long ones a few minutes each;
    the count levels off near a dozen, which is what a reader can scan.
    """
    target = max(1, round(duration / (25 + duration / 12)))
    hi = min(n_candidates + 1, max(2, 2 * target), 30)
    lo = min(hi, max(1, target // 2))
    return min(target, hi), lo, hi
