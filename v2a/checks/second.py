"""A second recogniser over only the doubtful stretches: where two models disagree, one is wrong.

A word's probability alone is a weak detector (a global threshold flags one word in eight at
precision ~0.2). A different Whisper model (``base`` for a ``tiny.en`` transcript, ``tiny.en``
for any other English one) re-hears the stretches around the words worth a look, in one call
over their clips (``clip_timestamps``); a word it hears differently is a likely error, and its
reading is the suggestion; a word it hears the same way is likely right. The readings are kept
in ``.v2a/second_opinion.json`` (keyed by the clips and the model), so ``v2a check`` again is
instant.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..models import Transcript, Word
from . import numbers

PAD_S = 0.8  # audio each side of a candidate word
JOIN_S = 1.5  # candidate clips closer than this are heard together


@dataclass
class Opinion:
    model: str
    words: list[Word]
    wall_s: float = 0.0
    clips: int = 0
    audio_s: float = 0.0  # how much audio was heard again


def second_model(transcript: Transcript) -> str | None:
    """The other packaged model: base for tiny.en, tiny.en for any other English transcript."""
    if transcript.origin != "asr":
        return None
    if transcript.model.startswith("tiny"):
        return "base"
    return "tiny.en" if transcript.language.startswith("en") else None


def clips(spans: list[tuple[float, float]], duration: float | None = None) -> list[tuple[float, float]]:
    """Candidate spans padded and merged into clips."""
    out: list[list[float]] = []
    for s, e in sorted(spans):
        s, e = max(0.0, s - PAD_S), e + PAD_S
        if duration:
            e = min(e, duration)
        if out and s - out[-1][1] < JOIN_S:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(round(a, 2), round(b, 2)) for a, b in out if b > a]


def hear(audio: Path, cuts: list[tuple[float, float]], model: str, language: str | None,
         threads: int = 2, cache: Path | None = None) -> Opinion:
    """The second model's words over ``cuts`` of ``audio`` (cached in ``cache``)."""
    import time

    key = hashlib.sha256(json.dumps([str(audio.stat().st_size), cuts, model, language]).encode()
                         ).hexdigest()[:16]
    if cache is not None and cache.exists():
        try:
            got = json.loads(cache.read_text("utf-8"))
            if got.get("key") == key:
                return Opinion(model, [Word(**w) for w in got["words"]], 0.0, len(cuts),
                               sum(b - a for a, b in cuts))
        except (OSError, ValueError, TypeError):
            pass
    if not cuts:
        return Opinion(model, [])
    from ..transcribe.faster import load_model
    from ..transcribe.whisper_models import resolve

    t0 = time.perf_counter()
    wm = load_model(resolve(model), threads)
    flat = [t for c in cuts for t in c]
    segs, _ = wm.transcribe(str(audio), language=None if model.endswith(".en") else language,
                            word_timestamps=True, clip_timestamps=flat, beam_size=5,
                            condition_on_previous_text=False, vad_filter=False)
    words = [Word(start=float(w.start), end=float(w.end), text=w.word,
                  probability=round(float(w.probability), 4))
             for s in segs for w in (s.words or [])]
    op = Opinion(model, words, time.perf_counter() - t0, len(cuts), sum(b - a for a, b in cuts))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "model": model,
                                     "words": [w.model_dump() for w in words]}), "utf-8")
    return op


def reading(opinion: Opinion, start: float, end: float, slack: float = 0.6) -> list[Word]:
    """The second model's words between ``start`` and ``end`` (with ``slack`` for word times
    that two models place a little differently)."""
    return [w for w in opinion.words if w.start < end + slack and start - slack < w.end]


def agrees(opinion: Opinion, word: Word) -> tuple[bool, str]:
    """Whether the second model heard ``word`` around its time (letters compared without
    spaces: "UTF-8" = "UTF8", "Welcome" inside "Welcome to"), and what it heard there."""
    from rapidfuzz import fuzz

    mine = "".join(numbers.tokens(word.text))
    near = reading(opinion, word.start, word.end)
    theirs = "".join(t for w in near for t in numbers.tokens(w.text))
    heard = " ".join(w.text.strip() for w in reading(opinion, word.start, word.end, 0.1))
    if not mine:
        return True, heard
    same = mine in theirs or (len(mine) >= 4 and fuzz.partial_ratio(mine, theirs) >= 88)
    return same, heard
