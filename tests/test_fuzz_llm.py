"""Protocol fuzzing of the LLM client (Hypothesis) against a real loopback HTTP server: completion
bodies and server-sent-event streams that are well-formed, truncated, wrong-typed or not JSON at
all, with any status and content type. Every outcome must be a result (the right text, for a
well-formed reply) or one clean v2a error line — never another exception.

Bounded: a fixed number of examples per test (``FUZZ_EXAMPLES``), each under a deadline."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.fixtures.raw_endpoint import Answer, RawEndpoint
from v2a.errors import V2AError
from v2a.llm.providers.openai_client import OpenAIBackend

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=8),
                derandomize=not os.environ.get("FUZZ_RANDOM"),  # CI: the same examples each run
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
RUN: dict[str, int] = {}  # examples run per test (bench/reliability.py reports the total)


class Named(BaseModel):
    title: str


@pytest.fixture(scope="module")
def endpoint():
    ep = RawEndpoint()
    yield ep
    ep.close()
    out = os.environ.get("V2A_FUZZ_COUNTS")
    if out:  # the battery counts the examples really run
        with open(out, "a") as fh:
            fh.write(json.dumps(RUN) + "\n")


def ask(ep: RawEndpoint, answer: Answer, stream: str, schema: type[BaseModel] | None):
    """One call through the real client; returns the Completion, or the V2AError raised."""
    ep.answer = answer
    llm = OpenAIBackend(base_url=ep.base_url, api_key="k", model="m", cache_id="fuzz",
                        retries=0, timeout=4.0)
    llm.stream = stream
    try:
        return llm.complete([{"role": "user", "content": "Say it."}], schema=schema,
                            max_tokens=16, temperature=0.0)
    except V2AError as exc:
        msg = str(exc)
        assert msg.strip() and "\n" not in msg and "Traceback" not in msg, msg
        return exc
    # anything else (AttributeError, JSONDecodeError, KeyError...) fails the test as it is


# --- generated JSON --------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
anything = st.recursive(scalars, lambda ch: st.lists(ch, max_size=3)
                        | st.dictionaries(st.text(max_size=8), ch, max_size=3), max_leaves=8)
words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
                max_size=10)
finish = st.sampled_from([None, "stop", "length", "tool_calls"])


@st.composite
def chunk(draw, content: str) -> dict:
    """A well-formed stream event carrying ``content``."""
    c: dict = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
               "choices": [{"index": 0, "delta": {"content": content},
                            "finish_reason": draw(finish)}]}
    if draw(st.booleans()):
        c["choices"][0]["delta"]["role"] = "assistant"
    return c


@st.composite
def damaged(draw, obj: dict) -> object:
    """``obj`` with one field (at any depth) replaced by a wrong-typed value or removed."""
    obj = json.loads(json.dumps(obj))
    node, path = obj, []
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        k = draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
        path.append((node, k))
        node = node[k]
    if not path:
        return draw(anything)
    parent, k = path[-1]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[k]
    else:
        parent[k] = draw(anything)
    return obj


def sse_bytes(events: list[str], crlf: bool, done: bool) -> bytes:
    nl = "\r\n" if crlf else "\n"
    body = "".join(f"data: {e}{nl}{nl}" for e in events)
    return (body + (f"data: [DONE]{nl}{nl}" if done else "")).encode()


# --- streams ---------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), pieces=st.lists(words, min_size=1, max_size=6), crlf=st.booleans(),
       extras=st.lists(st.sampled_from([": ping", "event: message", "id: 7", "retry: 10"]),
                       max_size=2))
def test_a_well_formed_stream_gives_its_text(endpoint, data, pieces, crlf, extras):
    RUN["well-formed stream"] = RUN.get("well-formed stream", 0) + 1
    events = [json.dumps(data.draw(chunk(p))) for p in pieces]
    body = sse_bytes(events, crlf, done=data.draw(st.booleans()))
    if extras:  # comments and other SSE fields the client must skip
        body = ("\n".join(extras) + "\n\n").encode() + body
    res = ask(endpoint, Answer(body, content_type="text/event-stream", chunked=True),
              "usage", None)
    assert not isinstance(res, V2AError), res
    assert res.text == "".join(pieces)


@FUZZ
@given(data=st.data(), pieces=st.lists(words, min_size=1, max_size=4),
       how=st.sampled_from(["wrong type", "not JSON", "truncated", "any JSON"]),
       schema=st.sampled_from([None, Named]))
def test_a_damaged_stream_is_a_result_or_one_line(endpoint, data, pieces, how, schema):
    RUN["damaged stream"] = RUN.get("damaged stream", 0) + 1
    events = [json.dumps(data.draw(chunk(p))) for p in pieces]
    at = data.draw(st.integers(0, len(events) - 1))
    if how == "wrong type":
        events[at] = json.dumps(data.draw(damaged(json.loads(events[at]))))
    elif how == "not JSON":
        events[at] = data.draw(st.sampled_from(["hello", "{", "{'a': 1}", "nan", "[1,"]))
    elif how == "any JSON":
        events[at] = json.dumps(data.draw(anything))
    body = sse_bytes(events, data.draw(st.booleans()), done=data.draw(st.booleans()))
    if how == "truncated":
        body = body[:data.draw(st.integers(0, len(body)))]
    ask(endpoint, Answer(body, content_type="text/event-stream", chunked=True), "usage",
        schema)


# --- whole replies ---------------------------------------------------------------------------


def completion(text: str, fin: str | None) -> dict:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": fin,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


@FUZZ
@given(data=st.data(), text=words, fin=finish,
       how=st.sampled_from(["well-formed", "wrong type", "truncated", "any JSON", "not JSON"]),
       status=st.sampled_from([200, 200, 200, 400, 401, 404, 422, 429, 500, 503]),
       ctype=st.sampled_from(["application/json", "application/json; charset=utf-8",
                              "text/plain", "text/html", "text/event-stream"]),
       schema=st.sampled_from([None, Named]))
def test_any_whole_reply_is_a_result_or_one_line(endpoint, data, text, fin, how, status, ctype,
                                                 schema):
    RUN["whole reply"] = RUN.get("whole reply", 0) + 1
    obj = completion(text, fin)
    if how == "wrong type":
        body = json.dumps(data.draw(damaged(obj))).encode()
    elif how == "any JSON":
        body = json.dumps(data.draw(anything)).encode()
    elif how == "not JSON":
        body = data.draw(st.binary(max_size=40))
    else:
        body = json.dumps(obj).encode()
        if how == "truncated":
            body = body[:data.draw(st.integers(0, len(body) - 1))]
    res = ask(endpoint, Answer(body, status=status, content_type=ctype), "off", schema)
    if how == "well-formed" and status == 200 and schema is None:
        assert not isinstance(res, V2AError), res
        assert res.text == text and res.finish_reason == fin
