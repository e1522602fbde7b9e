"""RapidOCR 3 (PaddleOCR's models as ONNX, shipped in the wheel; onnxruntime on the CPU).

Measured on generated slides and code (2 cores): ~0-5% character error, ~2 s a 720p frame
when the machine is idle; tesseract was ~10x faster but garbled code (``i += 2`` → ``i+t=2``).
The angle classifier is off (screens are upright); frames below 720p are upscaled 2x first,
where the detector otherwise misses small text.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError
from ..hookspecs import hookimpl
from ..models import ScreenLine

if TYPE_CHECKING:
    from ..config import Config

_lock = threading.Lock()
_engine: Any = None  # one loaded model set per process (~490 MB)


class RapidOcr:
    name = "rapidocr"

    def __init__(self, config: Config):
        self.threads = config.asr_threads

    def _load(self) -> Any:
        global _engine
        with _lock:
            if _engine is None:
                try:
                    from rapidocr import RapidOCR
                except ImportError as exc:
                    raise ModelError("--ocr rapidocr needs `pip install rapidocr` (in v2a's "
                                     "default dependencies); or use --ocr none") from exc
                _engine = RapidOCR(params={
                    "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                    "Global.use_cls": False, "Global.log_level": "critical"})
            return _engine

    def read(self, image: Path) -> list[ScreenLine]:
        from PIL import Image

        engine = self._load()
        import numpy as np

        with Image.open(image) as src:
            rgb = src.convert("RGB")
        scale = 2.0 if rgb.height < 720 else 1.0
        if scale != 1.0:
            rgb = rgb.resize((int(rgb.width * scale), int(rgb.height * scale)),
                             Image.Resampling.LANCZOS)
        result = engine(np.asarray(rgb)[:, :, ::-1])  # RGB → BGR, as OpenCV reads
        lines = []
        for box, text, score in zip(result.boxes if result.boxes is not None else [],
                                    result.txts or [], result.scores or []):
            xs = [float(p[0]) / scale for p in box]
            ys = [float(p[1]) / scale for p in box]
            lines.append(ScreenLine(text=str(text), box=[round(min(xs), 1), round(min(ys), 1),
                                                         round(max(xs), 1), round(max(ys), 1)],
                                    score=round(float(score), 3)))
        return lines


@hookimpl
def register_ocr_engines(register):
    register("rapidocr", RapidOcr)
