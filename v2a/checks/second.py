"""A second recogniser over only the doubtful stretches: where two models disagree, one is wrong.

A word's probability alone is a weak detector (a global threshold flags one word in eight at
precision ~0.2). A different Whisper model (``base`` for a ``tiny.en`` transcript, ``tiny.en``
for any other English one) hears the audio again; a content word it hears differently is a
likely error, and its reading is the suggestion; a word it hears the same way is likely right
(the word's probability then only ranks). Hearing only the doubtful stretches
(``clip_timestamps``) was tried: each clip costs a 30-second window, and the errors both
systems are sure of were missed, so the whole audio is heard in one pass. The readings are kept
in ``.v2a/second_opinion.json`` (keyed by the audio, the span and the model), so ``v2a check``
again is instant.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..models import Transcript, Word
from . import numbers

PAD_S = 0.8  # audio each side of a stretch heard again
JOIN_S = 1.5  # stretches closer than this are heard together


@dataclass
class Opinion:
    model: str
    words: list[Word]
    wall_s: float = 0.0  # what hearing took (when it was cached: what it took then)
    clips: int = 0
    audio_s: float = 0.0  # how much audio was heard again
    cached: bool = False


def second_model(transcript: Transcript) -> str | None:
    """The other packaged model: base for tiny.en, tiny.en for any other English transcript."""
    if transcript.origin != "asr":
        return None
    if transcript.model.startswith("tiny"):
        return "base"
    return "tiny.en" if transcript.language.startswith("en") else None


def whole(transcript: Transcript) -> list[tuple[float, float]]:
    """The span a second model hears: all the speech."""
    end = transcript.duration or (transcript.segments[-1].end if transcript.segments else 0.0)
    return [(0.0, round(end, 2))] if end > 0 else []


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
         threads: int = 2, cache: Path | None = None, cached_only: bool = False
         ) -> Opinion | None:
    """The second model's words over ``cuts`` of ``audio`` (cached in ``cache``);
    ``cached_only``: None unless an earlier reading is cached."""
    import time

    key = hashlib.sha256(json.dumps([str(audio.stat().st_size), cuts, model, language]).encode()
                         ).hexdigest()[:16]
    if cache is not None and cache.exists():
        try:
            got = json.loads(cache.read_text("utf-8"))
            if got.get("key") == key:
                return Opinion(model, [Word(**w) for w in got["words"]],
                               float(got.get("wall_s", 0.0)), len(cuts),
                               sum(b - a for a, b in cuts), cached=True)
        except (OSError, ValueError, TypeError):
            pass
    if cached_only:
        return None
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
        cache.write_text(json.dumps({"key": key, "model": model, "wall_s": round(op.wall_s, 2),
                                     "words": [w.model_dump() for w in words]}), "utf-8")
    return op


def reading(opinion: Opinion, start: float, end: float, slack: float = 0.6) -> list[Word]:
    """The second model's words between ``start`` and ``end`` (with ``slack`` for word times
    that two models place a little differently)."""
    return [w for w in opinion.words if w.start < end + slack and start - slack < w.end]


def _plain(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def agrees(opinion: Opinion, word: Word) -> tuple[bool, str]:
    """Whether the second model heard ``word`` around its time — the same token, or the same
    letters over two or three of its tokens ("UTF-8" = "UTF8"), numbers as digits or words
    ("forty" = "40"); an inflection is a different word ("sequence" ≠ "sequences") — and what
    it heard there."""
    near = reading(opinion, word.start, word.end)
    heard = " ".join(w.text.strip() for w in near
                     if min(w.end, word.end) - max(w.start, word.start) > 0.05)
    for split in (_plain, numbers.tokens):
        mine = "".join(split(word.text))
        if not mine:
            return True, heard
        toks = [t for w in near for t in split(w.text)]
        joined = {"".join(toks[k:k + n]) for n in (2, 3) for k in range(len(toks) - n + 1)}
        if mine in toks or mine in joined:
            return True, heard
    return False, heard
