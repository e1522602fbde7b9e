"""One LLM request that must pass a check, asked again until it does (or the tries run out).

Outline and write share this loop; they differ in the check and in how they ask again:

* ``repair``: show the model its reply and what was wrong with it (structured replies);
* ``warmer``: ask the same again at a higher temperature (a refusal or an empty chapter: the
  words were not wrong, the sample was).

``again`` may also name one way per retry (``("warmer", "repair")``: first another sample, then
the reply shown back with what was wrong): the same prompt at the same temperature gives the
same sample again on a seeded server, so a third try must change something.

Every try's usage is counted, and each rejected try leaves a note saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

from ..llm.base import Completion, OutputError
from ..llm.cached import CachedLLM
from ..models import Usage

T = TypeVar("T")

WARM_TEMPERATURE = 0.7
Again = Literal["repair", "warmer"]


class Invalid(Exception):
    """A reply that parsed but cannot be used; the message says why (shown to the model)."""


@dataclass
class Answer(Generic[T]):
    value: T | None  # None: no try passed the check
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)
    tries: int = 0
    error: str = ""  # why the last try was rejected
    last: Completion | None = None  # the last try's reply, usable or not (None: it failed)


@dataclass
class Request(Generic[T]):
    """What to ask and how to judge the reply."""

    messages: list[dict]
    check: Callable[[Completion], T]  # the usable value, or raise Invalid
    max_tokens: int
    temperature: float
    schema: type[BaseModel] | None = None
    tag: dict | None = None  # extra cache-key material (template hashes)
    key_messages: list[dict] | None = None  # what the cache keys on, if not ``messages``
    retries: int = 2
    again: Again | tuple[Again, ...] = "repair"
    repair: Callable[[str], str] | None = None  # error → the user message that shows it
    # the last rejected reply and why → a value still worth keeping (None: nothing usable);
    # a salvaged reply stays cached, so a re-run replays it instead of asking again
    salvage: Callable[[Completion, str], T | None] | None = None
    label: str = "reply"


def ask(llm: CachedLLM, req: Request[T], on_try: Callable[[], None] | None = None
        ) -> Answer[T]:
    """Ask until ``req.check`` accepts a reply; ``on_try`` is called after every try."""
    answer: Answer[T] = Answer(value=None)
    messages, key = list(req.messages), req.key_messages
    ways = (req.again,) if isinstance(req.again, str) else req.again
    temperature = req.temperature
    for attempt in range(req.retries + 1):
        text, answer.last = "", None
        try:
            c = llm.complete(messages, schema=req.schema, max_tokens=req.max_tokens,
                             temperature=temperature, tag=req.tag, key_messages=key)
            answer.usage = answer.usage.add(c.usage)
            text, answer.last = c.text, c
            answer.value = req.check(c)
            answer.tries = attempt + 1
            return answer
        except OutputError as exc:
            text, error = exc.text, exc.detail or str(exc)
            answer.usage = answer.usage.add(exc.usage)
        except Invalid as exc:
            error = str(exc)
        finally:
            if on_try is not None:
                on_try()
        answer.tries, answer.error = attempt + 1, error
        answer.notes.append(f"{req.label}: reply {attempt + 1} rejected: {error}")
        if attempt == req.retries:
            if req.salvage is not None and answer.last is not None:
                answer.value = req.salvage(answer.last, error)
                if answer.value is not None:
                    answer.notes.append(f"{req.label}: kept the usable part of reply "
                                        f"{attempt + 1}")
                    break
            if "warmer" in ways:
                # the last reply stays unusable: drop it so the next run asks afresh
                llm.forget(messages, schema=req.schema, max_tokens=req.max_tokens,
                           temperature=temperature, tag=req.tag, key_messages=key)
            break
        way = ways[min(attempt, len(ways) - 1)]
        if way == "repair":
            assert req.repair is not None, "a repairing request needs a repair message"
            fix = [{"role": "assistant", "content": text or "(empty)"},
                   {"role": "user", "content": req.repair(error)}]
            messages = messages + fix
            key = key + fix if key is not None else None
        else:
            temperature = max(WARM_TEMPERATURE, req.temperature)
    return answer
