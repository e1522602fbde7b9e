"""Chapter starts from evidence: the length/count cost (dynamic programming), finer cut points at
pauses, a change of voice in real audio, and screen evidence (a new code cell continues)."""

from __future__ import annotations

import shutil
import subprocess
import wave

import numpy as np
import pytest

from v2a.models import Screen, ScreenFrame, Segment, Word
from v2a.transcribe.sentences import split_sentences
from v2a.write import candidates as cand
from v2a.write import signals


def _cands(scores: dict[float, float]) -> list[cand.Candidate]:
    return [cand.Candidate(segment_id=i, index=i, time=t, score=s, reasons=["topic"])
            for i, (t, s) in enumerate(sorted(scores.items()), 1)]


def test_dp_takes_clear_evidence_and_skips_noise():
    # 600 s: three strong cuts among weak ones
    scores = {float(t): 0.3 for t in range(20, 600, 20)}
    scores.update({150.0: 2.0, 300.0: 2.2, 450.0: 1.9})
    picked = [c.time for c in cand.select_starts(_cands(scores), 600.0)]
    assert picked == [150.0, 300.0, 450.0]


def test_dp_never_makes_a_chapter_per_scene():
    # every 10 s a cut of equal strength: a start per scene would give 59 chapters
    scores = {float(t): 1.0 for t in range(10, 600, 10)}
    picked = [c.time for c in cand.select_starts(_cands(scores), 600.0)]
    target, _, hi = cand.target_chapters(600.0, len(scores))
    assert 1 <= len(picked) < hi
    gaps = np.diff([0.0, *picked, 600.0])
    assert gaps.min() >= 600.0 / target / 3  # no chapter shorter than a third of the typical


def test_dp_length_cost_splits_a_far_too_long_chapter():
    # one strong cut near the start, and a modest one in the middle of a 540-s remainder: the
    # length term pays for the modest one; without it only the strong one would clear the price
    scores = {float(t): 0.2 for t in range(15, 600, 15)}
    scores.update({60.0: 2.5, 330.0: 0.9})  # under the price (1.0)
    picked = [c.time for c in cand.select_starts(_cands(scores), 600.0)]
    assert 60.0 in picked and 330.0 in picked
    old = cand.LENGTH_WEIGHT
    try:
        cand.LENGTH_WEIGHT = 0.0
        assert [c.time for c in cand.select_starts(_cands(scores), 600.0)] == [60.0]
    finally:
        cand.LENGTH_WEIGHT = old


def _w(text: str, start: float, end: float) -> Word:
    return Word(start=start, end=end, text=f" {text}")


def test_a_long_sentence_is_cut_where_its_words_pause():
    # one unpunctuated "sentence" of 14 s: two recordings run together, 1.2 s apart
    words = [_w(f"a{i}", i * 0.5, i * 0.5 + 0.4) for i in range(12)]  # 0 .. 5.9 s
    words += [_w(f"b{i}", 7.1 + i * 0.5, 7.1 + i * 0.5 + 0.4) for i in range(14)]  # 7.1 ..
    seg = Segment(id=0, start=0.0, end=words[-1].end, text=" ".join(w.text for w in words),
                  words=words)
    out = split_sentences([seg])
    assert [s.start for s in out] == [0.0, 7.1]
    assert out[1].text.startswith("b0")
    # a short sentence with the same pause stays whole (pauses inside are normal)
    short = words[9:15]
    seg2 = Segment(id=0, start=short[0].start, end=short[-1].end,
                   text=" ".join(w.text for w in short), words=short)
    assert len(split_sentences([seg2])) == 1


def test_pauses_come_from_word_times():
    segs = [Segment(id=0, start=0.0, end=5.0, text="x", words=[_w("x", 0.0, 3.0)]),
            Segment(id=1, start=5.0, end=9.0, text="y", words=[_w("y", 6.5, 9.0)])]
    assert signals.pauses(segs) == [0.0, 3.5]


def test_a_new_code_cell_continues_the_topic():
    def frame(t: float, title: str | None, code: bool) -> ScreenFrame:
        return ScreenFrame(scene=int(t), time=t, keyframe="k.jpg", title=title,
                           code=["x = 1"] if code else None)

    screen = Screen(engine="rapidocr", frames=[frame(0, None, True), frame(30, None, True),
                                               frame(60, "Results", False),
                                               frame(90, None, True)])
    assert cand.continuing_cuts(screen) == [30]
    segs = [Segment(id=i, start=i * 10.0, end=i * 10.0 + 9.0, text=f"same words here {i}")
            for i in range(12)]
    cands = cand.propose(segs, cuts=[30.0, 60.0, 90.0], duration=120.0, semantic=False,
                         continuing=cand.continuing_cuts(screen), max_candidates=20)
    reasons = {c.time: c.reasons for c in cands}
    assert "scene" not in reasons.get(30.0, []) and "scene" in reasons[60.0]


def _say(text: str, voice: str, out) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(out), text], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(out), "-ar", "16000", "-ac", "1",
                    str(out) + ".16k.wav"], check=True)
    with wave.open(str(out) + ".16k.wav") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("ffmpeg")),
                    reason="needs espeak-ng and ffmpeg")
