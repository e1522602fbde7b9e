"""Write stage: real chapters of the generated lecture, zero calls on re-run (counted on the
wire), one call when one chapter changes, overlapping calls, failed chapters kept and retried."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request

import pytest

from tests.fixtures.llm import chat_reply, copy_workdir, endpoint_config, run_stages
from v2a.models import Draft, Outline, OutlineChapter
from v2a.workspace import read_model, write_json
from v2a.write.chapters import clean, unsaid_lead


def _chapter_calls(requests) -> list:
    """Chapter requests whose reply reached v2a (one that timed out on a busy machine and was
    sent again is a transient retry, not a call)."""
    return [r for r in requests if r.path.endswith("/chat/completions") and r.delivered
            and "Transcript of chapter" in json.dumps(r.body.get("messages", ""))]


def _asked(request) -> int | None:
    """The chapter index a chapter request asks for ("Chapter 3: …" → 2)."""
    m = re.match(r"Chapter (\d+):", request.body["messages"][1]["content"])
    return int(m.group(1)) - 1 if m else None


def _failed(draft: Draft) -> set[int]:
    return {c.index for c in draft.chapters if c.status == "failed"}


@pytest.mark.slow
def test_every_chapter_ends_ok_or_failed_with_a_reason(lecture_written):
    """Invariants of a first run with the real model, whatever it samples on this CPU: each
    chapter is written (prose, no heading) or failed with the reason and every reply's fate."""
    wd = lecture_written.workdir
    outline = read_model(wd / "outline.json", Outline)
    draft = read_model(wd / "chapters.json", Draft)
    assert [c.index for c in draft.chapters] == [c.index for c in outline.chapters]
    for ch, oc in zip(draft.chapters, outline.chapters):
        assert (ch.title, ch.start, ch.end) == (oc.title, oc.start, oc.end)
        assert ch.usage.calls >= 1
        if ch.status == "ok":
            assert ch.error is None
            assert len(ch.markdown.split()) >= 10, ch.markdown
            assert not ch.markdown.lstrip().startswith("#")  # the article adds headings
            # a chapter asked more than once says why each earlier reply was not used
            assert len([n for n in ch.notes if "rejected" in n]) >= ch.usage.calls - 1
        else:
            assert ch.status == "failed" and ch.error and ch.markdown == ""
            assert ch.usage.calls == 3 and len(ch.notes) == 3, ch.notes  # every try, and why
    # each call is on the wire, at most three per chapter (as asked, warmer, shown its fault)
    assert draft.usage.calls == len(_chapter_calls(lecture_written.requests))
    assert len(draft.chapters) <= draft.usage.calls <= 3 * len(draft.chapters)
    assert draft.usage.completion_tokens > 0
    assert draft.model == "qwen2.5-coder-1.5b" and draft.lang == "en"
    # the shared prefix (instructions + outline) is identical across chapter calls
    systems = {r.body["messages"][0]["content"] for r in _chapter_calls(lecture_written.requests)}
    assert len(systems) == 1 and all(c.title in next(iter(systems)) for c in outline.chapters)


@pytest.mark.slow
def test_chapter_calls_overlap(lecture_written):
    """With --llm-concurrency 2, two chapter requests are in flight at once on the wire."""
    calls = sorted(_chapter_calls(lecture_written.requests), key=lambda r: r.start)
    assert len(calls) >= 2
    overlaps = [(a, b) for i, a in enumerate(calls) for b in calls[i + 1:] if b.start < a.end]
    assert overlaps, [(r.start, r.end) for r in calls]


