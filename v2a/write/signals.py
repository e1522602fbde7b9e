"""Audio evidence for chapter starts: a change of voice or recording, and long pauses.

Two recordings joined together, or a second speaker, change the spectrum's shape and the level
for good; a speaker's own sentences do not. Per 25 ms frame (10 ms hop) of ``audio.wav``: 13
MFCCs from a 40-band log-mel spectrum (numpy + scipy's DCT), and the level in dB. At a time t
the score compares the voiced frames of the ``WINDOW_S`` seconds before t with those after it:
the distance between their mean MFCCs in units of the recording's own spread per coefficient,
plus the change of median level. Silence is left out, so a pause alone moves nothing.

A new speaker in the same room changes the voice but not the channel; a new recording changes
both. ``channel_changes`` compares what the microphone and the room leave when nobody speaks —
the noise floor's spectrum and level in the quiet frames — and the speech level (the
recording's loudness normalisation), and ``gap_changes`` uses it to tell the two apart.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..models import Segment

RATE = 16000
FRAME, HOP = 400, 160  # 25 ms, 10 ms at 16 kHz
N_FFT, N_MELS, N_MFCC = 512, 40, 13
WINDOW_S = 8.0
CHUNK = 20000  # frames per FFT batch: a 60-minute file never holds its spectrum at once


def _mel_bank(rate: int = RATE) -> np.ndarray:
    """Triangular mel filters (N_MELS × N_FFT/2+1), HTK mel scale."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    pts = hz(np.linspace(mel(60.0), mel(rate / 2 * 0.95), N_MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / rate)
    bank = np.zeros((N_MELS, len(bins)), dtype=np.float32)
    for m in range(N_MELS):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        up = (bins - lo) / (c - lo)
        down = (hi - bins) / (hi - c)
        bank[m] = np.clip(np.minimum(up, down), 0.0, None)
    return bank


@dataclass
class Features:
    """Per-frame MFCCs and level (dB), and which frames carry voice."""

    mfcc: np.ndarray  # (frames, N_MFCC)
    level: np.ndarray  # (frames,)
    voiced: np.ndarray  # (frames,) bool
    hop_s: float = HOP / RATE

    def at(self, t: float) -> int:
        return round(t / self.hop_s)


