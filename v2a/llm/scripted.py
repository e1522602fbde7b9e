"""An in-process LLM that answers from a script: for tests of the logic around LLM calls
(repair loops, windowing, refusals, retries, caching) in milliseconds, behind the same interface
as a real provider (like simonw/llm's MockModel). Never the proof that a feature works with a
real model: the slow tests are.

A reply is a string, an exception to raise, or a function ``(messages, schema) -> str``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Union

from pydantic import BaseModel

from ..models import Usage
from .base import BaseLLM, Completion, LLMHandle
from .loops import loop_start
from .usage import count_tokens, messages_tokens

Reply = Union[str, BaseException, Callable[[list[dict], "type[BaseModel] | None"], str]]


@dataclass
class Call:
    messages: list[dict]
    schema: type[BaseModel] | None
    max_tokens: int
    temperature: float

    @property
    def prompt(self) -> str:
        """All message contents, joined (handy for asserting what the model was shown)."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)


@dataclass
class ScriptedLLM(BaseLLM):
    replies: list[Reply] = field(default_factory=list)
    default: Reply | None = None  # answers once the list is used up (else: an error)
    model_name: str = "scripted"
    cache_id: str = "scripted"
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def raw(self, messages: list[dict], *, schema: type[BaseModel] | None, max_tokens: int,
            temperature: float) -> Completion:
        with self._lock:
            self.calls.append(Call(messages, schema, max_tokens, temperature))
            if self.replies:
                reply = self.replies.pop(0)
            elif self.default is not None:
                reply = self.default
            else:
                raise AssertionError(f"ScriptedLLM: no reply left for call {len(self.calls)}")
        if isinstance(reply, BaseException):
            raise reply
        text = reply(messages, schema) if callable(reply) else reply
        # like a streaming provider: a reply that repeats itself is cut where the loop starts
        cut = loop_start(text)
        if cut is not None:
            text = text[:cut]
            return Completion(text=text, model=self.model_name, finish_reason="loop",
                              usage=Usage(calls=1, prompt_tokens=messages_tokens(messages),
                                          completion_tokens=count_tokens(text)))
        # like a server's token cap: the reply is cut, and says so
        words = text.split(" ")
        finish = "stop"
        if count_tokens(text) > max_tokens:
            while words and count_tokens(" ".join(words)) > max_tokens:
                words.pop()
            text, finish = " ".join(words), "length"
        usage = Usage(calls=1, prompt_tokens=messages_tokens(messages),
                      completion_tokens=count_tokens(text))
        return Completion(text=text, usage=usage, model=self.model_name, finish_reason=finish)


def scripted_handle(replies: Iterable[Reply] = (), default: Reply | None = None) -> LLMHandle:
    """An open handle around a ``ScriptedLLM`` (put it in ``StageContext.llm_handle``)."""
    llm = ScriptedLLM(replies=list(replies), default=default)
    return LLMHandle(llm=llm, base_url=None, model_name=llm.model_name, kind="scripted")