@pytest.mark.slow
def test_rerun_asks_only_failed_chapters(lecture_written, tmp_path):
    """A re-run makes no call for a written chapter; a failed one (if the model declined it
    three times on this CPU) is asked again, and no other chapter is."""
    wd = copy_workdir(lecture_written.workdir, tmp_path / "ws")
    cfg, proxy = lecture_written.config.model_copy(update={"workdir": wd}), lecture_written.proxy
    first = read_model(wd / "chapters.json", Draft)
    failed = _failed(first)
    proxy.reset()
    reports, _ = run_stages(wd, cfg, "outline", "write")
    assert [r.status for r in reports] == ["cached", "ran" if failed else "cached"]
    assert {_asked(r) for r in _chapter_calls(proxy.requests)} == failed
    if failed:  # the next run then has nothing left to ask (or fails them again, reported)
        return
    assert proxy.requests == []
    # even when both stages are forced to run, every call comes from the per-call cache
    forced = cfg.model_copy(update={"force": ["outline", "write"]})
    reports, ctx = run_stages(wd, forced, "outline", "write")
    assert [r.status for r in reports] == ["ran", "ran"]
    assert proxy.requests == []  # not even /v1/models
    assert not ctx.llm_handle.opened
    draft = read_model(wd / "chapters.json", Draft)
    # as many replayed replies as the first run made calls (a retried chapter made more)
    assert draft.usage.calls == 0 and draft.usage.cached_calls == first.usage.calls
    assert draft.usage.cached_calls >= len(draft.chapters)
    assert [c.markdown for c in draft.chapters] == [c.markdown for c in first.chapters]


def test_a_declined_chapter_is_written_by_the_first_run(lecture_media, tmp_path, fake_endpoint):
    """Declined twice, the chapter is asked a third time with its reply and the reason shown
    back; that reply is used, so the first run writes the whole article."""
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    write_json(wd / "outline.json", _outline_for(wd, 2))
    refusal = "I'm sorry, but I can't assist with that."

    def reply(body, n, headers):
        user = body["messages"][1]["content"]
        if user.startswith("Chapter 2:") and len(body["messages"]) == 2:
            return 200, chat_reply(refusal)
        return 200, chat_reply(f"Prose of {user.split(':')[0]}, told by the speaker.")

    fake = fake_endpoint(reply)
    cfg = endpoint_config(fake.base_url, "fake-model", wd)
    reports, _ = run_stages(wd, cfg, "write")
    draft = read_model(wd / "chapters.json", Draft)
    assert [c.status for c in draft.chapters] == ["ok", "ok"] and reports[0].status == "ran"
    second = draft.chapters[1]
    assert second.markdown == "Prose of Chapter 2, told by the speaker." and second.usage.calls == 3
    third = [b for b in fake.bodies if len(b["messages"]) == 4]
    assert len(third) == 1 and third[0]["messages"][2]["content"] == refusal
    assert "declined" in third[0]["messages"][3]["content"]
    assert [n.split(": reply")[1][:2] for n in second.notes] == [" 1", " 2"]
    fake.bodies.clear()
    assert [r.status for r in run_stages(wd, cfg, "write")[0]] == ["cached"]
    assert fake.bodies == []


@pytest.mark.slow
def test_changing_one_chapter_rewrites_only_it(lecture_written, tmp_path):
    """A corrected transcript line re-writes the chapters whose prompt shows it, nothing else."""
    from v2a.models import Transcript

    wd = copy_workdir(lecture_written.workdir, tmp_path / "ws")
    tr = read_model(wd / "transcript.json", Transcript)
    tr.segments[-1].text += " Zanzibar."
    write_json(wd / "transcript.json", tr)
    proxy = lecture_written.proxy
    failed = _failed(read_model(wd / "chapters.json", Draft))
    proxy.reset()
    cfg = lecture_written.config.model_copy(update={"workdir": wd, "force": ["write"]})
    run_stages(wd, cfg, "write")
    calls = _chapter_calls(proxy.requests)
    draft = read_model(wd / "chapters.json", Draft)
    # the chapters whose prompt shows the edit, and those the first run could not write
    assert calls and all("Zanzibar" in json.dumps(r.body["messages"]) for r in calls
                         if _asked(r) not in failed)
    assert draft.usage.calls == len(calls)
    assert 1 <= draft.chapters[-1].usage.calls <= 3  # the chapter with the edit
    if len(draft.chapters) >= 3 and 0 not in failed:  # the first never sees the last one's text
        assert draft.chapters[0].usage.calls == 0 and draft.chapters[0].usage.cached_calls >= 1


