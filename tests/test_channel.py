"""A new speaker in the same room against a new recording: the channel (noise floor and level)
decides whether a change of voice may start a chapter (``signals.channel_changes``)."""

from __future__ import annotations

import shutil
import subprocess
import wave

import numpy as np
import pytest
from scipy.signal import lfilter

from v2a.models import Segment
from v2a.write import signals

RATE = 16000
TEXT = "The farmer counts the sheep one by one, then walks home."  # ~3 s, then a pause

needs_tts = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("ffmpeg")),
                               reason="needs espeak-ng and ffmpeg")


def _say(voice: str, out) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(out), TEXT], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(out), "-ar", str(RATE), "-ac", "1",
                    str(out) + ".16k.wav"], check=True)
    with wave.open(str(out) + ".16k.wav") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return x.astype(np.float32) / 32768.0


def _speech(voice: str, seconds: float, tmp_path) -> np.ndarray:
    """One voice reading with 0.6-s pauses (as a speaker breathes), about ``seconds`` long."""
    one = np.concatenate([_say(voice, tmp_path / f"{voice}.wav"), np.zeros(int(0.6 * RATE))])
    return np.tile(one, int(np.ceil(seconds * RATE / len(one))))[: int(seconds * RATE)]


def _room(n: int, seed: int, dull: bool, db: float) -> np.ndarray:
    """Noise of a room and a microphone: low hum-like (dull) or hissy, at ``db`` dBFS."""
    noise = np.random.default_rng(seed).standard_normal(n)
    noise = lfilter([1.0], [1.0, -0.95], noise) if dull else np.diff(noise, prepend=0.0)
    return (noise / noise.std() * 10 ** (db / 20)).astype(np.float32)


def _pcm(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


@needs_tts
def test_a_new_speaker_in_the_same_room_is_not_a_new_recording(tmp_path):
    a, b = _speech("en-us", 20.0, tmp_path), _speech("en+f3", 20.0, tmp_path)
    # one recording: two speakers over the same room noise; then another recording of the
    # second voice, quieter, over another room
    one = np.concatenate([a, b]) + _room(len(a) + len(b), 1, dull=True, db=-45.0)
    other = 0.3 * b + _room(len(b), 2, dull=False, db=-65.0)
    feat = signals.features(_pcm(np.concatenate([one, other])))
    speaker, recording = 20.0, 40.0
    same, new = signals.channel_changes(feat, [speaker, recording])
    inside = signals.channel_changes(feat, [10.0, 30.0, 50.0])
    assert same is not None and new is not None
    assert same < signals.SAME_RECORDING[0] and new > signals.NEW_RECORDING[0][0]
    assert all(c is not None and c < signals.SAME_RECORDING[0] for c in inside), inside

    # the voice changes at both; only the new recording keeps its change
    voice = signals.change_scores(feat, [speaker, recording])
    assert voice[0] > 0.5 and voice[1] > 0.5
    kept = signals.recording_changes(voice, [same, new])
    assert kept[0] == 0.0 and kept[1] >= voice[1]
    segs = [Segment(id=i, start=t, end=t + 9.5, text=f"s{i}")
            for i, t in enumerate([0.0, 10.0, speaker, 30.0, recording, 50.0])]
    at = signals.gap_changes(feat, segs)
    assert at[1] == 0.0 and at[3] > 0.5  # segments[2] (the speaker), segments[4] (the recording)


@needs_tts
def test_audio_without_a_noise_floor_keeps_the_voice_change(tmp_path):
    """Generated or gated audio (digital silence in its pauses) has no room to compare: the
    change of voice counts as before."""
    a, b = _speech("en-us", 15.0, tmp_path), _speech("en+f3", 15.0, tmp_path)
    feat = signals.features(_pcm(np.concatenate([a, b])))
    assert signals.channel_changes(feat, [15.0]) == [None]
    voice = signals.change_scores(feat, [15.0])
    assert signals.recording_changes(voice, [None]) == [round(voice[0], 3)]


def test_the_channel_rule_without_audio():
    lo, hi = signals.SAME_RECORDING
    _, (c1, v1) = signals.NEW_RECORDING
    out = signals.recording_changes([1.5, 1.5, 1.5, 0.2, 0.2], [lo - 1, (lo + hi) / 2, hi, c1,
                                                                 None])
    assert out == [0.0, 0.75, 1.5, v1, 0.2]


@needs_tts
def test_a_start_inside_one_recording_of_a_compilation_is_marked(tmp_path):
    """Three recordings joined: the speaker change inside the first is inside a recording of a
    compilation (a topic shift there must be stronger to start a chapter); the joins are not.
    One recording alone is no compilation."""
    a, b = _speech("en-us", 20.0, tmp_path), _speech("en+f3", 20.0, tmp_path)
    one = np.concatenate([a, b]) + _room(2 * len(a), 1, dull=True, db=-45.0)
    two = 0.3 * b + _room(len(b), 2, dull=False, db=-65.0)
    three = a + _room(len(a), 3, dull=True, db=-35.0)
    feat = signals.features(_pcm(np.concatenate([one, two, three])))
    segs = [Segment(id=i, start=10.0 * i, end=10.0 * i + 9.5, text=f"s{i}") for i in range(8)]
    inside = signals.inside_recordings(feat, segs)  # starts at 10, 20, ..., 70 s
    assert inside[1] and inside[2] and inside[4]  # 20 s (the speaker), 30 s, 50 s
    assert not inside[3] and not inside[5]  # the joins at 40 s and 60 s
    alone = signals.features(_pcm(one))
    assert not any(signals.inside_recordings(alone, segs[:4]))
