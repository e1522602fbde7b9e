"""The per-call cache in front of any LLM: an unchanged call is served from the work folder."""

from __future__ import annotations

import threading

from pydantic import BaseModel

from ..models import Usage
from .base import BaseLLM, Completion, validate
from .cache import LLMCache


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
                           usage=Usage(cached_calls=1, estimated=u.estimated),
                           finish_reason=hit.get("finish_reason"))
        else:
            c = self.inner.raw(messages, schema=schema, max_tokens=max_tokens,
                               temperature=temperature)
            with self._lock:
                self.calls += 1
            self.cache.put(key, {"text": c.text, "model": c.model,
                                 "usage": c.usage.model_dump(mode="json"),
                                 "finish_reason": c.finish_reason})
        return validate(c, schema)

    def forget(self, messages: list[dict], *, schema: type[BaseModel] | None = None,
               max_tokens: int, temperature: float, tag: dict | None = None,
               key_messages: list[dict] | None = None) -> None:
        """Drop a cached reply the caller found unusable, so the next run asks again."""
        self.cache.drop(self._key(key_messages or messages, schema, max_tokens, temperature,
                                  tag))