@pytest.mark.slow
def test_retitling_one_chapter_rewrites_only_it(lecture_written, tmp_path):
    """An editor renames one chapter in outline.json: that chapter is rewritten under its new
    title; the others come from the cache although their prompts show the new outline."""
    wd = copy_workdir(lecture_written.workdir, tmp_path / "ws")
    outline = read_model(wd / "outline.json", Outline)
    assert len(outline.chapters) >= 2
    outline.chapters[0].title = "Why Tokens Matter So Much"
    write_json(wd / "outline.json", outline)
    proxy = lecture_written.proxy
    failed = _failed(read_model(wd / "chapters.json", Draft))
    proxy.reset()
    # the outline stage notices the hand edit (and keeps it); then write runs
    run_stages(wd, lecture_written.config.model_copy(update={"workdir": wd}), "outline", "write")
    assert read_model(wd / "outline.json", Outline).chapters[0].title == "Why Tokens Matter So Much"
    calls = _chapter_calls(proxy.requests)
    draft = read_model(wd / "chapters.json", Draft)
    # one to three calls for the renamed chapter; the others only if the first run failed them
    mine = [c for c in calls if _asked(c) == 0]
    assert 1 <= len(mine) <= 3 and all("Why Tokens Matter So Much" in c.body["messages"][1][
        "content"] for c in mine)
    assert {_asked(c) for c in calls} - {0} <= failed
    assert draft.chapters[0].title == "Why Tokens Matter So Much"
    assert draft.chapters[0].usage.calls == len(mine)
    assert all(c.usage.cached_calls >= 1 and c.usage.calls == 0 for c in draft.chapters[1:]
               if c.index not in failed)


def _outline_for(wd, n: int) -> Outline:
    """A hand-made outline of n equal chapters of the lecture's transcript."""
    from v2a.models import Transcript

    tr = read_model(wd / "transcript.json", Transcript)
    per = len(tr.segments) // n
    chs = []
    for k in range(n):
        a = tr.segments[k * per]
        b = tr.segments[(k + 1) * per - 1] if k + 1 < n else tr.segments[-1]
        chs.append(OutlineChapter(index=k, title=f"Part {k + 1}", first_segment=a.id,
                                  last_segment=b.id, start=a.start, end=b.end))
    return Outline(method="fallback", chapters=chs)


def test_failed_chapter_is_reported_kept_and_retried(lecture_media, tmp_path, fake_endpoint):
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    write_json(wd / "outline.json", _outline_for(wd, 3))
    broken = {"on": True}

    def reply(body, n, headers):
        user = body["messages"][-1]["content"]
        if broken["on"] and user.startswith("Chapter 2:"):
            return 500, {"error": {"message": "kaput"}}
        return 200, chat_reply(f"Prose of {user.split(':')[0]}.")

    fake = fake_endpoint(reply)
    cfg = endpoint_config(fake.base_url, "fake-model", wd, llm_concurrency=3)
    reports, _ = run_stages(wd, cfg, "write")
    draft = read_model(wd / "chapters.json", Draft)
    assert [c.status for c in draft.chapters] == ["ok", "failed", "ok"]
    assert "HTTP 500" in draft.chapters[1].error and "kaput" in draft.chapters[1].error
    assert draft.chapters[0].markdown == "Prose of Chapter 1."
    assert "1 failed" in reports[0].detail
    assert not (wd / ".v2a/stages/write.json").exists()  # incomplete: re-run next time
    fake.bodies.clear()
    broken["on"] = False
    reports, _ = run_stages(wd, cfg, "write")
    draft = read_model(wd / "chapters.json", Draft)
    assert [c.status for c in draft.chapters] == ["ok", "ok", "ok"]
    assert len(fake.bodies) == 1  # only the failed chapter was asked again
    assert draft.usage.calls == 1 and draft.usage.cached_calls == 2


def test_other_language_titles_and_prompt(lecture_media, tmp_path, fake_endpoint):
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    write_json(wd / "outline.json", _outline_for(wd, 2))
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply("## トークン化\n\n本文です。")))
    run_stages(wd, endpoint_config(fake.base_url, "fake-model", wd, article_language="ja"), "write")
    draft = read_model(wd / "chapters.json", Draft)
    assert draft.lang == "ja"
    assert [c.title for c in draft.chapters] == ["トークン化", "トークン化"]
    assert draft.chapters[0].markdown == "本文です。"
    assert "Write in Japanese" in fake.bodies[0]["messages"][0]["content"]


