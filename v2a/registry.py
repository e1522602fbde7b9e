"""Named registries filled by plugins: stages, ASR engines, LLM providers, local servers,
renderers, OCR engines, batch engines, commands. The CLI's choices and the config's allowed
values come from here.

Each registry is typed by what its plugins register (a Protocol or a class, below) and is filled
on first use by calling its hook through pluggy, ``pm.hook.register_x(register=...)``, as
simonw/llm does. Pluggy asks the plugin registered last first: ``v2a.plugins`` registers the
built-ins in reverse, so they are asked in ``BUILTIN`` order, after any installed plugin; the
first registration of a name wins, so an installed plugin can replace a built-in by its name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from .errors import UsageError

if TYPE_CHECKING:
    from .batch.engine import BatchEngineFactory
    from .config import Config
    from .llm.base import LLMHandle, Target
    from .llm.local.base import ServerKind
    from .ocr.base import OcrEngine
    from .progress import Progress
    from .render.base import Renderer
    from .transcribe.base import AsrEngine

T = TypeVar("T")

_INSTANCES: list[Registry[Any]] = []  # every registry, also those declared elsewhere (v2a.stages)


# --- what each registry holds ---------------------------------------------------------------------


class AsrEngineFactory(Protocol):
    def __call__(self, config: Config) -> AsrEngine: ...


class LLMProvider(Protocol):
    def target(self, config: Config) -> Target:
        """What the config points at, without any I/O (cache keys need it first)."""
        ...

    def open(self, config: Config, target: Target, progress: Progress) -> LLMHandle: ...


class OcrEngineFactory(Protocol):
    def __call__(self, config: Config) -> OcrEngine: ...


Command = Callable[..., Any]  # a typer command function (its signature is its CLI)


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
                items.setdefault(name, obj)  # the first registration of a name wins

            getattr(manager().hook, self.hook)(register=register)
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


ASR_ENGINES: Registry[AsrEngineFactory] = Registry(
    "ASR engine", "register_asr_engines", "--asr-backend")
LLM_PROVIDERS: Registry[LLMProvider] = Registry(
    "LLM provider", "register_llm_providers", "--llm-provider")
LOCAL_SERVERS: Registry[ServerKind] = Registry(
    "local server", "register_local_servers", "--local-server")
RENDERERS: Registry[Renderer] = Registry("output format", "register_renderers", "--format")
OCR_ENGINES: Registry[OcrEngineFactory] = Registry("OCR engine", "register_ocr_engines", "--ocr")
BATCH_ENGINES: Registry[BatchEngineFactory] = Registry(
    "batch engine", "register_batch_engines", "--engine")
COMMANDS: Registry[Command] = Registry("command", "register_commands")

ALL: tuple[Registry[Any], ...] = (ASR_ENGINES, LLM_PROVIDERS, LOCAL_SERVERS, RENDERERS,
                                  OCR_ENGINES, BATCH_ENGINES, COMMANDS)


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
