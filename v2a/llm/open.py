"""Opening the configured LLM: the provider named by the config, started now or lazily.

``describe(config)`` says what the config points at without any I/O (cache keys need it before
any call); ``open_llm(config)`` opens it — which, for the embedded model, starts the local
server; ``lazy=True`` defers that to the first call that misses the cache.
"""

from __future__ import annotations

import threading

from ..config import Config
from ..errors import LLMError
from ..progress import NullProgress, Progress
from ..registry import LLM_PROVIDERS
from .base import REMOTE_CTX, BaseLLM, Completion, LLMHandle, Target


def describe(config: Config) -> Target:
    return LLM_PROVIDERS.get(config.llm_provider).target(config)


def context_tokens(config: Config) -> int:
    """Tokens of context the configured model is assumed to have."""
    if describe(config).embedded:
        return config.local_ctx
    return max(config.local_ctx, REMOTE_CTX)


class LazyHandle(BaseLLM):
    """An ``LLMHandle`` that opens the backend (starts the server) on its first real call."""

    def __init__(self, config: Config, progress: Progress | None = None):
        self.config, self.progress = config, progress
        t = describe(config)
        self.model_name, self.cache_id, self.kind = t.model_name, t.cache_id, t.kind
        self._handle: LLMHandle | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def llm(self) -> BaseLLM:
        return self

    @property
    def base_url(self) -> str | None:
        return self._handle.base_url if self._handle else None

    @property
    def server(self):
        return self._handle.server if self._handle else None

    @property
    def opened(self) -> bool:
        return self._handle is not None

    def open(self) -> LLMHandle:
        with self._lock:
            if self._closed:
                raise LLMError("the LLM handle was closed")
            if self._handle is None:
                self._handle = open_now(self.config, self.progress)
            return self._handle

    def raw(self, messages, *, schema, max_tokens, temperature) -> Completion:
        return self.open().llm.raw(messages, schema=schema, max_tokens=max_tokens,
                                   temperature=temperature)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._handle is not None:
                self._handle.close()
                self._handle = None


def open_now(config: Config, progress: Progress | None = None) -> LLMHandle:
    t = describe(config)
    return LLM_PROVIDERS.get(config.llm_provider).open(config, t, progress or NullProgress())


def open_llm(config: Config, progress: Progress | None = None,
             lazy: bool = False) -> LLMHandle | LazyHandle:
    """Open the configured LLM. With no endpoint configured this starts the embedded server."""
    from .local.base import install_handlers

    install_handlers()  # from the main thread, so SIGTERM also stops a lazy server
    if lazy:
        return LazyHandle(config, progress)
    return open_now(config, progress)
