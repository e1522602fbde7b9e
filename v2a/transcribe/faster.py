"""faster-whisper backend: CTranslate2 int8 on CPU, VAD, word timestamps."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import BaseModel

from ..config import Config
from ..errors import MediaError, ModelError
from ..hookspecs import hookimpl
from ..language import Language
from ..models import Segment, Transcript, Word
from ..options import MEDIA, Opt
from .base import OnProgress, whisper_code
from .whisper_models import ResolvedModel, resolve

_lock = threading.Lock()
_loaded: dict[tuple, object] = {}  # the last model loaded, reused by the next video in a batch


def pick_device(wanted: str) -> str:
    """``--asr-device``: auto is CUDA when this process sees a GPU (Ray hides the GPUs it did
    not assign to a worker), else the CPU."""
    if wanted != "auto":
        return wanted
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # noqa: BLE001 - no usable CUDA runtime: the CPU it is
        return "cpu"


def compute_type(device: str) -> str:
    # int8 weights on either device; float16 activations where the GPU has them
    return "int8" if device == "cpu" else "int8_float16"


def new_model(model: ResolvedModel, threads: int, device: str = "cpu", hub: bool = True):
    """A new WhisperModel: a folder as it is, a hub model from the local Hugging Face cache (no
    network), or, with ``hub``, fetched once. Raises what faster-whisper raises."""
    from faster_whisper import WhisperModel

    kw = dict(device=device, compute_type=compute_type(device), cpu_threads=threads)
    if model.local:
        return WhisperModel(model.ref, **kw)
    try:
        return WhisperModel(model.ref, local_files_only=True, **kw)
    except Exception:
        if not hub:
            raise
        return WhisperModel(model.ref, **kw)  # not cached: try the hub once


def load_model(model: ResolvedModel, threads: int, device: str = "cpu"):
    """Load (or reuse) a WhisperModel; offline failures become a one-line ModelError."""
    key = (model.ref, threads, device)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        try:
            wm = new_model(model, threads, device)
        except Exception as exc:
            if not model.local:
                raise ModelError(
                    f"whisper model {model.name!r} is not available offline; use tiny.en/base "
                    f"or a CTranslate2 folder path ({type(exc).__name__})") from exc
            raise ModelError(f"cannot load whisper model {model.name!r} from {model.ref}: "
                             f"{exc}") from exc
        _loaded.clear()  # keep one model resident: each costs hundreds of MB
        _loaded[key] = wm
        return wm


# faster-whisper computes the log-mel features of its whole input at once, and the STFT behind
# them peaks at ~65 MB per minute of audio (650 MB for 10 min, 1.8 GB for 30 min, measured):
# long audio goes in chunks of CHUNK_S, each cut at the quietest moment of its last SEARCH_S.
# (A chunk starts without the previous text as context; an initial prompt is not a fix: with
# VAD it made tiny.en drop words. On the 10-minute sample lecture, whose slides repeat word for
# word, that context had helped: WER 0.131 unchunked, 0.176 chunked; peak RSS 944 -> 692 MB.)
CHUNK_S = 300.0
SEARCH_S = 20.0
RATE = 16000


class _Audio:
    """16 kHz mono float32 samples by time range; a 16-bit WAV (audio.wav) is read lazily."""

    def __init__(self, path: Path):
        self.path, self._wav, self._data = Path(path), None, None
        try:
            w = wave.open(str(path), "rb")  # noqa: SIM115 - kept open, closed by close()
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2):
                self._wav = w
            else:
                w.close()
        except (wave.Error, EOFError, OSError):
            pass
        if self._wav is None:
            from faster_whisper import decode_audio

            try:
                self._data = decode_audio(str(path), sampling_rate=RATE)
            except Exception as exc:
                raise MediaError(f"cannot decode audio {self.path.name}: {exc}") from exc
        self.samples = self._wav.getnframes() if self._wav else (0 if self._data is None else len(self._data))

    @property
    def duration(self) -> float:
        return self.samples / RATE

    def read(self, start: float, end: float) -> np.ndarray:
        a, b = int(start * RATE), min(self.samples, int(end * RATE))
        if self._data is not None:
            return self._data[a:b]
        assert self._wav is not None
        self._wav.setpos(a)
        raw = np.frombuffer(self._wav.readframes(b - a), dtype="<i2")
        return raw.astype(np.float32) / 32768.0

    def close(self) -> None:
        if self._wav:
            self._wav.close()


def _quietest(samples: np.ndarray, offset: float) -> float:
    """Time of the quietest 0.5 s (in 0.1 s steps) of ``samples``, which start at ``offset``."""
    step = RATE // 10
    n = len(samples) // step
    if n < 5:
        return offset + len(samples) / RATE
    energy = (samples[: n * step].reshape(n, step) ** 2).mean(axis=1)
    smooth = np.convolve(energy, np.ones(5), mode="valid")
    return offset + (int(np.argmin(smooth)) + 2.5) * step / RATE


def chunk_bounds(audio: _Audio) -> list[tuple[float, float]]:
    """(start, end) seconds covering the audio; one chunk unless it is long."""
    bounds, start, total = [], 0.0, audio.duration
    while total - start > CHUNK_S + SEARCH_S:
        lo = start + CHUNK_S - SEARCH_S
        cut = _quietest(audio.read(lo, start + CHUNK_S), lo)
        bounds.append((start, cut))
        start = cut
    bounds.append((start, total))
    return bounds


class FasterWhisperOptions(BaseModel):
    """faster-whisper's own options, declared beside it (``v2a.config.plugin_options``): the
    commands show them, ``Config`` validates them, ``config.options_of`` reads them."""

    asr_device: Annotated[str, Opt(
        "Where Whisper runs. auto: a CUDA GPU when this process was given one (a Ray media "
        "worker on a GPU node), else the CPU.", ("--asr-device",), commands=MEDIA,
        choices=("auto", "cpu", "cuda"), panel="Transcript")] = "auto"
    vad: Annotated[bool, Opt(
        "Skip non-speech with a voice-activity detector before Whisper.",
        ("--vad/--no-vad",), stages=("transcribe",), commands=MEDIA,
        panel="Transcript")] = True


class FasterWhisperBackend:
    name = "faster-whisper"
    options = FasterWhisperOptions

    def __init__(self, config: Config):
        self.config = config
        self.model = resolve(config.whisper_model, config.cache_dir)

    def transcribe(self, audio_path: Path, language: Language | None, on_progress: OnProgress,
                   hints: list[str] | None = None) -> Transcript:
        cfg, own = self.config, self.config.options_of(FasterWhisperOptions)
        code = whisper_code(language)
        prompt: dict = {}
        if hints:
            # hotwords and a sentence-style prompt both precede <|startofprev|>; together they
            # took whisper base from WER 19% to 8% on speech full of on-screen terms
            prompt = {"hotwords": ", ".join(hints),
                      "initial_prompt": f"This talk is about {', '.join(hints)}."}
        t0 = time.perf_counter()
        wm = load_model(self.model, cfg.asr_threads, pick_device(own.asr_device))
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        audio = _Audio(audio_path)
        out: list[Segment] = []
        speech_s, first = 0.0, None
        try:
            for start, end in chunk_bounds(audio):
                try:
                    segments, info = wm.transcribe(
                        audio.read(start, end), language=code, beam_size=cfg.beam_size,
                        vad_filter=own.vad, word_timestamps=True, **prompt)
                    # later chunks keep the first chunk's language: one talk, one language
                    first, code = first or info, code or info.language
                    speech_s += float(info.duration_after_vad)
                    for seg in segments:  # a generator: decoding happens while we iterate
                        on_progress(start + float(seg.end))
                        seg_out = _segment(seg, start, len(out))
                        if seg_out is not None:
                            out.append(seg_out)
                except ValueError as exc:  # e.g. an empty or unreadable sample buffer
                    raise MediaError(f"cannot transcribe {audio.path.name}: {exc}") from exc
        finally:
            audio.close()
        asr_s = time.perf_counter() - t1
        duration = audio.duration
        return Transcript(
            language=first.language if first else (code or "en"), origin="asr",
            backend=self.name, model=self.model.name, duration=round(duration, 3), segments=out,
            timings={"load_s": round(load_s, 3), "asr_s": round(asr_s, 3),
                     "rtf": round(asr_s / duration, 4) if duration else 0.0,
                     "speech_s": round(speech_s, 3),
                     "language_probability":
                         round(float(first.language_probability), 3) if first else 0.0})


def _segment(seg, offset: float, index: int) -> Segment | None:
    text = seg.text.strip()
    if not text:
        return None
    # numpy floats from faster-whisper are cast: the artifact is plain JSON
    words = [Word(start=round(offset + float(w.start), 3), end=round(offset + float(w.end), 3),
                  text=w.word, probability=round(float(w.probability), 4))
             for w in (seg.words or []) if w.word.strip()]
    return Segment(id=index, start=round(offset + float(seg.start), 3),
                   end=round(offset + float(seg.end), 3), text=text, words=words)


@hookimpl
def register_asr_engines(register):
    register("faster-whisper", FasterWhisperBackend)
