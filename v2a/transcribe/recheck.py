"""A second listen where the recogniser was unsure and the screen shows a term close by.

The first pass runs without hints (a prompt made tiny.en drop words on real recordings). Here
only the low-confidence stretches whose time on screen shows terms are decoded again, by the
multilingual ``base`` model with those terms as hotwords: "gets test" (p 0.07) becomes
``get_stats`` while the notebook cell ``def get_stats(ids):`` is on screen. Each stretch is a
clip of a few seconds decoded on its own, so the cost grows with the unsure stretches, not with
the talk.

A new reading is taken only where evidence agrees: the stretch it replaces differs from the
first reading, the new words spell a term the screen shows near that time (as the screen spells
it, or one the respeller maps onto it), and the recogniser is surer of them than of the words
they replace. Everything else in the second reading is thrown away. Each change is recorded
as a ``Respelling`` with ``how="rechecked"`` and the frame that shows the term.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import Config
from ..errors import V2AError
from ..models import Respelling, Segment, Transcript, Word
from ..ocr import terms as T
from .sentences import _text

COMMON = T._COMMON  # function words: an unsure "the" hides no term

RATE = 16000
LOW_P = 0.2  # a word below this probability is one the recogniser was unsure of
CONTEXT_WORDS = 2  # sure words kept on each side: the decoder hears the term in its sentence
CONTEXT_S = 2.5  # and the words within this many seconds of the unsure ones
PAD_S = 0.25  # audio before the first and after the last word of a stretch
LIKE = 75  # rapidfuzz partial ratio: unsure words that sound like part of a term
DROP_S = 1.5  # a silence this long next to an unsure word: words the first pass dropped
MAX_S = 12.0  # a longer unsure stretch is not a misheard term: left alone
NEAR_S = 60.0  # a term counts when the screen shows it this close to the stretch
MAX_HOTWORDS = 12
MIN_P = 0.25  # below this a term in the new reading is the hotword guessed (0.01-0.05 seen)
# names of files and attribute calls are read off the screen but hardly ever said
_EXTENSIONS = {"ipynb", "py", "txt", "json", "csv", "html", "md"}
_UNSAID = re.compile(r"\.(?:py|ipynb|txt|md|json|csv|html?|com|org|io)$|^https?:|^www\.")

Decode = Callable[[np.ndarray, list[str]], list[tuple[float, float, str, float]]]


@dataclass
class Stretch:
    """Words ``first..last`` (inclusive) of the transcript, decoded again with ``terms``."""

    first: int
    last: int
    start: float
    end: float
    terms: list[str]
    new: list[Word] = field(default_factory=list)  # the second reading, on the talk's clock


def sayable(term: str) -> bool:
    """A term a speaker would say: not a file name, URL, extension or attribute call
    (``enc.encode``; its parts are terms of their own). Others, as hotwords, made Whisper repeat
    them (".append.append…")."""
    return (len(term) >= 3 and not _UNSAID.search(term.lower()) and "." not in term
            and term.lower() not in _EXTENSIONS)


def stretches(words: list[Word], seen: dict[str, list[T.Sighting]], low: float = LOW_P
              ) -> list[Stretch]:
    """Runs of unsure words (with ``CONTEXT_WORDS`` around them) that may hide a term the screen
    shows close by: the unsure words sound like part of one, or the recogniser left a gap in
    the speech beside them (words it dropped). An unsure "the" or "that" is no reason."""
    from rapidfuzz import fuzz

    unsure = [i for i, w in enumerate(words) if w.probability is not None
              and w.probability < low and T._bare(w.text).lower() not in COMMON]
    runs: list[list[int]] = []
    for i in unsure:
        if runs and i - runs[-1][1] <= 2 * CONTEXT_WORDS:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    out: list[Stretch] = []
    for a, b in runs:
        first, last = max(0, a - CONTEXT_WORDS), min(len(words) - 1, b + CONTEXT_WORDS)
        if words[last].end - words[first].start > MAX_S:
            continue
        # more of the sentence around it, up to CONTEXT_S: the clip is padded to Whisper's
        # 30 s window anyway, and a term decoded out of context came out unsure (p 0.004)
        while first > 0 and words[a].start - words[first - 1].start <= CONTEXT_S:
            first -= 1
        while last + 1 < len(words) and words[last + 1].end - words[b].end <= CONTEXT_S:
            last += 1
        start, end = words[first].start, words[last].end
        near = []
        for term, sights in seen.items():
            hit = T.nearest(sights, start, end)
            if hit is not None and hit[0] <= NEAR_S and sayable(term):
                near.append((hit[0], term))
        if not near:
            continue
        heard = "".join(re.sub(r"\W+", "", words[k].text.lower()) for k in range(a, b + 1)
                        if k in unsure)
        like = len(heard) >= 4 and any(
            fuzz.partial_ratio(heard, re.sub(r"\W+", "", T.spoken(t))) >= LIKE for _, t in near)
        gap = any(words[k + 1].start - words[k].end >= DROP_S
                  for k in range(max(first, a - 1), min(last, b + 1)))
        if like or gap:
            terms = [t for _, t in sorted(near)][:MAX_HOTWORDS]
            out.append(Stretch(first, last, start, end, terms))
    return out


def decode_again(s: Stretch, read: Callable[[float, float], np.ndarray], duration: float,
                 decode: Decode) -> None:
    """Decode one stretch's clip alone (clips joined by silence made Whisper loop: one clip's
    words repeated over the others)."""
    a, b = max(0.0, s.start - PAD_S), min(duration, s.end + PAD_S)
    s.new = [Word(start=round(a + start, 3), end=round(a + end, 3), text=text,
                  probability=round(p, 4))
             for start, end, text, p in decode(read(a, b).astype(np.float32), s.terms)]


def _bare(text: str) -> str:
    return text.strip().strip(".,;:!?\"'()")


def _aside(word: str, term: str) -> bool:
    """A word that sounds like no part of the term: "without" beside PyTorch (not the "gets"
    of get_stats, nor the "Python" PyTorch was misheard as)."""
    from rapidfuzz import fuzz

    w = _bare(word).lower()
    return fuzz.partial_ratio(w, T.spoken(term).replace(" ", "")) < (75 if w in COMMON else 50)


def accept(words: list[Word], s: Stretch, seen: dict[str, list[T.Sighting]]
           ) -> list[tuple[int, int, list[Word], Respelling]]:
    """Where the second reading of ``s`` spells a screen term the first did not, and is surer:
    (first, end) of the old words to replace (first == end: the term goes in between), the new
    words and the record. Old and new words are paired by time."""
    fixed, _ = T.respell(s.new, s.terms, seen)  # "cl100k base" → cl100k_base
    by_lower = {t.lower(): t for t in s.terms}
    old = words[s.first:s.last + 1]
    out = []
    k = 0
    while k < len(fixed):
        hit = None
        for n in (3, 2, 1):
            text = _bare(" ".join(w.text.strip() for w in fixed[k:k + n]))
            if k + n <= len(fixed) and text.lower() in by_lower:
                hit = (n, by_lower[text.lower()])
                break
        if hit is None:
            k += 1
            continue
        n, term = hit
        start, end = fixed[k].start, fixed[k + n - 1].end
        k += n
        new = [w for w in s.new if w.end > start and w.start < end] or fixed[k - n:k]
        covered = [j for j, w in enumerate(old)
                   if start - 0.1 <= (w.start + w.end) / 2 <= end + 0.1]
        # word times of two decodes differ by a word's length: a function word at the edge
        # ("without Python" under PyTorch) is the sentence around the term, kept
        while covered and _aside(old[covered[0]].text, term):
            covered.pop(0)
        while covered and _aside(old[covered[-1]].text, term):
            covered.pop()
        if not covered and any(start - 0.1 <= (w.start + w.end) / 2 <= end + 0.1 for w in old):
            continue  # only function words under it: not a stretch the first pass misheard
        oldw = old[covered[0]:covered[-1] + 1] if covered else []
        old_text = " ".join(w.text.strip() for w in oldw)
        if re.search(r"(?<![\w])" + re.escape(term) + r"(?![\w])", old_text, re.IGNORECASE):
            continue  # the first reading had it already
        p_new = min(w.probability or 0.0 for w in new)
        p_old = (sum(w.probability or 0.0 for w in oldw) / len(oldw)) if oldw else 0.0
        if p_new < MIN_P or p_new <= p_old:
            continue
        near = T.nearest(seen.get(term, []), start, end)
        if near is None or near[0] > NEAR_S:
            continue
        if covered:
            a, b = s.first + covered[0], s.first + covered[-1] + 1
            start, end = oldw[0].start, oldw[-1].end
        else:  # the first reading has nothing there: between the words around that time
            a = b = s.first + sum(1 for w in old if w.end <= start)
        tail = re.sub(r"^.*?([.,;:!?]*)$", r"\1", oldw[-1].text) if oldw else ""
        put = [Word(start=start, end=end, text=" " + term + tail, probability=round(p_new, 4))]
        if not covered:
            put = dropped_phrase(words, a, fixed, k - n, k, put[0])
        rec = Respelling(heard=old_text or "(nothing)", term=term, start=start, end=end,
                         how="rechecked", score=round(100 * p_new, 1), shown_at=near[1].time,
                         keyframe=near[1].keyframe, scene=near[1].scene)
        out.append((a, b, put, rec))
    return out


MAX_PHRASE = 8  # words of the second reading put back around a dropped term


def dropped_phrase(words: list[Word], at: int, fixed: list[Word], i: int, j: int,
                   term: Word) -> list[Word]:
    """The first reading dropped a phrase ("…met one. ‹the cl100k_base encoding.› Almost"): the
    second reading's words in that hole around the term (``fixed[i:j]``), each heard surely, so
    the sentence reads as said and not as a bare term; the term alone where they are not."""
    lo = words[at - 1].end if at > 0 else 0.0
    hi = words[at].start if at < len(words) else float("inf")

    def fits(w: Word) -> bool:
        return lo - 0.05 <= (w.start + w.end) / 2 <= hi + 0.05 and (w.probability or 0) >= MIN_P

    a, b = i, j
    while a > 0 and j - (a - 1) <= MAX_PHRASE and fits(fixed[a - 1]):
        a -= 1
    while b < len(fixed) and b + 1 - a <= MAX_PHRASE and fits(fixed[b]):
        b += 1
    tail = re.sub(r"^.*?([.,;:!?]*)$", r"\1", fixed[j - 1].text.rstrip())
    put = fixed[a:i] + [term.model_copy(update={"text": term.text + tail})] + fixed[j:b]
    # a sentence's first word gets its capital; a screen term keeps the screen's spelling
    if at > 0 and a < i and re.search(r"[.!?][\"')]*$", words[at - 1].text):
        first = put[0].text.lstrip()
        put[0] = put[0].model_copy(update={"text": " " + first[:1].upper() + first[1:]})
    return [w if w.text.startswith(" ") else w.model_copy(update={"text": " " + w.text})
            for w in put]


def recheck(words: list[Word], seen: dict[str, list[T.Sighting]],
            read: Callable[[float, float], np.ndarray], duration: float, decode: Decode,
            low: float = LOW_P) -> tuple[list[Word], list[Respelling], int]:
    """The words with the terms a second, hinted listen heard surely; the changes; and how
    many stretches were decoded again."""
    todo = stretches(words, seen, low)
    for s in todo:
        decode_again(s, read, duration, decode)
    changes: list[tuple[int, int, list[Word], Respelling]] = []
    for s in todo:
        if s.new:
            changes += accept(words, s, seen)
    changes.sort(key=lambda c: c[0])
    out: list[Word] = []
    records: list[Respelling] = []
    i = 0
    for a, b, put, rec in changes:
        if a < i:
            continue  # overlaps a change already taken
        out += words[i:a]
        if a == b:  # words the first pass dropped: between their neighbours
            out += put
        else:
            if words[a].text[:1] != " ":
                put = [put[0].model_copy(update={"text": put[0].text.lstrip()})] + put[1:]
            out += put
        records.append(rec)
        i = b
    out += words[i:]
    return out, records, len(todo)


def whisper_decoder(model, language: str | None = "en", beam_size: int = 5) -> Decode:
    """A ``Decode`` over a faster-whisper model: one pass, greedy temperature (a fallback to
    sampling invents words), the terms as hotwords and as a plain prompt sentence."""

    def decode(samples: np.ndarray, terms: list[str]) -> list[tuple[float, float, str, float]]:
        kw: dict = {}
        if terms:
            kw = {"hotwords": ", ".join(terms)}
        segs, _ = model.transcribe(samples, language=language, beam_size=beam_size,
                                   temperature=0.0, vad_filter=False, word_timestamps=True,
                                   condition_on_previous_text=False, no_repeat_ngram_size=3,
                                   max_new_tokens=max(16, int(len(samples) / RATE * 8)), **kw)
        return [(float(w.start), float(w.end), w.word, float(w.probability))
                for seg in segs for w in (seg.words or [])]

    return decode


def regroup(segments: list[Segment], words: list[Word]) -> None:
    """Put the rechecked words back into their segments (by time; a word the first pass had
    dropped goes to the segment that contains it, or the one before it)."""
    if not segments:
        return
    buckets: list[list[Word]] = [[] for _ in segments]
    k = 0
    for w in words:
        mid = (w.start + w.end) / 2
        while k + 1 < len(segments) and segments[k + 1].start <= mid:
            k += 1
        buckets[k].append(w)
    for seg, ws in zip(segments, buckets, strict=True):
        if ws != seg.words:
            seg.words = ws
            seg.text = _text(ws)


def run(tr: Transcript, audio_path: Path, seen: dict[str, list[T.Sighting]], config: Config
        ) -> tuple[list[Respelling], str | None]:
    """The transcribe stage's second listen (``--recheck MODEL``), in place on ``tr``: the
    changes, and a note when it could not run."""
    from . import shared_model
    from .faster import FasterWhisperOptions, _Audio, pick_device
    from .whisper_models import resolve

    words = [w for s in tr.segments for w in s.words]
    if not seen or not words:
        return [], None
    if not stretches(words, seen):
        tr.timings["recheck_s"] = 0.0
        return [], None
    t0 = time.perf_counter()
    try:
        # the process's one copy: the checks' second listen decodes with it too
        model = shared_model.load(resolve(config.recheck, config.cache_dir), config.asr_threads,
                                  pick_device(config.options_of(FasterWhisperOptions).asr_device))
    except V2AError as exc:
        return [], f"no second listen for terms: {exc}"
    language = tr.language if not resolve(config.recheck, config.cache_dir).english_only \
        else "en"
    audio = _Audio(audio_path)
    try:
        out, records, n = recheck(words, seen, audio.read, audio.duration,
                                  whisper_decoder(model, language, config.beam_size))
    finally:
        audio.close()
    regroup(tr.segments, out)
    tr.timings["recheck_s"] = round(time.perf_counter() - t0, 3)
    tr.timings["recheck_stretches"] = float(n)
    return records, None
