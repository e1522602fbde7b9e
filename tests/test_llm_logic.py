"""The logic around LLM calls, against an in-process scripted model (milliseconds each):
repair loops, warmer retries and the cache, outline strategies and windowing, write-stage
failures, the retry policy. What only a real model shows is tested in test_outline/test_write."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import BaseModel

from tests.fixtures.render import context, synthetic_workdir
from v2a.llm.base import Completion
from v2a.llm.cache import LLMCache
from v2a.llm.cached import CachedLLM
from v2a.llm.scripted import ScriptedLLM, scripted_handle
from v2a.models import Draft, Outline, Transcript
from v2a.pipeline import run_stage
from v2a.workspace import read_model, write_json
from v2a.write.ask import Invalid, Request, ask


class Name(BaseModel):
    model_config = {"extra": "forbid"}
    title: str


def _cached(tmp_path, *replies, default=None) -> CachedLLM:
    return CachedLLM(ScriptedLLM(replies=list(replies), default=default),
                     LLMCache(tmp_path / "cache"))


MSG = [{"role": "user", "content": "Name it."}]


def test_repair_shows_the_model_its_reply_and_error(tmp_path):
    llm = _cached(tmp_path, "no json here", '{"title": "Byte pair encoding"}')
    answer = ask(llm, Request(messages=MSG, check=lambda c: c.parsed.title, schema=Name,
                              max_tokens=50, temperature=0.2, again="repair",
                              repair=lambda err: f"FIX: {err}", label="name"))
    assert answer.value == "Byte pair encoding" and answer.tries == 2
    assert answer.usage.calls == 2
    second = llm.inner.calls[1].messages
    assert second[-2] == {"role": "assistant", "content": "no json here"}
    assert second[-1]["content"].startswith("FIX: ")
    assert answer.notes == [f"name: reply 1 rejected: {answer.notes[0].split('rejected: ')[1]}"]


def test_a_check_can_reject_a_valid_reply(tmp_path):
    def check(c: Completion) -> str:
        if c.parsed.title.lower() == "tokenization":
            raise Invalid("too generic: name what this chapter says")
        return c.parsed.title

    llm = _cached(tmp_path, '{"title": "Tokenization"}', '{"title": "UTF-8 bytes"}')
    answer = ask(llm, Request(messages=MSG, check=check, schema=Name, max_tokens=50,
                              temperature=0.2, repair=lambda e: e))
    assert answer.value == "UTF-8 bytes"
    assert llm.inner.calls[1].messages[-1]["content"] == "too generic: name what this chapter says"


def test_warmer_retry_is_cached_and_a_last_failure_is_asked_again_next_run(tmp_path):
    refusal = "I'm sorry, but I can't assist with that."

    def check(c: Completion) -> str:
        if c.text.startswith("I'm sorry"):
            raise Invalid("declined")
        return c.text

    def request() -> Request:
        return Request(messages=MSG, check=check, max_tokens=50, temperature=0.2, retries=1,
                       again="warmer")

    llm = _cached(tmp_path, refusal, refusal)
    assert ask(llm, request()).value is None
    assert [c.temperature for c in llm.inner.calls] == [0.2, 0.7]
    # next run: the first reply comes from the cache, the dropped second is asked again
    llm2 = _cached(tmp_path, "Some prose.")
    assert ask(llm2, request()).value == "Some prose."
    assert [c.temperature for c in llm2.inner.calls] == [0.7]


def _name_reply(messages, schema) -> str:
    user = messages[-1]["content"]
    m = re.search(r"Chapter (\d+) of", user)
    if m:
        return json.dumps({"title": f"Topic number {m.group(1)}", "summary": "It is said."})
    return json.dumps({"title": "A scripted article"})


def test_code_placed_chapters_are_named_one_call_each(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    ws.path("outline.json").unlink()
    ctx = context(ws, outline_boundaries="code")
    ctx.llm_handle = scripted_handle(default=_name_reply)
    run_stage(ctx, "outline")
    outline = read_model(ws.path("outline.json"), Outline)
    n = len(outline.chapters)
    assert outline.method == "llm" and n >= 2
    assert [c.title for c in outline.chapters] == [f"Topic number {k}" for k in range(1, n + 1)]
    assert outline.title == "A scripted article"
    assert len(ctx.llm_handle.llm.calls) == n + 1  # one per chapter + the article title


def test_outline_falls_back_to_own_words_when_no_reply_is_usable(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    ws.path("outline.json").unlink()
    ctx = context(ws, outline_boundaries="code")
    ctx.llm_handle = scripted_handle(default="this is not JSON")
    run_stage(ctx, "outline")
    outline = read_model(ws.path("outline.json"), Outline)
    assert outline.method == "fallback" and outline.chapters
    assert any("rejected" in n for n in outline.notes)
    assert any("no usable model reply" in n for n in outline.notes)


def _choose_reply(messages, schema) -> str:
    """Start a chapter at every other offered block; titles name the block."""
    user = messages[-1]["content"]
    ids = [int(i) for i in re.findall(r"^\[(\d+)\]", user, re.MULTILINE)]
    picks = ids[::2] or ids[:1]
    return json.dumps({"title": "Merged article", "chapters": [
        {"start": i, "title": f"From block {i}", "summary": "Said."} for i in picks]})


def test_model_placed_chapters_in_windows_then_merged(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    ws.path("outline.json").unlink()
    tr = read_model(ws.path("transcript.json"), Transcript)
    for s in tr.segments:  # long enough that a small context cannot hold it at once
        s.text = " ".join([f"Segment {s.id} explains how tokens become integers."] * 8)
    write_json(ws.path("transcript.json"), tr)
    # a tiny context forces the transcript into several windows
    ctx = context(ws, outline_boundaries="model", local_ctx=512)
    ctx.llm_handle = scripted_handle(default=_choose_reply)
    run_stage(ctx, "outline")
    outline = read_model(ws.path("outline.json"), Outline)
    calls = ctx.llm_handle.llm.calls
    assert any("outlined in" in n and "windows" in n for n in outline.notes)
    assert len(calls) >= 2 and outline.method == "llm"
    assert all(c.title.startswith("From block ") for c in outline.chapters)
    starts = [c.start for c in outline.chapters]
    assert starts == sorted(starts) and starts[0] == 0.4


def test_write_retries_a_refusal_warmer_then_reports_the_chapter(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    ctx = context(ws)
    ctx.llm_handle = scripted_handle(default="I'm sorry, but I can't assist with that request.")
    report = run_stage(ctx, "write")
    draft = read_model(ws.path("chapters.json"), Draft)
    assert all(c.status == "failed" and "declined" in (c.error or "") for c in draft.chapters)
    assert "re-run to retry" in (report.detail or "")
    temps = sorted({c.temperature for c in ctx.llm_handle.llm.calls})
    assert temps == [0.2, 0.7]


def test_retry_policy_retries_transient_failures_only(monkeypatch):
    from v2a.llm import retry

    monkeypatch.setattr(retry, "INITIAL_WAIT_S", 0.0)
    monkeypatch.setattr(retry, "MAX_WAIT_S", 0.0)
    monkeypatch.setattr(retry, "JITTER_S", 0.0)
    tries = []

    def flaky(fail: int, exc: type[Exception]):
        tries.clear()

        def fn():
            tries.append(1)
            if len(tries) <= fail:
                raise exc("boom")
            return "ok"
        return fn

    transient = lambda e: isinstance(e, TimeoutError)

    def call(fn, retries):
        for attempt in retry.retrying(retries, transient):
            with attempt:
                return fn()

    assert call(flaky(2, TimeoutError), 2) == "ok" and len(tries) == 3
    with pytest.raises(TimeoutError):
        call(flaky(5, TimeoutError), 2)
    assert len(tries) == 3
    with pytest.raises(ValueError):
        call(flaky(1, ValueError), 4)
    assert len(tries) == 1
