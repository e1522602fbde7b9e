"""Base types of the LLM layer: the one call every stage makes, its reply, its errors.

* ``LLM.complete(messages, schema=..., max_tokens=..., temperature=...) -> Completion``: with a
  pydantic ``schema`` the reply is constrained the way the backend supports best and is always
  validated here (``Completion.parsed``), raising ``OutputError`` with the raw text otherwise.
* A provider (``v2a.llm.providers``) implements ``BaseLLM.raw``: one real call, text + usage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from ..errors import LLMError
from ..models import Usage
from .structured import parse_structured, validation_message

# context assumed for a remote model (the embedded one uses config.local_ctx)
REMOTE_CTX = 32000

_SEED: ContextVar[int | None] = ContextVar("v2a_sampling_seed", default=None)


@contextmanager
def sampling_seed(seed: int | None) -> Iterator[None]:
    """Calls made inside ask the endpoint for this sampling seed (where it takes one).

    The embedded server samples with one fixed seed so a first run can be repeated; an editor
    asking twice for a new version of the same section must get two samples, not one twice."""
    token = _SEED.set(seed)
    try:
        yield
    finally:
        _SEED.reset(token)


def current_seed() -> int | None:
    return _SEED.get()


class EndpointError(LLMError):
    """The endpoint is unusable as configured (unreachable, bad key, unknown model): fatal."""


class OutputError(LLMError):
    """The reply did not validate against the requested schema."""

    def __init__(self, message: str, text: str = "", detail: str = "",
                 usage: Usage | None = None):
        super().__init__(message)
        self.text, self.detail = text, detail
        self.usage = usage or Usage()  # the call still cost tokens


@dataclass
class Completion:
    text: str
    usage: Usage
    model: str
    parsed: BaseModel | None = None
    cached: bool = False
    finish_reason: str | None = None  # "length": the reply hit max_tokens


class LLM(Protocol):
    model_name: str

    def complete(self, messages: list[dict], *, schema: type[BaseModel] | None = None,
                 max_tokens: int, temperature: float) -> Completion: ...


def validate(c: Completion, schema: type[BaseModel] | None) -> Completion:
    """Parse ``c.text`` against ``schema`` into ``c.parsed``; ``OutputError`` when it does not."""
    if schema is None:
        return c
    if c.finish_reason == "loop":
        # cut off where it began repeating: what is left is not a whole structured reply
        raise OutputError("the model's reply kept repeating itself and was cut off",
                          text=c.text, usage=c.usage,
                          detail="the reply kept repeating the same words; answer once, briefly")
    try:
        c.parsed = parse_structured(c.text, schema)
    except ValidationError as exc:
        snippet = c.text.strip().replace("\n", " ")[:80]
        raise OutputError(f"the model's reply is not a valid {schema.__name__} "
                          f"({validation_message(exc)}); reply began: {snippet!r}",
                          text=c.text, detail=validation_message(exc), usage=c.usage) from None
    return c


class BaseLLM:
    """Providers implement ``raw`` (one real call, text + usage); validation is shared."""

    model_name: str = "?"
    cache_id: str = "?"  # identifies model + endpoint in cache keys, known before any call

    def raw(self, messages: list[dict], *, schema: type[BaseModel] | None, max_tokens: int,
            temperature: float) -> Completion:
        raise NotImplementedError

    def complete(self, messages: list[dict], *, schema: type[BaseModel] | None = None,
                 max_tokens: int, temperature: float) -> Completion:
        c = self.raw(messages, schema=schema, max_tokens=max_tokens, temperature=temperature)
        return validate(c, schema)


@dataclass
class Target:
    """What the config points at, worked out without any network or file work."""

    provider: str  # the LLM provider that serves it ("openai", "langchain", ...)
    model_name: str
    cache_id: str
    base_url: str | None = None
    embedded: bool = False  # the local model server v2a starts itself
    model: str | None = None  # the name to request; None: the endpoint's first listed model

    @property
    def kind(self) -> str:
        return "local" if self.embedded else self.provider


class LLMHandleLike(Protocol):
    """An open (or lazily opened) backend: ``.llm`` to call, ``.close()`` to stop it."""

    @property
    def llm(self) -> BaseLLM: ...

    def close(self) -> None: ...


@dataclass
class LLMHandle:
    """An open backend: ``.llm`` to call, ``.close()`` to stop whatever was started."""

    llm: BaseLLM
    base_url: str | None
    model_name: str
    kind: str
    server: Any = None  # the LocalServer for the embedded model
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> LLMHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
