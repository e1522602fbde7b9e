"""What a stage sees and returns. Stages import this module, never the runner (``pipeline``).

A stage is a function ``run(ctx: StageContext) -> StageResult`` in its own module; the runner
(``v2a.pipeline``) decides whether to call it (cache keys, --force, resume).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .config import Config
from .models import Source, Usage
from .progress import NullProgress, Progress
from .workspace import Workspace, read_model

if TYPE_CHECKING:
    from .llm.base import LLMHandleLike
    from .llm.cache import LLMCache
    from .llm.cached import CachedLLM


@dataclass
class StageResult:
    detail: str | None = None
    complete: bool = True  # False: artifacts written but the stage must run again next time
    usage: Usage | None = None


@dataclass
class StageContext:
    """One work folder, its config and progress, and the services its stages share.

    ``llm_handle``: an open LLM shared beyond this work folder (one embedded server for a whole
    batch), or None to open one lazily on the first call that misses the cache.
    ``llm_cache``: the per-call cache to use instead of the folder's own (a Ray batch mirrors
    each finished call to shared storage at once, so a retry never pays for it again).
    """

    ws: Workspace
    config: Config
    src: str
    progress: Progress = field(default_factory=NullProgress)
    llm_handle: LLMHandleLike | None = None
    llm_cache: LLMCache | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    forced: set[str] = field(default_factory=set)  # stages --force already re-ran this time
    _source: Source | None = None
    _llm: CachedLLM | None = None

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = read_model(self.ws.source_json, Source)
        return self._source

    @source.setter
    def source(self, value: Source) -> None:
        self._source = value

    @property
    def title(self) -> str:
        """The source's title, or "video" before ingest has run."""
        return self.source.title if self.ws.source_json.exists() else "video"

    def llm(self) -> CachedLLM:
        """The LLM stages call: the shared handle (or a lazy one) behind this folder's cache."""
        if self._llm is None:
            from .llm.cache import LLMCache
            from .llm.cached import CachedLLM
            from .llm.open import open_llm

            if self.llm_handle is None:
                self.llm_handle = open_llm(self.config, self.progress, lazy=True)
                self.closers.append(self.llm_handle.close)
            self._llm = CachedLLM(self.llm_handle.llm,
                                  self.llm_cache or LLMCache(self.ws.llm_cache_dir))
        return self._llm

    def close(self) -> None:
        while self.closers:
            try:
                self.closers.pop()()
            except Exception:  # noqa: BLE001 - closing must never mask the real error
                pass


StageFunc = Callable[[StageContext], "StageResult | str | None"]
