"""What an option is: defined once, next to its config field, and everything derives from it.

A config field annotated with ``Opt(...)`` carries its command-line flags, help, which commands
show it, which stages' cache keys it enters, and (for extension points) the registry its values
come from. ``Config`` validates against that registry; ``v2a.cli`` builds every command's
options from these; ``v2a.pipeline`` builds every stage's cache key from ``stages``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Registry

# the commands that take config options (batch and review add their own on top)
MEDIA = ("run", "batch", "transcribe", "scenes")
RUN = ("run", "batch")
ALL = ("run", "batch", "transcribe", "scenes")
REVIEW_LLM = ("run", "batch", "review")  # the model options: review regenerates sections
RUN_PUBLISH = ("run", "batch", "publish")  # what the article is rendered as


@dataclass(frozen=True)
class Opt:
    """Metadata of one config field (put it in ``Annotated[type, Opt(...)]``)."""

    help: str
    flags: tuple[str, ...] = ()  # command-line flags; () = config/API only
    stages: tuple[str, ...] = ()  # stages whose cache key includes this field
    commands: tuple[str, ...] = ()  # commands that show the flags
    registry: Registry | None = None  # allowed values come from this registry
    extra_choices: tuple[str, ...] = ()  # allowed besides the registry's names ("auto")
    choices: tuple[str, ...] = ()  # a fixed set of allowed values
    panel: str = "Options"  # heading the option is listed under in --help
    envvar: str | None = None
    min: float | None = None
    multiple: bool = False  # a list option given by repeating the flag
    metavar: str | None = None

    def allowed(self) -> list[str]:
        if self.registry is not None:
            return list(self.extra_choices) + self.registry.names()
        return list(self.choices)


def opt_of(field_info: Any) -> Opt | None:
    """The ``Opt`` in a pydantic field's metadata, if any."""
    for m in getattr(field_info, "metadata", ()):
        if isinstance(m, Opt):
            return m
    return None