def test_a_change_of_voice_scores_higher_than_the_same_voice_going_on(tmp_path):
    text = ("The quick brown fox jumps over the lazy dog while the farmer watches from the "
            "field and counts the sheep one by one until the evening comes. ")
    a = np.concatenate([_say(text, "en-us", tmp_path / "a1.wav"),
                        _say(text, "en-us", tmp_path / "a2.wav")])
    b = _say(text, "en+f3", tmp_path / "b.wav")  # another speaker
    join = len(a) / 16000
    x = np.concatenate([a, b]).astype(np.float32) / 32768.0
    feat = signals.features(x)
    inside, at_join = signals.change_scores(feat, [join / 2, join])
    assert at_join > 3 * inside and at_join > 0.5


def test_audio_that_cannot_be_read_gives_no_voice_evidence_not_an_error(tmp_path):
    bad = tmp_path / "audio.wav"
    with wave.open(str(bad), "wb") as w:  # 8 kHz: not what the audio stage writes
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    assert signals.audio_changes(bad, [0.5]) is None
    segs = [Segment(id=i, start=i * 10.0, end=i * 10.0 + 9.0, text=f"words {i}")
            for i in range(8)]
    cands = cand.propose(segs, duration=80.0, audio=bad, semantic=False, max_candidates=20)
    assert all(c.voice == 0.0 for c in cands)


def test_cue_text_without_word_times_is_not_cut_at_made_up_pauses():
    # a subtitle cue's words get times spread over it: no real pause to cut at
    cue = Segment(id=0, start=0.0, end=14.0, text=" ".join(f"w{i}" for i in range(30)))
    assert len(split_sentences([cue])) == 1


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("ffmpeg")),
                    reason="needs espeak-ng and ffmpeg")
def test_the_voice_change_goes_to_the_sentence_where_the_recording_changes(tmp_path):
    """A window of seconds sees a join from the sentence before it too; the gap where the
    change peaks keeps it, and the earlier gap keeps only a fraction."""
    a1 = _say("The farmer counts the sheep one by one.", "en-us", tmp_path / "a1.wav")
    a2 = _say("Then he walks home across the field.", "en-us", tmp_path / "a2.wav")
    b = _say("The quick brown fox jumps over the lazy dog.", "en+f3", tmp_path / "b.wav")
    t1, join = len(a1) / 16000, (len(a1) + len(a2)) / 16000
    assert join - t1 < signals.WINDOW_S  # the window at the earlier gap reaches the join
    feat = signals.features(np.concatenate([a1, a2, b]))
    segs = [Segment(id=0, start=0.0, end=t1 - 0.3, text="a1"),
            Segment(id=1, start=t1, end=join - 0.3, text="a2"),
            Segment(id=2, start=join, end=join + len(b) / 16000, text="b")]
    before, at_join = signals.gap_changes(feat, segs)
    raw_before = signals.change_scores(feat, [t1])[0]
    assert at_join > 0.5 and before < 0.5 * at_join and before < raw_before


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("ffmpeg")),
                    reason="needs espeak-ng and ffmpeg")
def test_a_start_after_speech_left_untranscribed_is_placed_where_the_new_voice_begins(tmp_path):
    """Whisper leaves quiet or crosstalk speech without words: the chapter starts where the new
    recording (another voice, 12 dB quieter) begins in that stretch, not at its first
    transcribed sentence."""
    a = _say("The farmer counts the sheep one by one, then walks home across the field.",
             "en-us", tmp_path / "a.wav")
    lost = _say("This part was never transcribed by the recogniser at all, sadly.", "en+f3",
                tmp_path / "lost.wav") // 4
    b = _say("The quick brown fox jumps over the lazy dog.", "en+f3", tmp_path / "b.wav") // 4
    t_join, t_b = len(a) / 16000, (len(a) + len(lost)) / 16000
    assert t_b - t_join > signals.ONSET_GAP_S
    feat = signals.features(np.concatenate([a, lost, b]))
    segs = [Segment(id=0, start=0.0, end=t_join - 0.2, text="a"),
            Segment(id=1, start=t_b, end=t_b + len(b) / 16000, text="b")]
    found = signals.onsets(feat, segs, [1])
    assert abs(found[1] - t_join) < 1.0
    assert cand.snap_time(segs, 1, [], onset=found[1]) == found[1]
    assert cand.snap_time(segs, 1, []) == t_b  # without it: the sentence's own start
    # one voice going on through the untranscribed stretch: no onset
    more = _say("More words from the farmer about the sheep and the field.", "en-us",
                tmp_path / "a2.wav")
    same = signals.features(np.concatenate([a, more, a]))
    t_again = (len(a) + len(more)) / 16000
    segs = [Segment(id=0, start=0.0, end=t_join - 0.2, text="a"),
            Segment(id=1, start=t_again, end=t_again + t_join, text="a again")]
    assert signals.onsets(same, segs, [1]) == {}


def test_a_start_moved_to_its_onset_is_spaced_from_there():
    """The last sentence before an untranscribed stretch and the first after it, with its onset
    seconds after the former, are one start: the DP counts spacing from the onset."""
    def two(onset: float | None) -> list[cand.Candidate]:
        a = cand.Candidate(segment_id=1, index=1, time=79.0, score=1.5, reasons=["voice"])
        b = cand.Candidate(segment_id=2, index=2, time=111.0, score=2.0, reasons=["voice"],
                           onset=onset)
        return [a, b]
    assert [c.index for c in cand.select_starts(two(None), 260.0)] == [1, 2]
    assert [c.index for c in cand.select_starts(two(84.6), 260.0)] == [2]
