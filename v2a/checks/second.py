"""A second recogniser over the speech: where two models disagree, one is wrong.

A word's probability alone is a weak detector (a global threshold flags one word in eight at
precision ~0.2). A different Whisper model (``base`` for a ``tiny.en`` transcript, ``tiny.en``
for any other English one) hears the audio again; a content word it hears differently is a
likely error, and its reading is the suggestion; a word it hears the same way is likely right
(the word's probability then only ranks). A word outside what it heard is judged without it.

What it hears is ``--second-listen``: ``auto`` (default: ``whole`` for a short talk, else
``spans`` adding up to 20 minutes; ``v2a.checks.build.auto_listen``), ``spans``, the windows of
speech that need it most within ``--listen-budget`` seconds per minute of speech
(``v2a.checks.spans`` picks them), or ``whole``; one pass over the clips (``clip_timestamps``).
What was heard is kept in ``.v2a/second_opinion.json``, clip by clip, keyed by the audio, the
model, the language and the beam: a stretch heard before is never heard again (``v2a check``
again, or a re-run after a small edit, costs nothing or only the new stretches; ``whole`` after
``spans`` hears the rest).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..models import Transcript, Word
from . import numbers

if TYPE_CHECKING:
    from ..transcribe.faster import _Audio

# greedy, one temperature: a beam of 5 took 1.7x as long for the same doubts, and the fallback
# to sampling re-decodes the clips it finds unsure (bench/README.md, "the second listen")
BEAM = 1
MIN_GAP_S = 1.0  # a part of a cut shorter than this is not heard on its own
EDGE_S = 0.3  # a word this close to a clip's cut edge may be cut: not judged by the clip

Cut = tuple[float, float]


@dataclass
class Opinion:
    model: str
    words: list[Word]
    wall_s: float = 0.0  # what hearing took (when it was cached: what it took then)
    clips: int = 0
    audio_s: float = 0.0  # how much audio was heard again
    cached: bool = False
    spans: list[Cut] = field(default_factory=list)  # what was heard ([] with words: all of it)
    new_s: float = 0.0  # of audio_s, heard now (the rest came from the cache)

    def covers(self, word: Word) -> bool:
        """Whether the second model heard the time of ``word`` (well inside one clip)."""
        if not self.spans:
            return True
        return any((a == 0.0 or a + EDGE_S <= word.start) and word.end <= b - EDGE_S
                   for a, b in self.spans)


def second_model(transcript: Transcript) -> str | None:
    """The other packaged model: base for tiny.en, tiny.en for any other English transcript."""
    if transcript.origin != "asr":
        return None
    if transcript.model.startswith("tiny"):
        return "base"
    return "tiny.en" if transcript.language.startswith("en") else None


def duration(transcript: Transcript) -> float:
    return transcript.duration or (transcript.segments[-1].end if transcript.segments else 0.0)


def whole(transcript: Transcript) -> list[Cut]:
    """The span a second model hears: all the speech."""
    end = duration(transcript)
    return [(0.0, round(end, 2))] if end > 0 else []


def cache_key(audio: Path, model: str, language: str | None, beam: int = BEAM) -> str:
    """What a cached reading must match: the audio (by size), the model, the language and the
    beam."""
    return hashlib.sha256(json.dumps([str(audio.stat().st_size), model, language, beam]
                                     ).encode()).hexdigest()[:16]


def _gaps(cut: Cut, heard: list[Cut]) -> list[Cut]:
    """The parts of ``cut`` not heard yet (a whole listen after a budgeted one hears the rest);
    a sliver under ``MIN_GAP_S`` is left out (its words are at the edges of what was heard)."""
    out: list[Cut] = []
    at = cut[0]
    for a, b in sorted(heard):
        if b <= at or a >= cut[1]:
            continue
        if a - at >= MIN_GAP_S:
            out.append((round(at, 2), round(a, 2)))
        at = max(at, b)
    if cut[1] - at >= MIN_GAP_S:
        out.append((round(at, 2), round(cut[1], 2)))
    return out


def _load_cache(cache: Path | None, key: str) -> list[dict]:
    if cache is None or not cache.exists():
        return []
    try:
        got = json.loads(cache.read_text("utf-8"))
        if got.get("key") == key and isinstance(got.get("pieces"), list):
            return got["pieces"]
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return []  # another audio or model, an older layout, damaged: heard again


def hear(audio: Path, cuts: list[Cut], model: str, language: str | None,
         threads: int = 2, cache: Path | None = None, cached_only: bool = False,
         device: str = "cpu", cache_dir: Path | None = None, beam: int = BEAM
         ) -> Opinion | None:
    """The second model's words over ``cuts`` of ``audio``; the clips heard before come from
    ``cache`` and the new ones are added to it. ``cached_only``: nothing is heard, the opinion
    is everything heard before (None when nothing was)."""
    key = cache_key(audio, model, language, beam)
    pieces = _load_cache(cache, key)
    heard = [(float(p["span"][0]), float(p["span"][1])) for p in pieces]
    if cached_only:
        if not pieces:
            return None
        cuts = heard
    todo = [g for c in cuts for g in _gaps(c, heard)]
    if todo:
        t0 = time.perf_counter()
        words = _decode(audio, todo, model, language, threads, device, cache_dir, beam)
        took = time.perf_counter() - t0
        total = sum(b - a for a, b in todo) or 1.0
        for a, b in todo:  # each clip its own piece, with its share of the time (by length)
            mine = [w for w in words if a - 0.5 <= (w.start + w.end) / 2 <= b + 0.5]
            pieces.append({"span": [a, b], "wall_s": round(took * (b - a) / total, 3),
                           "words": [w.model_dump() for w in mine]})
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({"key": key, "model": model, "pieces": pieces}), "utf-8")
    used = [p for p in pieces if any(p["span"][0] < b and a < p["span"][1] for a, b in cuts)]
    words = sorted({(w["start"], w["text"]): Word(**w) for p in used for w in p["words"]}.values(),
                   key=lambda w: w.start)
    return Opinion(model, words, round(sum(float(p.get("wall_s", 0.0)) for p in used), 3),
                   len(cuts), round(sum(b - a for a, b in cuts), 2), cached=not todo,
                   spans=_merged([(float(p["span"][0]), float(p["span"][1])) for p in used]),
                   new_s=round(sum(b - a for a, b in todo), 2))


def _merged(spans: list[Cut]) -> list[Cut]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1e-6:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


BATCH_S = 300.0  # audio per decoding call: Whisper's features of a whole hour took 3.9 GB


def _split(cut: Cut, sound: _Audio | None) -> list[Cut]:
    """``cut`` in pieces of at most about ``BATCH_S``, each split at the quietest half second
    within 10 s of where it would fall (a whole listen of a long talk)."""
    from ..transcribe.faster import _quietest

    a, b = cut
    out: list[Cut] = []
    while sound is not None and b - a > BATCH_S + 20.0:
        at = a + BATCH_S
        cut_at = round(_quietest(sound.read(at - 10.0, at + 10.0), at - 10.0), 2)
        out.append((a, cut_at))
        a = cut_at
    return out + [(a, b)]


def _batches(cuts: list[Cut]) -> list[list[Cut]]:
    out: list[list[Cut]] = []
    for c in sorted(cuts):
        if out and sum(b - a for a, b in out[-1]) + c[1] - c[0] <= BATCH_S:
            out[-1].append(c)
        else:
            out.append([c])
    return out


def _decode(audio: Path, cuts: list[Cut], model: str, language: str | None, threads: int,
            device: str, cache_dir: Path | None, beam: int = BEAM) -> list[Word]:
    """One pass of ``model`` over the clips (the process's shared copy of the model). The
    clips are decoded a few minutes of audio at a time, laid end to end (each still its own
    clip), so memory stays flat however long the talk."""
    import numpy as np

    from ..transcribe import shared_model
    from ..transcribe.faster import RATE, _Audio
    from ..transcribe.whisper_models import resolve

    wm = shared_model.load(resolve(model, cache_dir), threads, device)
    words: list[Word] = []
    sound = _Audio(audio)  # the WAV is read clip by clip, never whole
    try:
        for batch in _batches([p for c in cuts for p in _split(c, sound)]):
            clips = [sound.read(a, b) for a, b in batch]
            starts = np.cumsum([0] + [len(x) for x in clips]) / RATE
            flat = [float(t) for k in range(len(clips)) for t in (starts[k], starts[k + 1])]
            segs, _ = wm.transcribe(np.concatenate(clips),
                                    language=None if model.endswith(".en") else language,
                                    word_timestamps=True, clip_timestamps=flat, beam_size=beam,
                                    temperature=0.0, condition_on_previous_text=False,
                                    vad_filter=False)
            for w in (w for s in segs for w in (s.words or [])):
                k = min(int(np.searchsorted(starts, (w.start + w.end) / 2, side="right")) - 1,
                        len(batch) - 1)
                shift = batch[k][0] - starts[k]
                words.append(Word(start=round(float(w.start) + shift, 2),
                                  end=round(float(w.end) + shift, 2), text=w.word,
                                  probability=round(float(w.probability), 4)))
    finally:
        sound.close()
    return words


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