def read_pcm(path: Path) -> np.ndarray:
    """Mono 16-bit samples of a WAV (``audio.wav`` is 16 kHz mono); kept as int16, so an hour
    takes 115 MB, not 230."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getframerate() != RATE:
            raise ValueError(f"{path}: expected 16-bit {RATE} Hz audio")
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if w.getnchannels() > 1:
            x = x.reshape(-1, w.getnchannels()).mean(1).astype(np.int16)
    return x


def features(samples: np.ndarray) -> Features:
    from scipy.fft import dct

    n = max(0, 1 + (len(samples) - FRAME) // HOP)
    bank, win = _mel_bank(), np.hanning(FRAME).astype(np.float32)
    mfcc = np.zeros((n, N_MFCC), dtype=np.float32)
    level = np.zeros(n, dtype=np.float32)
    for s in range(0, n, CHUNK):
        idx = np.arange(s, min(n, s + CHUNK))[:, None] * HOP + np.arange(FRAME)[None]
        fr = samples[idx].astype(np.float32)
        if samples.dtype == np.int16:
            fr /= 32768.0
        fr = fr - fr.mean(1, keepdims=True)
        level[s:s + len(fr)] = 10 * np.log10((fr ** 2).mean(1) + 1e-10)
        power = np.abs(np.fft.rfft(fr * win, N_FFT)) ** 2
        logmel = np.log(power @ bank.T + 1e-8)
        mfcc[s:s + len(fr)] = dct(logmel, type=2, norm="ortho", axis=1)[:, :N_MFCC]
    # voiced: within 30 dB of the loud frames (robust to the recording's own gain)
    voiced = level > (np.percentile(level, 95) - 30.0 if n else 0.0)
    return Features(mfcc=mfcc, level=level, voiced=voiced)


def change_scores(feat: Features, times: list[float], window_s: float = WINDOW_S) -> list[float]:
    """Voice/recording change at each time: mean-MFCC distance (in the recording's own
    per-coefficient spreads, c0 — the overall level — left out) plus the median-level change
    in 6-dB units, between the voiced frames before and after it."""
    v = feat.voiced
    if v.sum() < 10:
        return [0.0] * len(times)
    ceps = feat.mfcc[:, 1:]
    spread = ceps[v].std(0) + 1e-6
    w = feat.at(window_s)
    out = []
    for t in times:
        i = feat.at(t)
        a = slice(max(0, i - w), i)
        b = slice(i, min(len(v), i + w))
        va, vb = v[a], v[b]
        if va.sum() < 30 or vb.sum() < 30:  # under 0.3 s of voice on a side: no evidence
            out.append(0.0)
            continue
        d = (ceps[a][va].mean(0) - ceps[b][vb].mean(0)) / spread
        dist = float(np.sqrt((d ** 2).mean()))
        dlev = abs(float(np.median(feat.level[a][va]) - np.median(feat.level[b][vb]))) / 6.0
        out.append(round(dist + dlev, 3))
    return out


def audio_changes(path: Path, times: list[float]) -> list[float] | None:
    """``change_scores`` at ``times`` for a WAV file; None when it cannot be read."""
    try:
        samples = read_pcm(path)
    except (OSError, ValueError, EOFError, wave.Error):
        return None  # no voice evidence beats no chapters
    return change_scores(features(samples), times)


def gap_changes(feat: Features, segments: list[Segment]) -> list[float]:
    """The change at each sentence start (segments[1:]), given to the start where it peaks:
    the change of voice, judged by the channel (``recording_changes``).

    A window of ``WINDOW_S`` seconds sees a join from the sentences around it too, so a start
    whose score is under a neighbour's within the window (the join is at the neighbour) keeps
    only (own / neighbour's)² of it: the chapter goes to the sentence where the recording
    changes, not to the one before it. (Scoring over transcribed speech only, or searching the
    silence between sentences for the peak, was measured and lost on held-out sets: a news
    report's sound bites then outscored its join.)"""
    starts = [s.start for s in segments[1:]]
    channel = channel_changes(feat, starts)
    raw = recording_changes(change_scores(feat, starts), channel)
    out = []
    for i, v in enumerate(raw):
        rival = max((raw[j] for j in range(len(raw))
                     if j != i and abs(starts[j] - starts[i]) < WINDOW_S), default=0.0)
        out.append(round(v if v >= rival else v * (v / rival) ** 2, 3))
    return out


# The channel. Per side of a time, over CHANNEL_WINDOW_S: the frames QUIET_BELOW_DB under the
# side's loud frames (pauses: the room and the microphone) give the noise floor — its spectrum
# (the median log-mel, rebuilt from the MFCCs) and level; the loud frames give the speech level.
# Measured on the long joins (bench/cuts_set.py; 28 joins, 262 sentence starts inside a piece):
# the distance below is 5.2-16 at every join, 2.9 at the median inside a piece (90th
# percentile 4.5, 99th 6.8; the highest are a news report's sound bites and the splice of two
# clips of one meeting); the floor's shape alone separates worse (AUC 0.88 against 0.99), and a
# percentile floor over all frames follows the speech, not the room.
CHANNEL_WINDOW_S = 10.0
QUIET_BELOW_DB = 20.0
DIGITAL_SILENCE_DB = -85.0  # exact zeros (or ±1 LSB): gated or synthetic audio, no room in it
MIN_QUIET_S = 1.2  # fewer quiet frames than this on a side: the "floor" would be speech tails
MAX_SILENT_S = 1.0  # more digital silence than this: a gated or generated track, no floor
SAME_RECORDING = (3.5, 4.5)  # under the first: one recording, a voice change there is a speaker
# a clearly new channel counts as this much change of voice (change_scores' units: one voice
# going on 0.1-0.6, another recording 1.4-2.8), rising linearly in between
NEW_RECORDING = ((6.0, 0.6), (9.0, 2.0))


def _channel_side(feat: Features, a: int, b: int) -> tuple[np.ndarray, float, float] | None:
    """(noise-floor log-mel spectrum in dB, its level, the speech level) of frames a..b; None
    where the side has no measurable floor."""
    from scipy.fft import idct

    level = feat.level[a:b]
    live = level > DIGITAL_SILENCE_DB
    if (~live).sum() * feat.hop_s > MAX_SILENT_S or live.sum() < 200:
        return None
    loud = float(np.percentile(level[live], 95))
    quiet = live & (level < loud - QUIET_BELOW_DB)
    if quiet.sum() * feat.hop_s < MIN_QUIET_S:
        return None
    ceps = np.zeros((int(quiet.sum()), N_MELS), dtype=np.float32)
    ceps[:, :N_MFCC] = feat.mfcc[a:b][quiet]
    logmel = idct(ceps, type=2, norm="ortho", axis=1) * (10.0 / np.log(10.0))  # ln → dB
    return np.median(logmel, axis=0), float(np.median(level[quiet])), loud


def channel_changes(feat: Features, times: list[float],
                    window_s: float = CHANNEL_WINDOW_S) -> list[float | None]:
    """Change of recording at each time: the RMS difference of the noise floor's spectral shape
    (dB, its mean left out) plus a sixth of the change of the floor's level and of the speech
    level (dB), between the ``window_s`` seconds before and after. None where either side has
    no noise floor to measure (gated, generated or very dense audio): no evidence either way."""
    w = feat.at(window_s)
    out: list[float | None] = []
    for t in times:
        i = feat.at(t)
        a, b = _channel_side(feat, max(0, i - w), i), _channel_side(feat, i, i + w)
        if a is None or b is None:
            out.append(None)
            continue
        d = a[0] - b[0]
        shape = float(np.sqrt(((d - d.mean()) ** 2).mean()))
        out.append(round(shape + (abs(a[1] - b[1]) + abs(a[2] - b[2])) / 6.0, 3))
    return out


def recording_changes(voice: list[float], channel: list[float | None]) -> list[float]:
    """The change of voice, kept where the recording changes too: a voice change on an
    unchanged channel (a second speaker in the same room, a pause inside one recording) is
    dropped (linearly over ``SAME_RECORDING``), and a clearly new channel counts as a change
    even where the voices sound alike (``NEW_RECORDING``). Without channel evidence the voice
    change stands as it is."""
    (lo, hi), ((c0, v0), (c1, v1)) = SAME_RECORDING, NEW_RECORDING
    out = []
    for v, c in zip(voice, channel):
        if c is not None:
            v *= min(1.0, max(0.0, (c - lo) / (hi - lo)))
            v = max(v, float(np.interp(c, [c0, c1], [v0, v1], left=0.0)))
        out.append(round(v, 3))
    return out


CLEAR_VOICE = 1.0  # a clear change of recording: the voice changes this much (change_scores)
COMPILATION = 2  # clear changes of recording (WINDOW_S apart) that make a talk a compilation


def inside_recordings(feat: Features, segments: list[Segment]) -> list[bool]:
    """For each sentence start (segments[1:]): True where the talk is a compilation of
    recordings and the start lies inside one of them.

    A compilation has at least ``COMPILATION`` clear changes of recording (the channel past
    ``NEW_RECORDING`` and the voice past ``CLEAR_VOICE``; on the long joins 20 of 28 joins and
    1 of 262 starts inside a piece, the splice of two clips of one meeting). Inside one of its
    recordings (the channel under ``SAME_RECORDING``), a topic shift is the recording going on
    more often than a new part. A start after a stretch left without words (``ONSET_GAP_S``)
    is never inside: its recording may begin in that stretch. A talk of one recording, or audio
    without a noise floor, gives all False."""
    starts = [s.start for s in segments[1:]]
    channel = channel_changes(feat, starts)
    clear = [t for t, c, v in zip(starts, channel, change_scores(feat, starts))
             if c is not None and c >= NEW_RECORDING[0][0] and v >= CLEAR_VOICE]
    distinct = [t for k, t in enumerate(clear) if k == 0 or t - clear[k - 1] >= WINDOW_S]
    if len(distinct) < COMPILATION:
        return [False] * len(starts)
    gap = pauses(segments)[1:]
    return [c is not None and c < SAME_RECORDING[0] and g < ONSET_GAP_S
            for c, g in zip(channel, gap)]


def read_features(path: Path) -> Features | None:
    """``features`` of a WAV file; None when it cannot be read (no voice evidence beats no
    chapters)."""
    try:
        return features(read_pcm(path))
    except (OSError, ValueError, EOFError, wave.Error):
        return None


ONSET_GAP_S = 3.0  # an untranscribed stretch this long before a start is searched for its onset
ONSET_STRONG = 1.4  # another recording (one voice going on: 0.1-0.6; see candidates)
ONSET_NEAR_TOP = 0.9


def onsets(feat: Features, segments: list[Segment], indexes: list[int]) -> dict[int, float]:
    """Where the new recording begins, for starts (segment indexes) that follow a stretch the
    recogniser left without words (Whisper drops quiet or crosstalk speech, up to a minute):
    the time in that stretch where the change of sound (``change_scores``, all voiced frames,
    transcribed or not) last peaks (within ±2 s) at 0.9 of its strongest peak or more. The
    chapter then starts where the recording does, not at its first transcribed sentence."""
    out: dict[int, float] = {}
    for i in indexes:
        if i <= 0:
            continue
        prev, cur = segments[i - 1], segments[i]
        lo = prev.words[-1].end if prev.words else prev.end
        hi = cur.words[0].start if cur.words else cur.start
        if hi - lo < ONSET_GAP_S:
            continue
        grid = [lo + 0.25 * k for k in range(1, int((hi - lo) / 0.25))]
        scores = change_scores(feat, grid)
        # the last peak near the strongest: an untranscribed stretch may hold more than one
        # recording (the sentence's own begins at the last change before it), and a voice
        # changing inside one recording peaks too, lower
        peaks = [k for k in range(len(grid)) if scores[k] >= ONSET_STRONG
                 and scores[k] >= max(scores[max(0, k - 8):k + 9])]
        if peaks:
            top = max(scores[k] for k in peaks)
            out[i] = round(grid[[k for k in peaks if scores[k] >= ONSET_NEAR_TOP * top][-1]], 3)
    return out


def pauses(segments: list[Segment]) -> list[float]:
    """Silence before each segment (s): from the previous segment's last word to this one's
    first (segment times where there are no word times); index 0 is 0."""
    out = [0.0]
    for prev, cur in zip(segments, segments[1:]):
        end = prev.words[-1].end if prev.words else prev.end
        start = cur.words[0].start if cur.words else cur.start
        out.append(max(0.0, round(start - end, 3)))
    return out
