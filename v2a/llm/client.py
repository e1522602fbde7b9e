"""The one small LLM interface every stage uses, plus opening the configured backend.

* ``LLM.complete(messages, schema=..., max_tokens=..., temperature=...) -> Completion``: with a
  pydantic ``schema`` the reply is constrained the way the backend supports best and is always
  validated here (``Completion.parsed``), raising ``OutputError`` with the raw text otherwise.
* ``open_llm(config)``: the configured endpoint, or the embedded local server (started now, or
  on the first call that misses the cache with ``lazy=True``).
* ``get_llm(ctx)``: what stages call — the shared handle (``ctx.services["llm"]``, e.g. one for
  a whole batch) behind this work folder's per-call cache.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol
from urllib.parse import urlparse

from pydantic import BaseModel, ValidationError

from ..config import Config
from ..errors import LLMError
from ..models import Usage
from .cache import LLMCache

OPENAI_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


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


class LLM(Protocol):
    model_name: str

    def complete(self, messages: list[dict], *, schema: type[BaseModel] | None = None,
                 max_tokens: int, temperature: float) -> Completion: ...


# --- structured output -----------------------------------------------------------------------

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def strict_schema(schema: type[BaseModel]) -> dict:
    """JSON schema in the shape OpenAI's strict mode accepts (all keys required, no extras)."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            # "title"/"default" are schema annotations, except as *names* under "properties"
            props = node.get("properties")
            node = {k: fix(v) for k, v in node.items()
                    if k not in ("title", "default", "properties")}
            if isinstance(props, dict):
                node["properties"] = {name: fix(sub) for name, sub in props.items()}
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            return node
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(schema.model_json_schema())


def parse_structured(text: str, schema: type[BaseModel]) -> BaseModel:
    """Validate a reply; tolerate code fences and prose around one JSON object."""
    body = _FENCE.sub("", text.strip())
    try:
        return schema.model_validate_json(body)
    except ValidationError as first:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end and (start, end) != (0, len(body) - 1):
            try:
                return schema.model_validate_json(body[start:end + 1])
            except ValidationError:
                pass
        raise first


def validation_message(exc: ValidationError) -> str:
    """A compact, model-readable list of what was wrong."""
    parts = []
    for e in exc.errors()[:6]:
        loc = ".".join(str(x) for x in e["loc"]) or "(root)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


class BaseLLM:
    """Backends implement ``raw`` (one real call, text + usage); validation is shared."""

    model_name: str = "?"
    cache_id: str = "?"  # identifies model + endpoint in cache keys, known before any call

    def raw(self, messages: list[dict], *, schema: type[BaseModel] | None, max_tokens: int,
            temperature: float) -> Completion:
        raise NotImplementedError

    def complete(self, messages: list[dict], *, schema: type[BaseModel] | None = None,
                 max_tokens: int, temperature: float) -> Completion:
        c = self.raw(messages, schema=schema, max_tokens=max_tokens, temperature=temperature)
        return validate(c, schema)


def validate(c: Completion, schema: type[BaseModel] | None) -> Completion:
    if schema is None:
        return c
    try:
        c.parsed = parse_structured(c.text, schema)
    except ValidationError as exc:
        snippet = c.text.strip().replace("\n", " ")[:80]
        raise OutputError(f"the model's reply is not a valid {schema.__name__} "
                          f"({validation_message(exc)}); reply began: {snippet!r}",
                          text=c.text, detail=validation_message(exc), usage=c.usage) from None
    return c


# --- cache layer ------------------------------------------------------------------------------


class CachedLLM(BaseLLM):
    """Serves repeated calls from the work folder's cache; the inner LLM is touched on a miss
    only (so the embedded server is not even started when everything is cached)."""

    def __init__(self, inner: BaseLLM, cache: LLMCache):
        self.inner, self.cache = inner, cache
        self.model_name, self.cache_id = inner.model_name, inner.cache_id
        self._lock = threading.Lock()
        self.calls = 0

    def _key(self, messages, schema, max_tokens, temperature, tag) -> str:
        return LLMCache.key({
            "model": self.cache_id, "messages": messages, "max_tokens": max_tokens,
            "temperature": temperature, "tag": tag,
            "schema": schema.model_json_schema() if schema else None,
        })

    def complete(self, messages: list[dict], *, schema: type[BaseModel] | None = None,
                 max_tokens: int, temperature: float, tag: dict | None = None,
                 key_messages: list[dict] | None = None) -> Completion:
        """``tag``: extra key material, e.g. the prompt templates' hashes. ``key_messages``:
        what the cache keys on instead of ``messages``, for callers whose prompts carry
        context that should not invalidate the reply (see ``write.chapters``)."""
        key = self._key(key_messages or messages, schema, max_tokens, temperature, tag)
        hit = self.cache.get(key)
        if hit is not None:
            u = Usage.model_validate(hit["usage"])
            c = Completion(text=hit["text"], model=hit["model"], cached=True,
                           usage=Usage(cached_calls=1, estimated=u.estimated))
        else:
            c = self.inner.raw(messages, schema=schema, max_tokens=max_tokens,
                               temperature=temperature)
            with self._lock:
                self.calls += 1
            self.cache.put(key, {"text": c.text, "model": c.model,
                                 "usage": c.usage.model_dump(mode="json")})
        return validate(c, schema)

    def forget(self, messages: list[dict], *, schema: type[BaseModel] | None = None,
               max_tokens: int, temperature: float, tag: dict | None = None,
               key_messages: list[dict] | None = None) -> None:
        """Drop a cached reply the caller found unusable, so the next run asks again."""
        self.cache.drop(self._key(key_messages or messages, schema, max_tokens, temperature,
                                  tag))


# --- opening a backend ------------------------------------------------------------------------


