"""What a batch engine is (the ``BATCH_ENGINES`` registry holds factories of these)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ..config import Config
from .state import EntryState, StateStore


class BatchEngine(Protocol):
    """Runs the pending and failed entries of a batch and records each outcome in ``store``.

    Built by ``factory(store, root, config, media_workers=..., llm_workers=...)``; ``root`` is
    the batch's local folder (batch.json, the site); ``progress`` is set before ``run``.
    """

    progress: Any

    def run(self, keys: list[str] | None = None) -> list[EntryState]: ...


class BatchEngineFactory(Protocol):
    def __call__(self, store: StateStore, root: Path, config: Config, *,
                 media_workers: int | None = None, llm_workers: int = 1) -> BatchEngine: ...
