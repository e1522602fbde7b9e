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


# --- names: bounded, specific, distinct -----------------------------------------------------


def test_generic_and_duplicate_titles_are_asked_again(tmp_path):
    """'Tokens' names only the talk's topic, a second 'Bytes and integers' repeats chapter 1:
    both are asked again (the second time showing the other titles); none ends in a fallback."""
    ws = synthetic_workdir(tmp_path / "w")
    ws.path("outline.json").unlink()
    asked: list[str] = []

    def reply(messages, schema):
        user = messages[-1]["content"]
        m = re.search(r"Chapter (\d+) of", messages[1]["content"])
        k = int(m.group(1)) if m else 0
        asked.append(user)
        if not m:
            return json.dumps({"title": "Tokens, bytes and merges"})
        if "only names the topic" in user or "other chapters are titled" in user:
            return json.dumps({"title": f"What part {k} adds", "summary": "It adds a step."})
        title = {1: "Bytes and integers", 2: "Tokens"}.get(k, "Bytes and integers")
        return json.dumps({"title": title, "summary": "It is said. And then more is said."})

    ctx = context(ws, outline_boundaries="code")
    ctx.llm_handle = scripted_handle(default=reply)
    run_stage(ctx, "outline")
    outline = read_model(ws.path("outline.json"), Outline)
    titles = [c.title for c in outline.chapters]
    assert len(titles) >= 3 and len(set(titles)) == len(titles)
    assert "Tokens" not in titles and outline.method == "llm"
    assert not any("own words" in n for n in outline.notes)
    assert any("only names the topic" in n for n in outline.notes)
    assert all(c.summary == "It is said." or c.summary == "It adds a step."
               for c in outline.chapters)  # one sentence
    assert any("The other chapters are titled:" in a for a in asked)


def test_a_title_longer_than_eight_words_is_repaired(tmp_path):
    from v2a.write.naming import SectionName, check_name

    long = SectionName(title="How the byte pair encoding algorithm merges its most frequent pairs",
                       summary="x")
    with pytest.raises(Invalid, match="at most 8"):
        check_name(long, 0, topic={"bpe"})
    ok = check_name(SectionName(title='"## Counting pairs."', summary="A. B."), 3, topic={"bpe"})
    assert (ok.index, ok.title, ok.summary) == (3, "Counting pairs", "A.")
    cjk = check_name(SectionName(title="统计相邻的字节对", summary="说明。"), 1, topic={"bpe"})
    assert cjk.title == "统计相邻的字节对"  # no spaces: still a usable title
    # a Japanese article's title left in English is asked again; a term inside one is fine
    with pytest.raises(Invalid, match="not in Japanese"):
        check_name(SectionName(title="UTF-8 Encoding", summary="x"), 1, topic=set(), lang="ja")
    assert check_name(SectionName(title="UTF-8 エンコーディング", summary="x"), 1, topic=set(),
                      lang="ja").title == "UTF-8 エンコーディング"
    assert check_name(SectionName(title="UTF-8 Encoding", summary="x"), 1, topic=set(),
                      lang="de").title == "UTF-8 Encoding"  # Latin script: not judged


def test_a_structured_reply_that_loops_is_repaired_with_that_reason(tmp_path):
    looping = '{"title": "BPE", "summary": "' + "it merges pairs, " * 40
    llm = _cached(tmp_path, looping, '{"title": "Merging pairs"}')
    answer = ask(llm, Request(messages=MSG, check=lambda c: c.parsed.title, schema=Name,
                              max_tokens=400, temperature=0.2, repair=lambda e: f"FIX: {e}"))
    assert answer.value == "Merging pairs"
    assert llm.inner.calls[1].messages[-1]["content"] == (
        "FIX: the reply kept repeating the same words; answer once, briefly")
    assert len(llm.inner.calls[1].messages[-2]["content"]) < 80  # only the first copy was kept


# --- prose: no scaffolding ------------------------------------------------------------------


