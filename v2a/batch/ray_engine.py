"""The ``ray`` batch engine as a plugin: Ray is imported only when ``--engine ray`` is used."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..errors import UsageError
from ..hookspecs import hookimpl
from .engine import BatchEngine
from .state import StateStore


def ray_engine(store: StateStore, root: Path, config: Config, *, media_workers: int | None = None,
               llm_workers: int = 1, **kw) -> BatchEngine:
    try:
        import fsspec  # noqa: F401
        import ray  # noqa: F401
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'v2a[ray]'") from None
    from .ray_runner import RayBatchRunner

    return RayBatchRunner(store, root, config, media_workers=media_workers,
                          llm_workers=llm_workers, **kw)


@hookimpl
def register_batch_engines(register):
    # a Ray cluster: downloads, media actors and LLM calls routed by Ray across its nodes
    register("ray", ray_engine)
