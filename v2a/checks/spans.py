"""Where a second listen is worth its time: the stretches of speech a budget allows.

Hearing the whole talk again costs about half its length on two cores; most of it is speech
nobody doubts. The stretches are ranked, most needed first, and taken until the budget
(seconds of audio per minute of speech) is spent:

1. where the doubts found without a second opinion point: an unsure word or phrase, a word that
   conflicts with the screen, the source sentence of a prose number or name the speaker did not
   say (a mishearing the writer copied, or a number the prose got wrong);
2. the unsure stretches near a screen term that the transcribe stage's recheck picks
   (``v2a.transcribe.recheck.stretches``, any probability below its bar);
3. every content word by its suspicion (``doubts.word_scores``: its probability against its
   neighbours, its shape, numbers), most suspicious first.

Each stretch is padded (``second.PAD_S``) and close ones join, as ``second.clips`` hears them.
"""

from __future__ import annotations

import bisect

from ..models import Screen, Transcript
from . import doubts as d
from .models import Doubt
from .second import JOIN_S, PAD_S, Cut

LONGEST_S = 8.0  # a doubt longer than this (a paragraph, a chapter) is heard around its start
TERM_LOW = 0.5  # recheck's unsure bar, raised: the listen does not replace words, it judges them


def candidates(transcript: Transcript, screen: Screen | None, found: list[Doubt],
               paras: list[d.Para]) -> list[tuple[float, float, float]]:
    """(priority, start, end) of each stretch worth hearing again, any order."""
    from ..ocr import terms as T
    from ..transcribe.recheck import stretches

    words = [w for s in transcript.segments for w in s.words]
    out: list[tuple[float, float, float]] = []
    for x in found:
        if x.kind in ("unsure", "screen") and x.end - x.start <= LONGEST_S:
            out.append((2.0 + x.score, x.start, x.end))
        elif x.kind == "unsaid":
            # the source sentences of its paragraph that hold a number or a capital: where a
            # mishearing would be
            src = next((p.sources for p in paras if p.start == x.start and p.end == x.end), [])
            for seg in src:
                if any(c.isdigit() for c in seg.text) or x.text.lower() in seg.text.lower():
                    out.append((1.5 + x.score, seg.start, min(seg.end, seg.start + LONGEST_S)))
    if screen is not None and screen.terms:
        seen = T.sightings(screen, list(screen.terms))
        for s in stretches(words, seen, TERM_LOW):
            out.append((1.5, s.start, min(s.end, s.start + LONGEST_S)))
    for sc in d.word_scores(words, d.screen_words(screen)):
        w = words[sc.index]
        out.append((sc.score, w.start, w.end))
    return out


def within(cands: list[tuple[float, float, float]], budget_s: float, end: float) -> list[Cut]:
    """The clips of the highest-priority stretches whose padded, joined length fits
    ``budget_s``, in time order."""
    starts: list[float] = []  # clips as parallel sorted lists
    ends: list[float] = []
    spent = 0.0
    for _, a, b in sorted(cands, key=lambda c: (-c[0], c[1])):
        if budget_s - spent < 2 * PAD_S:
            break
        a, b = max(0.0, a - PAD_S), min(end, b + PAD_S) if end else b + PAD_S
        if b <= a:
            continue
        # the clips this one touches (closer than JOIN_S) merge with it
        lo = bisect.bisect_left(ends, a - JOIN_S)
        hi = bisect.bisect_right(starts, b + JOIN_S)
        na, nb = min([a, *starts[lo:hi]]), max([b, *ends[lo:hi]])
        cost = (nb - na) - sum(e - s for s, e in zip(starts[lo:hi], ends[lo:hi]))
        if spent + cost > budget_s:
            continue
        spent += cost
        starts[lo:hi], ends[lo:hi] = [na], [nb]
    return [(round(a, 2), round(b, 2)) for a, b in zip(starts, ends)]


def budget(transcript: Transcript, per_minute: float) -> float:
    """Seconds of audio the listen may hear: ``per_minute`` for each minute of speech."""
    speech = sum(s.end - s.start for s in transcript.segments)
    return per_minute * speech / 60.0