def test_scaffolding_at_the_edges_is_stripped_and_inside_is_asked_again(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    edges = ('I understand that the previous chapter ended with bytes, and I will continue.\n\n'
             'We count every pair of tokens that sit next to each other.\n\n---\n\n'
             'This translation maintains the structure and meaning of the original transcript.'
             '\n"""')
    inside = ("We merge the pair. This rewrite keeps the speaker's voice throughout. "
              "Then we count again.")
    replies = [edges, inside, inside, inside] + ["Plain prose about tokens."] * 10
    ctx = context(ws)
    ctx.llm_handle = scripted_handle(replies=replies)
    run_stage(ctx, "write")
    draft = read_model(ws.path("chapters.json"), Draft)
    first, second = draft.chapters[0].markdown, draft.chapters[1].markdown
    assert first == "We count every pair of tokens that sit next to each other."
    # asked three times, chatty every time: the prose is kept, the sentence about the task is not
    assert second == "We merge the pair. Then we count again."
    assert all(c.status == "ok" for c in draft.chapters)
    # the kept reply stays cached: a re-run replays it and asks nothing
    again = context(ws, force=["write"])
    again.llm_handle = h = scripted_handle(replies=[])
    run_stage(again, "write")
    assert h.llm.calls == []
    assert read_model(ws.path("chapters.json"), Draft).chapters[1].markdown == second


def test_chinese_article_prose_in_english_is_asked_again_and_chinese_scaffolding_goes(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    asked: dict[int, int] = {}

    def reply(messages, schema):
        k = int(re.search(r"^Chapter (\d+):", messages[-1]["content"], re.MULTILINE).group(1))
        asked[k] = asked.get(k, 0) + 1
        if k == 1 and asked[k] == 1:
            return "We count every pair of tokens that sit next to each other."  # English
        if k == 2:
            return ("好的，以下是根据给定的 transcript 重写后的章节内容：\n\n"
                    "我们统计每一对相邻的字节，然后合并出现最多的那一对。\n\n希望这对你有帮助！")
        return "我们从字节开始，每个字符变成一到四个字节，这就是起点。"

    ctx = context(ws, article_language="zh")
    ctx.llm_handle = scripted_handle(default=reply)
    run_stage(ctx, "write")
    draft = read_model(ws.path("chapters.json"), Draft)
    assert asked[1] == 2 and draft.chapters[0].markdown.startswith("我们从字节开始")
    assert draft.chapters[1].markdown == "我们统计每一对相邻的字节，然后合并出现最多的那一对。"
    assert asked[2] == 1 and all(c.status == "ok" for c in draft.chapters)



def test_a_chinese_chapter_cut_where_it_loops_is_kept_when_it_says_enough(tmp_path):
    """The loop cut-off keeps what came before the loop; "enough" is counted in tokens, since
    Chinese has no spaces to count words by."""
    ws = synthetic_workdir(tmp_path / "w")
    body = ("我们从字节开始，每个字符变成一到四个字节，这就是起点。然后统计每一对相邻的字节，找出出现最多"
            "的那一对。接着把这一对替换成一个新的记号，新记号的编号是下一个空闲的整数。第一次合并产生记号"
            "二百五十六。我们重复这个过程，直到词表达到想要的大小。")
    ctx = context(ws, article_language="zh")
    ctx.llm_handle = h = scripted_handle(default=body + "合并的顺序很重要，" * 40)
    run_stage(ctx, "write")
    draft = read_model(ws.path("chapters.json"), Draft)
    assert all(c.status == "ok" and c.markdown.startswith("我们从字节开始") for c in draft.chapters)
    assert len(h.llm.calls) == len(draft.chapters)  # none asked again


def test_a_chapter_that_tells_another_story_is_asked_again(tmp_path):
    """A reply whose content words are mostly not the speaker's is asked again, warmer."""
    ws = synthetic_workdir(tmp_path / "w")
    invented = ("So, to build our tokenizer, we need to follow these steps. First define the "
                "vocabulary, then choose a merge strategy, then train the algorithm on a large "
                "corpus, evaluate compression ratios, and finally deploy the optimized model.")
    first: dict[int, bool] = {}

    def reply(messages, schema):
        user = messages[-1]["content"]
        k = int(re.search(r"^Chapter (\d+):", user, re.MULTILINE).group(1))
        said = user.split('"""')[1].strip()
        if k == 1 and k not in first:
            first[k] = True
            return invented
        return said

    ctx = context(ws)
    ctx.llm_handle = h = scripted_handle(default=reply)
    run_stage(ctx, "write")
    draft = read_model(ws.path("chapters.json"), Draft)
    asked = [c for c in h.llm.calls if "Chapter 1:" in c.prompt]
    assert len(asked) == 2 and asked[1].temperature >= 0.7
    assert "merge strategy" not in draft.chapters[0].markdown
    assert draft.chapters[0].markdown.startswith("Sentence 0")
    # off the transcript three times: not kept; the chapter fails (its transcript stands in)
    ws2 = synthetic_workdir(tmp_path / "w2")
    ctx = context(ws2)
    ctx.llm_handle = scripted_handle(default=invented)
    run_stage(ctx, "write")
    gone = read_model(ws2.path("chapters.json"), Draft).chapters[0]
    assert gone.status == "failed" and "transcript does not" in (gone.error or "")
    assert gone.usage.calls == 3  # the three tries were paid for: they count
