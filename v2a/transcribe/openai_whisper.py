"""openai-whisper backend (PyTorch), for users who install the ``openai-whisper`` extra.

Model names are openai-whisper's own (tiny.en, base, ...; downloaded into the v2a cache on
first use) or a ``.pt`` checkpoint path.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..config import Config
from ..errors import MediaError, ModelError
from ..hookspecs import hookimpl
from ..language import Language
from ..models import Segment, Transcript, Word
from .base import OnProgress, whisper_code


def _import_whisper():
    try:
        import whisper
    except ImportError as exc:
        raise ModelError("the openai-whisper backend is not installed: "
                         "pip install 'v2a[openai-whisper]'") from exc
    return whisper


class OpenAIWhisperBackend:
    name = "openai-whisper"

    def __init__(self, config: Config):
        self.config = config
        self.whisper = _import_whisper()  # fail at once, before any work

    def transcribe(self, audio_path: Path, language: Language | None, on_progress: OnProgress,
                   hints: list[str] | None = None) -> Transcript:
        cfg = self.config
        t0 = time.perf_counter()
        try:
            model = self.whisper.load_model(cfg.whisper_model, device="cpu",
                                            download_root=str(cfg.cache_dir / "openai-whisper"))
        except Exception as exc:
            raise ModelError(f"openai-whisper cannot load {cfg.whisper_model!r}: {exc}") from exc
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        try:
            prompt = f"This talk is about {', '.join(hints)}." if hints else None
            result = model.transcribe(str(audio_path), language=whisper_code(language),
                                      beam_size=cfg.beam_size, word_timestamps=True, fp16=False,
                                      verbose=None, initial_prompt=prompt)
        except RuntimeError as exc:  # whisper shells out to ffmpeg and raises RuntimeError
            raise MediaError(f"cannot decode audio {audio_path.name}: {exc}") from exc
        asr_s = time.perf_counter() - t1
        segments: list[Segment] = []
        for seg in result.get("segments", []):
            text = seg["text"].strip()
            if not text:
                continue
            words = [Word(start=round(float(w["start"]), 3), end=round(float(w["end"]), 3),
                          text=w["word"], probability=round(float(w["probability"]), 4))
                     for w in seg.get("words", []) if w["word"].strip()]
            segments.append(Segment(id=len(segments), start=round(float(seg["start"]), 3),
                                    end=round(float(seg["end"]), 3), text=text, words=words))
        duration = float(self.whisper.audio.load_audio(str(audio_path)).shape[0]
                         / self.whisper.audio.SAMPLE_RATE)
        on_progress(duration)
        return Transcript(language=result.get("language") or language or "en", origin="asr",
                          backend=self.name, model=cfg.whisper_model, duration=round(duration, 3),
                          segments=segments,
                          timings={"load_s": round(load_s, 3), "asr_s": round(asr_s, 3),
                                   "rtf": round(asr_s / duration, 4) if duration else 0.0})


@hookimpl
def register_asr_engines(register):
    register("openai-whisper", OpenAIWhisperBackend)