@dataclass
class Target:
    """What the config points at, worked out without any network or file work."""

    kind: str  # "local" (the embedded server) | "openai" | "langchain"
    model_name: str
    cache_id: str
    base_url: str | None = None
    embedded: bool = False
    model: str | None = None  # the name to request; None: the endpoint's first listed model


def _host(url: str) -> str:
    return (urlparse(url).hostname or "").lower()


def describe(config: Config) -> Target:
    if config.llm_provider == "langchain":
        if not config.llm_model:
            raise EndpointError("--llm-provider langchain needs --model provider:model "
                                "(e.g. anthropic:claude-3-5-haiku-latest)")
        base = config.llm_base_url
        return Target("langchain", config.llm_model,
                      f"langchain:{config.llm_model}@{base or ''}", base)
    base = config.llm_base_url or os.environ.get("OPENAI_BASE_URL") or None
    if base is None and config.llm_model:
        if not os.environ.get(config.api_key_env):
            raise EndpointError(
                f"--model {config.llm_model} needs an endpoint: set --llm-base-url, or "
                f"${config.api_key_env} for OpenAI (use --local-model for the embedded model)")
        base = OPENAI_URL
    if base is None:
        from .gguf import local_model_id

        alias, fp = local_model_id(config.local_model)
        return Target("local", alias, f"local:{alias}:{fp}", None, embedded=True)
    base = base.rstrip("/")
    model = config.llm_model or (OPENAI_DEFAULT_MODEL if _host(base) == "api.openai.com" else None)
    return Target("openai", model or "(endpoint default)", f"{model or 'default'}@{base}", base,
                  model=model)


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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LazyHandle(BaseLLM):
    """An ``LLMHandle`` that opens the backend (starts the server) on its first real call."""

    def __init__(self, config: Config, progress=None):
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
                self._handle = open_llm(self.config, self.progress)
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


def _progress(progress):
    if progress is None:
        from ..progress import NullProgress

        return NullProgress()
    return progress


def pick_local_server(name: str):
    """(name, ServerKind) for ``config.local_server``; "auto": the first that can run here."""
    from ..registry import LOCAL_SERVERS
    from .local.base import ServerUnavailable

    if name != "auto":
        return name, LOCAL_SERVERS.get(name)
    reasons = []
    for n, kind in LOCAL_SERVERS.items():
        why = kind.unavailable()
        if why is None:
            return n, kind
        reasons.append(f"{n}: {why}")
    raise ServerUnavailable("no local model server can run here (" + "; ".join(reasons)
                            + "); install one, or use an endpoint with --llm-base-url")


def open_llm(config: Config, progress=None, lazy: bool = False) -> LLMHandle | LazyHandle:
    """Open the configured LLM. With no endpoint configured this starts the embedded server."""
    from .local import base as srv_mod

    srv_mod.install_handlers()  # from the main thread, so SIGTERM also stops a lazy server
    if lazy:
        return LazyHandle(config, progress)
    t = describe(config)
    progress = _progress(progress)
    if t.kind == "langchain":
        from .langchain_backend import LangChainBackend

        llm = LangChainBackend(config, t)
        return LLMHandle(llm=llm, base_url=t.base_url, model_name=t.model_name, kind=t.kind)
    from .openai_backend import OpenAIBackend

    if not t.embedded:
        key = os.environ.get(config.api_key_env)
        if not key and _host(t.base_url) == "api.openai.com":
            raise EndpointError(f"OpenAI needs an API key: set ${config.api_key_env}")
        llm = OpenAIBackend(base_url=t.base_url, api_key=key or "not-needed", model=t.model,
                            cache_id=t.cache_id, structured="json_schema",
                            timeout=config.llm_timeout, retries=config.llm_retries,
                            key_env=config.api_key_env)
        return LLMHandle(llm=llm, base_url=t.base_url, model_name=t.model_name, kind=t.kind)

    from ..registry import LOCAL_SERVERS
    from .gguf import resolve

    name, kind = pick_local_server(config.local_server)
    model = resolve(config.local_model, config.cache_dir, progress)
    others = tuple(n for n, k in LOCAL_SERVERS.items() if n != name and k.unavailable() is None)
    server = srv_mod.LocalServer(
        kind, model.path, model.name, n_ctx=config.local_ctx,
        parallel=config.llm_concurrency, log_dir=config.cache_dir / "logs", alternatives=others)
    with progress.task(f"starting local model {model.name} ({name})", total=None):
        server.start()
    llm = OpenAIBackend(
        base_url=server.base_url, api_key=server.api_key, model=model.name, cache_id=t.cache_id,
        structured=kind.structured, timeout=config.llm_timeout, retries=config.llm_retries,
        key_env=None, extra_body={"seed": 0}, server=server)
    return LLMHandle(llm=llm, base_url=server.base_url, model_name=model.name,
                     kind=name, server=server, _closers=[server.stop])


def get_llm(ctx) -> CachedLLM:
    """The LLM a stage should call: shared handle if injected, else a lazy one; always cached."""
    cached = ctx.services.get("llm.cached")
    if cached is not None:
        return cached
    handle = ctx.services.get("llm")
    if handle is None:
        handle = open_llm(ctx.config, ctx.progress, lazy=True)
        ctx.services["llm"] = handle
        ctx.closers.append(handle.close)
    cached = CachedLLM(handle.llm, LLMCache(ctx.ws.llm_cache_dir))
    ctx.services["llm.cached"] = cached
    return cached


__all__ = ["LLM", "Completion", "BaseLLM", "CachedLLM", "LLMHandle", "LazyHandle", "OutputError",
           "EndpointError", "open_llm", "get_llm", "describe", "strict_schema",
           "parse_structured"]
