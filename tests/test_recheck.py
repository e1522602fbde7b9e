"""The second listen: unsure stretches near a screen term decoded again with the terms as
hotwords, and a new reading taken only where it spells a screen term surely."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from v2a.models import Screen, ScreenFrame, ScreenLine, Segment, Word
from v2a.ocr import terms as T
from v2a.transcribe import recheck as R

SCREEN = Screen(engine="test", frames=[
    ScreenFrame(scene=0, time=0.0, keyframe="keyframes/scene-000.jpg", lines=[
        ScreenLine(text='enc = tiktoken.get_encoding("cl100k_base")', box=[0, 0, 1, 1]),
        ScreenLine(text="def get_stats(ids):", box=[0, 0, 1, 1])]),
    ScreenFrame(scene=1, time=200.0, keyframe="keyframes/scene-001.jpg", lines=[
        ScreenLine(text="Exercises", box=[0, 0, 1, 1])])])
TERMS = T.extract([ln.text for f in SCREEN.frames for ln in f.lines])
SEEN = T.sightings(SCREEN, TERMS)


def words(spec: list[tuple[str, float, float, float]]) -> list[Word]:
    return [Word(start=a, end=b, text=" " + t, probability=p) for t, a, b, p in spec]


# tiny.en on "…you have met one: the cl100k_base encoding. Almost every…": the term is gone,
# a 2.5 s hole where it was said, the next word unsure
HOLE = words([("you", 10.0, 10.2, .99), ("have", 10.2, 10.4, .98), ("met", 10.4, 10.7, 1.0),
              ("one.", 10.7, 11.2, .94), ("Almost", 13.7, 14.3, .01), ("every", 14.3, 14.9, .89),
              ("weird", 14.9, 15.2, .89)])


def fake(reading: list[tuple[float, float, str, float]]) -> R.Decode:
    """A decoder that hears ``reading`` (times relative to the clip) and records its hotwords."""
    def decode(samples: np.ndarray, terms: list[str]):
        decode.terms = terms  # type: ignore[attr-defined]
        return reading
    return decode


def silence(a: float, b: float) -> np.ndarray:
    return np.zeros(int((b - a) * R.RATE), dtype=np.float32)


def test_only_unsure_stretches_near_a_term_are_decoded_again():
    (s,) = R.stretches(HOLE, SEEN)
    assert (s.first, s.last) == (2, 6)  # the unsure word, its neighbours and the hole
    assert "cl100k_base" in s.terms and "tiktoken" in s.terms
    assert not any(t.endswith(".ipynb") or "." in t for t in s.terms)
    # the same words far from any screen, or heard surely: nothing to recheck
    far = [w.model_copy(update={"start": w.start + 500, "end": w.end + 500}) for w in HOLE]
    assert R.stretches(far, SEEN) == []
    sure = [w.model_copy(update={"probability": .95}) for w in HOLE]
    assert R.stretches(sure, SEEN) == []


def test_a_dropped_term_heard_surely_the_second_time_goes_back_in():
    # the clip starts PAD_S before "met" (10.4 s)
    t0 = 10.4 - R.PAD_S
    dec = fake([(10.45 - t0, 10.7 - t0, " met", .9), (10.7 - t0, 11.1 - t0, " one,", .9),
                (11.4 - t0, 11.6 - t0, " the", .8), (11.7 - t0, 12.4 - t0, " cl100k", .62),
                (12.4 - t0, 12.8 - t0, " base", .64), (12.8 - t0, 13.4 - t0, " encoding.", .5),
                (13.7 - t0, 14.3 - t0, " Almost", .7)])
    out, recs, n = R.recheck(HOLE, SEEN, silence, 20.0, dec)
    assert n == 1 and "cl100k_base" in dec.terms  # type: ignore[attr-defined]
    text = "".join(w.text for w in out)
    # the phrase the first reading dropped goes back as heard, not the bare term
    # ("…met one. cl100k_base Almost…" in the regenerated notebook talk)
    assert text == " you have met one. The cl100k_base encoding. Almost every weird"
    (r,) = recs
    assert (r.term, r.how, r.heard, r.shown_at) == ("cl100k_base", "rechecked", "(nothing)", 0.0)
    assert out[5].start == r.start and out[4].start >= 11.2  # in the hole, in time order
    assert [w.start for w in out] == sorted(w.start for w in out)
    # an unsure neighbour of the second reading stays out: the term alone
    dec = fake([(11.4 - t0, 11.6 - t0, " the", .1), (11.7 - t0, 12.4 - t0, " cl100k", .62),
                (12.4 - t0, 12.8 - t0, " base", .64), (13.7 - t0, 14.3 - t0, " Almost", .7)])
    out, recs, _ = R.recheck(HOLE, SEEN, silence, 20.0, dec)
    assert "".join(w.text for w in out) == " you have met one. cl100k_base Almost every weird"


def test_a_second_reading_is_refused_without_evidence():
    t0 = 10.4 - R.PAD_S
    # less sure than the floor: a guess
    unsure = fake([(11.7 - t0, 12.8 - t0, " cl100k_base", .2)])
    assert R.recheck(HOLE, SEEN, silence, 20.0, unsure)[1] == []
    # a word that is no screen term, however sure
    other = fake([(11.7 - t0, 12.8 - t0, " clock", .99)])
    out, recs, _ = R.recheck(HOLE, SEEN, silence, 20.0, other)
    assert recs == [] and out == HOLE
    # sure old words are not replaced by a less sure reading of a term
    heard = words([("I", 1.0, 1.2, .9), ("call", 1.2, 1.5, .98), ("it", 1.5, 1.6, .99),
                   ("gets", 1.6, 1.9, .07), ("test", 1.9, 2.2, .06), ("and", 2.2, 2.4, .5)])
    t1 = R.stretches(heard, SEEN)[0].start - R.PAD_S  # where the clip starts
    weak = fake([(1.6 - t1, 2.2 - t1, " get_stats", .05)])
    assert R.recheck(heard, SEEN, silence, 5.0, weak)[1] == []
    sure = fake([(1.6 - t1, 2.2 - t1, " get_stats,", .8)])
    out, recs, _ = R.recheck(heard, SEEN, silence, 5.0, sure)
    assert "".join(w.text for w in out) == " I call it get_stats and"
    assert recs[0].heard == "gets test"


def test_rechecked_words_go_back_to_their_segments():
    segs = [Segment(id=0, start=10.0, end=11.2, text="you have met one.", words=HOLE[:4]),
            Segment(id=1, start=13.7, end=15.2, text="Almost every weird", words=HOLE[4:])]
    new = HOLE[:4] + [Word(start=11.7, end=12.8, text=" cl100k_base", probability=.6)] + HOLE[4:]
    R.regroup(segs, new)
    assert segs[0].text == "you have met one. cl100k_base"
    assert segs[1].words == HOLE[4:]


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")
def test_base_hears_a_term_the_first_pass_dropped(tmp_path):
    """Real decoders on an espeak clip. tiny.en's reading with the term cut out, as tiny.en
    did on the generated talk (a 2.5 s hole, the next word at p 0.01); base, given the
    screen's terms, puts it back."""
    from v2a.config import default_cache_dir
    from v2a.transcribe.faster import _Audio, load_model
    from v2a.transcribe.whisper_models import resolve

    raw, wav = tmp_path / "s.wav", tmp_path / "r.wav"
    subprocess.run(["espeak-ng", "-s", "165", "-w", str(raw),
                    "If you have used the tiktoken library, you have already met one: the "
                    "cl100k_base encoding. Almost every weird thing can be traced back to it."],
                   check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-ar", "16000", "-ac", "1",
                    str(wav)], check=True)
    tiny = load_model(resolve("tiny.en", default_cache_dir()), 2)
    segs, _ = tiny.transcribe(str(wav), word_timestamps=True, vad_filter=False)
    heard = [Word(start=float(x.start), end=float(x.end), text=x.word, probability=.95)
             for s in segs for x in s.words or []]
    k = next(i for i, w in enumerate(heard) if w.text.strip().lower().startswith("cl"))
    j = next(i for i, w in enumerate(heard) if w.text.strip().lower() == "almost")
    # the term and its neighbours gone, the word after the hole unsure
    first = heard[:k - 1] + [heard[j].model_copy(update={"probability": .01})] + heard[j + 1:]
    assert "cl100k" not in "".join(w.text for w in first).lower()
    audio = _Audio(wav)
    base = load_model(resolve("base", default_cache_dir()), 2)
    out, recs, n = R.recheck(first, SEEN, audio.read, audio.duration, R.whisper_decoder(base))
    audio.close()
    assert n == 1
    assert [(r.term, r.heard) for r in recs] == [("cl100k_base", "(nothing)")], \
        "".join(w.text for w in out)
    text = "".join(w.text for w in out)
    assert text.index("met one") < text.index("cl100k_base") < text.index("Almost")
