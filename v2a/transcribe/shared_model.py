"""The second Whisper model of a process, loaded once for every second listen.

The transcribe stage's recheck (``v2a.transcribe.recheck``) and the checks' second listen
(``v2a.checks.second``) decode short clips with the same model (``base``); here it is loaded once
per (weights, device, compute type) and kept for the process. It lives apart from the first
pass's model (``faster.load_model`` keeps one model resident: a run that alternated tiny.en and
base through it would load each again for every video of a batch).
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import ModelError
from .faster import compute_type, new_model
from .whisper_models import ResolvedModel

_lock = threading.Lock()
_held: dict[tuple[str, str, str], Any] = {}
loads = 0  # models loaded by this process (tests check that a run loads base once)


def load(model: ResolvedModel, threads: int, device: str = "cpu") -> Any:
    """The faster-whisper model for ``model`` on ``device``: the one already loaded, or a new
    one (with ``threads`` CPU threads, never from the network); failures become a one-line
    ``ModelError``."""
    global loads
    key = (model.ref, device, compute_type(device))
    with _lock:
        if key in _held:
            return _held[key]
        try:
            wm = new_model(model, threads, device, hub=False)
        except Exception as exc:
            where = model.ref if model.local else "the local Hugging Face cache"
            raise ModelError(f"cannot load whisper model {model.name!r} from {where}: "
                             f"{type(exc).__name__}") from exc
        _held[key] = wm
        loads += 1
        return wm


def release() -> None:
    """Forget the loaded models (tests; a long-lived process that is done listening)."""
    with _lock:
        _held.clear()