def test_clean_strips_fences_and_repeated_heading():
    assert clean("```markdown\n## Intro\n\nText.\n```", "Intro", False) == ("Text.", "Intro")
    ran_on = "Text.\n\n### Detail\n\nMore.\n\n## Next chapter\n\nOther.\n\n---\n**Note:** x"
    assert clean(ran_on, "Intro", False) == ("Text.\n\n### Detail\n\nMore.", None)
    assert clean("Text.\n\n---\n\n**Note:** this continues.", "I", False) == ("Text.", None)
    assert clean("Plain text.", "Intro", False) == ("Plain text.", None)
    assert clean('"""\nQuoted back.\n"""', "Intro", False) == ("Quoted back.", None)
    assert clean("# Other\nBody", "Intro", True) == ("Body", "Other")
    chatty = ("I understand that the previous chapter ended with a reference to merges, and I "
              "will continue from there. Merges come next.")
    assert clean(chatty, "I", False) == ("Merges come next.", None)
    assert clean("Sure, here is the rewritten chapter: Text.", "I", False) == ("Text.", None)
    # the speaker's own words stay
    assert clean("Sure, tokens are integers.", "I", False) == ("Sure, tokens are integers.", None)
    # the article's frame is not the speaker's: "In this chapter, we will…" loses its frame
    framed = "In this chapter, we will write a tokenizer.\n\nIn this section, merges come next."
    assert clean(framed, "I", False) == ("We will write a tokenizer.\n\nMerges come next.", None)
    assert clean("In this chapter of the talk we count.", "I", False) == \
        ("In this chapter of the talk we count.", None)  # no comma: the speaker may say it
    # a whole paragraph in bold, in a chatty wrapper (the notebook talk's chapter 1): plain;
    # a bold term inside a paragraph and a short bold line stay
    bold = ("**Today we build a tokenizer from scratch, the piece that turns text into integers "
            "and back.**")
    assert clean(f"Certainly!\n\n---\n\n{bold}\n\n---\n\nFeel free to ask.", "I", False) == \
        (bold.strip("*"), None)
    kept = "We call **get_stats** on the ids.\n\n**Merging.**"
    assert clean(kept, "I", False) == (kept, None)


def test_the_prompt_echoed_back_or_a_question_back_is_not_prose():
    from v2a.write.chapters import is_refusal

    echo = ("I'll rewrite the transcript of chapter 3 as clean prose in the speaker's voice "
            "(first person). Output only the rewritten text of this chapter.\n\n"
            "To compress that sequence, we count pairs.")
    assert clean(echo, "I", False) == ("To compress that sequence, we count pairs.", None)
    asked = ("Could you please provide me with the transcript of the previous chapter and the "
             "beginning of the next chapter? This will help me understand the flow.")
    assert is_refusal(clean(asked, "I", False)[0])  # asked again, warmer, like a refusal
    two = ("I understand that the transcript of chapter 6 ends with a technical explanation, but "
           "I need to rewrite it in a more conversational style. Here's the rewritten version of "
           "chapter 6:\n\n---\n\nThe first 256 entries are the single bytes.")
    assert clean(two, "I", False) == ("The first 256 entries are the single bytes.", None)
    # the speaker's own plans stay
    said = "Now I'll rewrite the loop with zip. It is shorter."
    assert clean(said, "I", False) == (said, None) and not is_refusal(said)


def test_a_lead_in_and_speaker_labels_the_speaker_did_not_say_are_dropped():
    """Found in the notebook talk's first chapter: "Let's go through it step by step:" over a
    "**I:** Today we…" paragraph."""
    from v2a.write.chapters import unsaid_frame

    said = "Today we are going to write a tokenizer from scratch in plain Python."
    reply = ("Let's go through it step by step:\n\n**I:** Today we are going to write a "
             "tokenizer from scratch.\n\nSpeaker: It fits in forty lines.")
    assert unsaid_frame(reply, said) == ("Today we are going to write a tokenizer from scratch."
                                         "\n\nIt fits in forty lines.")
    own = "We write two things today:\n\nA tokenizer, and its tests."
    assert unsaid_frame(own, "so we write two things today: a tokenizer and its tests") == own
    code = "I: the loop counts pairs."  # "I:" mid-sentence stays; at a paragraph start it goes
    assert unsaid_frame("We saw that I: x.", said) == "We saw that I: x."
    assert unsaid_frame(code, said) == "the loop counts pairs."


