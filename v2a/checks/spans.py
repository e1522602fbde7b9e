"""Where a second listen is worth its time: the windows of speech a budget allows.

Whisper hears audio in 30-second windows, and on a CPU encoding a window costs about as much as
decoding twenty seconds of its speech: nine 2-second clips took as long as the whole 91-second
lecture (measured, bench/README.md). So the listen is planned in windows of whole sentences
(at most ``WINDOW_S`` with their padding), ranked by what they hold, most needed first, and
taken until the budget (seconds of audio per minute of speech) is spent. What a window holds:

1. the doubts found without a second opinion: an unsure word or phrase, a word that conflicts
   with the screen (``2 + score``), the source sentences of a prose number or name the speaker
   did not say (``1.5 + score``: a mishearing the writer copied);
2. the unsure stretches near a screen term that the transcribe stage's recheck picks
   (``v2a.transcribe.recheck.stretches``, with a higher probability bar);
3. every content word by its suspicion (``doubts.word_scores``: its probability against its
   neighbours, its shape, numbers).

The errors a tiny model is sure of are spread evenly through a talk, so what a budget finds
grows with the share heard (bench/results/doubts.json); the ranking makes sure the doubts
already found are heard (their reading is the suggestion, or the word is cleared).
"""

from __future__ import annotations

from ..models import Screen, Transcript
from . import doubts as d
from .models import Doubt
from .second import Cut

WINDOW_S = 30.0  # what Whisper encodes at once: a shorter clip costs as much to encode
PAD_S = 0.5  # audio each side of a window's sentences (its edge words are not judged)
MIN_S = 5.0  # a budget shorter than this hears nothing
TERM_LOW = 0.5  # recheck's unsure bar, raised: the listen judges words, it does not replace them


def candidates(transcript: Transcript, screen: Screen | None, found: list[Doubt],
               paras: list[d.Para]) -> list[tuple[float, float, float]]:
    """(priority, start, end) of each stretch worth hearing again, any order."""
    from ..ocr import terms as T
    from ..transcribe.recheck import stretches

    words = [w for s in transcript.segments for w in s.words]
    out: list[tuple[float, float, float]] = []
    for x in found:
        if x.kind in ("unsure", "screen"):
            out.append((2.0 + x.score, x.start, x.end))
        elif x.kind == "unsaid":
            # the sentences of its paragraph's source that could hold the mishearing
            src = next((p.sources for p in paras if p.start == x.start and p.end == x.end), [])
            for seg in src:
                if any(c.isdigit() for c in seg.text) or x.text.lower() in seg.text.lower():
                    out.append((1.5 + x.score, seg.start, seg.end))
    if screen is not None and screen.terms:
        seen = T.sightings(screen, list(screen.terms))
        for s in stretches(words, seen, TERM_LOW):
            out.append((1.5, s.start, s.end))
    for sc in d.word_scores(words, d.screen_words(screen)):
        w = words[sc.index]
        out.append((sc.score, w.start, w.end))
    return out


def windows(transcript: Transcript, length: float = WINDOW_S) -> list[Cut]:
    """Runs of whole sentences, each with its padding at most ``length`` long (a longer
    sentence alone), in time order."""
    inner = length - 2 * PAD_S
    out: list[list[float]] = []
    for s in transcript.segments:
        if out and s.end - out[-1][0] <= inner:
            out[-1][1] = s.end
        else:
            out.append([s.start, s.end])
    return [(a, b) for a, b in out]


def within(cands: list[tuple[float, float, float]], spans: list[Cut], budget_s: float,
           end: float) -> list[Cut]:
    """The clips to hear: the windows (``spans``) that hold the most, padded, while their
    length fits ``budget_s``; in time order. A budget shorter than every window hears the
    best one's middle, around its likeliest stretch."""
    if budget_s < MIN_S or not spans:
        return []
    held = [0.0] * len(spans)
    top: list[tuple[float, float] | None] = [None] * len(spans)
    k = 0
    for pr, a, b in sorted(cands, key=lambda c: c[1]):
        while k + 1 < len(spans) and spans[k][1] < a:
            k += 1
        if spans[k][0] <= a <= spans[k][1]:
            held[k] += pr
            best = top[k]
            if best is None or pr > best[0]:
                top[k] = (pr, (a + b) / 2)
    order = sorted(range(len(spans)), key=lambda i: (-held[i], spans[i][0]))
    out: list[Cut] = []
    spent = 0.0
    for i in order:
        if held[i] <= 0:
            break
        a, b = max(0.0, spans[i][0] - PAD_S), min(end, spans[i][1] + PAD_S) if end else \
            spans[i][1] + PAD_S
        if spent + (b - a) <= budget_s:
            out.append((round(a, 2), round(b, 2)))
            spent += b - a
        elif not out:  # none fits: the middle of the best one, as long as the budget
            mid = (top[i] or (0.0, (a + b) / 2))[1]
            lo = min(max(a, mid - budget_s / 2), b - budget_s)
            out.append((round(max(a, lo), 2), round(min(b, max(a, lo) + budget_s), 2)))
            break
    return sorted(out)


def budget(transcript: Transcript, per_minute: float) -> float:
    """Seconds of audio the listen may hear: ``per_minute`` for each minute of speech."""
    speech = sum(s.end - s.start for s in transcript.segments)
    return per_minute * speech / 60.0


def plan(transcript: Transcript, screen: Screen | None, found: list[Doubt],
         paras: list[d.Para], per_minute: float, end: float) -> list[Cut]:
    """The clips a budget of ``per_minute`` seconds per minute of speech hears."""
    return within(candidates(transcript, screen, found, paras), windows(transcript),
                  budget(transcript, per_minute), end)
