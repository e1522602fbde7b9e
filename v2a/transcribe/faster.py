"""faster-whisper backend: CTranslate2 int8 on CPU, VAD, word timestamps."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ..config import Config
from ..errors import MediaError, ModelError
from ..models import Segment, Transcript, Word
from .base import OnProgress
from .whisper_models import ResolvedModel, resolve

_lock = threading.Lock()
_loaded: dict[tuple, object] = {}  # the last model loaded, reused by the next video in a batch


def load_model(model: ResolvedModel, threads: int):
    """Load (or reuse) a WhisperModel; offline failures become a one-line ModelError."""
    key = (model.ref, threads)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        from faster_whisper import WhisperModel

        kw = dict(device="cpu", compute_type="int8", cpu_threads=threads)
        try:
            if model.local:
                wm = WhisperModel(model.ref, **kw)
            else:
                try:  # a hub model already in the local Hugging Face cache needs no network
                    wm = WhisperModel(model.ref, local_files_only=True, **kw)
                except Exception:  # noqa: BLE001 - not cached: try the hub once
                    wm = WhisperModel(model.ref, **kw)
        except Exception as exc:  # noqa: BLE001 - HF/CT2 raise many types; all mean "no model"
            if not model.local:
                raise ModelError(
                    f"whisper model {model.name!r} is not available offline; use tiny.en/base "
                    f"or a CTranslate2 folder path ({type(exc).__name__})") from exc
            raise ModelError(f"cannot load whisper model {model.name!r} from {model.ref}: "
                             f"{exc}") from exc
        _loaded.clear()  # keep one model resident: each costs hundreds of MB
        _loaded[key] = wm
        return wm


class FasterWhisperBackend:
    name = "faster-whisper"

    def __init__(self, config: Config):
        self.config = config
        self.model = resolve(config.whisper_model, config.cache_dir)
        self.info = None  # faster-whisper's TranscriptionInfo of the last run

    def transcribe(self, audio_path: Path, language: str | None,
                   on_progress: OnProgress) -> Transcript:
        cfg = self.config
        t0 = time.perf_counter()
        wm = load_model(self.model, cfg.asr_threads)
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        try:
            segments, info = wm.transcribe(
                str(audio_path), language=language, beam_size=cfg.beam_size,
                vad_filter=cfg.vad, word_timestamps=True)
        except Exception as exc:  # noqa: BLE001 - PyAV/ffmpeg decode errors vary by format
            raise MediaError(f"cannot decode audio {audio_path.name}: {exc}") from exc
        self.info = info
        out: list[Segment] = []
        for seg in segments:  # a generator: decoding happens while we iterate
            on_progress(float(seg.end))
            text = seg.text.strip()
            if not text:
                continue
            # numpy floats from faster-whisper are cast: the artifact is plain JSON
            words = [Word(start=round(float(w.start), 3), end=round(float(w.end), 3),
                          text=w.word.strip(), probability=round(float(w.probability), 4))
                     for w in (seg.words or []) if w.word.strip()]
            out.append(Segment(id=len(out), start=round(float(seg.start), 3),
                               end=round(float(seg.end), 3), text=text, words=words))
        asr_s = time.perf_counter() - t1
        duration = float(info.duration)
        return Transcript(
            language=info.language, origin="asr", backend=self.name, model=self.model.name,
            duration=round(duration, 3), segments=out,
            timings={"load_s": round(load_s, 3), "asr_s": round(asr_s, 3),
                     "rtf": round(asr_s / duration, 4) if duration else 0.0,
                     "speech_s": round(float(info.duration_after_vad), 3),
                     "language_probability": round(float(info.language_probability), 3)})