def test_an_acknowledgement_the_speaker_did_not_say_is_dropped():
    said = "That there is what we will merge first. Merging means replacing the pair."
    assert unsaid_lead("I understand that there is what we will merge first.", said) == \
        "There is what we will merge first."
    own = "I understand that this looks odd, but bytes are enough."
    assert unsaid_lead(own, own) == own  # the speaker's own words stay


def test_empty_reply_or_refusal_is_retried_not_cached(lecture_media, tmp_path, fake_endpoint):
    """An empty reply is asked again at once (warmer), then shown back; refusals after it fail
    the chapter, nothing bad is cached, and the next run asks again."""
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    write_json(wd / "outline.json", _outline_for(wd, 1))
    sorry = "I'm sorry, but I can't assist with that request."
    replies = iter(["   ", sorry, sorry, "Now some prose."])
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply(next(replies))))
    cfg = endpoint_config(fake.base_url, "fake-model", wd)
    run_stages(wd, cfg, "write")
    ch = read_model(wd / "chapters.json", Draft).chapters[0]
    assert ch.status == "failed" and "declined" in ch.error and len(ch.notes) == 3
    assert [b["temperature"] for b in fake.bodies] == [cfg.temperature, 0.7, 0.7]
    assert len(fake.bodies[2]["messages"]) == 4  # the third try shows the refusal back
    run_stages(wd, cfg, "write")
    assert read_model(wd / "chapters.json", Draft).chapters[0].markdown == "Now some prose."
    assert len(fake.bodies) == 4


@pytest.mark.slow
def test_embedded_server_serves_chapters_concurrently(lecture_written, tmp_path):
    """The embedded server (llama.cpp's C++ server, 2 slots) really processes two requests at
    once (its /slots endpoint shows both busy) and accepts the standard strict json_schema."""
    from pydantic import BaseModel

    from v2a.llm.open import open_llm

    cfg = lecture_written.config.model_copy(update={
        "llm_base_url": None, "llm_model": None, "llm_concurrency": 2, "local_ctx": 2048})
    busy: list[int] = []
    with open_llm(cfg) as h:
        assert h.kind == "xllamacpp"
        slots = urllib.request.Request(h.base_url.removesuffix("/v1") + "/slots", headers={
            "Authorization": f"Bearer {h.server.api_key}"})

        def poll():
            while not done.is_set():
                with urllib.request.urlopen(slots, timeout=5) as r:
                    busy.append(sum(bool(s.get("is_processing")) for s in json.load(r)))
                time.sleep(0.2)

        done = threading.Event()
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        msgs = [[{"role": "user", "content": f"Write two sentences about the number {i}."}]
                for i in (3, 7)]
        threads = [threading.Thread(target=h.llm.complete, args=(m,),
                                    kwargs={"max_tokens": 48, "temperature": 0.2})
                   for m in msgs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        poller.join()

        class Answer(BaseModel):
            model_config = {"extra": "forbid"}
            word: str
            count: int

        c = h.llm.complete([{"role": "user", "content": "Give a word and a count as JSON."}],
                           schema=Answer, max_tokens=40, temperature=0)
        assert isinstance(c.parsed, Answer)
        assert h.llm.mode == "json_schema"  # accepted as is, no downgrade
    assert max(busy) == 2, busy


def test_a_json_reply_is_not_published_as_prose(lecture_media, tmp_path, fake_endpoint):
    """An endpoint that answers with data ('{"not": "prose"') gets the chapter asked again; the
    data never becomes the chapter's text."""
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    write_json(wd / "outline.json", _outline_for(wd, 1))
    replies = iter(['{"not": "prose"', "[1, 2, 3]", "The speaker's own prose, at last."])
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply(next(replies))))
    run_stages(wd, endpoint_config(fake.base_url, "fake-model", wd), "write")
    ch = read_model(wd / "chapters.json", Draft).chapters[0]
    assert ch.status == "ok" and ch.markdown == "The speaker's own prose, at last."
    assert len(fake.bodies) == 3 and all("JSON" in n for n in ch.notes)

