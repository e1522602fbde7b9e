"""Named registries filled by plugins: ASR engines, LLM providers, local servers, renderers,
OCR engines, batch engines. The CLI's choices and the config's allowed values come from here."""

from __future__ import annotations

from typing import Generic, TypeVar

from .errors import UsageError

T = TypeVar("T")

_INSTANCES: list[Registry] = []  # every registry, also those declared elsewhere (v2a.stages)


class Registry(Generic[T]):
    """name → object, filled on first use by calling the plugins' ``hook(register=...)``."""

    def __init__(self, kind: str, hook: str, option: str | None = None):
        self.kind, self.hook, self.option = kind, hook, option
        self._items: dict[str, T] | None = None
        _INSTANCES.append(self)

    def _load(self) -> dict[str, T]:
        if self._items is None:
            from .plugins import manager

            items: dict[str, T] = {}

            def register(name: str, obj: T) -> None:
                items.setdefault(name, obj)  # first registration wins: built-ins come first

            # in plugin registration order (pluggy would call the last registered first): the
            # built-ins, then entry points; the first of a kind is the default where one is
            for impl in getattr(manager().hook, self.hook).get_hookimpls():
                impl.function(register=register)
            self._items = self._checked(items)
        return self._items

    def _checked(self, items: dict[str, T]) -> dict[str, T]:
        """What was registered, checked and ordered (a subclass may refuse a bad plugin)."""
        return items

    def names(self) -> list[str]:
        return list(self._load())

    def get(self, name: str) -> T:
        items = self._load()
        if name not in items:
            flag = f"{self.option} " if self.option else ""
            raise UsageError(f"unknown {self.kind} {flag}{name!r}; choose one of: "
                             f"{', '.join(items) or '(none installed)'}")
        return items[name]

    def items(self) -> list[tuple[str, T]]:
        return list(self._load().items())

    def __contains__(self, name: object) -> bool:
        return name in self._load()

    def reset(self) -> None:
        self._items = None


ASR_ENGINES: Registry = Registry("ASR engine", "register_asr_engines", "--asr-backend")
LLM_PROVIDERS: Registry = Registry("LLM provider", "register_llm_providers", "--llm-provider")
LOCAL_SERVERS: Registry = Registry("local server", "register_local_servers", "--local-server")
RENDERERS: Registry = Registry("output format", "register_renderers", "--format")
OCR_ENGINES: Registry = Registry("OCR engine", "register_ocr_engines", "--ocr")
BATCH_ENGINES: Registry = Registry("batch engine", "register_batch_engines", "--engine")

ALL = (ASR_ENGINES, LLM_PROVIDERS, LOCAL_SERVERS, RENDERERS, OCR_ENGINES, BATCH_ENGINES)


def reset() -> None:
    """Forget what was loaded (after registering a plugin at run time)."""
    for r in _INSTANCES:
        r.reset()


def register_plugin(module: object, name: str | None = None) -> None:
    """Add a plugin at run time (tests, notebooks): the same effect as an entry point."""
    from .plugins import manager

    manager().register(module, name)
    reset()


def unregister_plugin(name: str) -> None:
    from .plugins import manager

    manager().unregister(name=name)
    reset()
