"""Outline stage: real model on the generated lecture, platform chapters, garbage-JSON fallback,
candidates and windowing."""

from __future__ import annotations

import json

import pytest

from bench.metrics import boundary_prf
from tests.fixtures.llm import chat_reply, copy_workdir, endpoint_config, run_stages
from v2a.models import Outline, PlatformChapter, Scenes, Segment, Source, Transcript
from v2a.scenes.keyframes import heading_changes
from v2a.workspace import read_model, write_json
from v2a.write import candidates as cand
from v2a.write.windows import Block, split_windows

TOL = 3.0  # seconds: slides of the 91 s lecture are ~10 s long, so ±10 s would be meaningless


def check_outline(outline: Outline, transcript: Transcript, cuts: list[float]) -> None:
    """Times come from segment ids: each start is its first segment's start or the scene cut
    it was snapped to; chapters tile the transcript in order."""
    segs = {s.id: s for s in transcript.segments}
    ids = [s.id for s in transcript.segments]
    chs = outline.chapters
    assert chs and chs[0].first_segment == ids[0] and chs[-1].last_segment == ids[-1]
    for k, ch in enumerate(chs):
        assert ch.title.strip()
        seg = segs[ch.first_segment]
        prev_end = segs[ids[ids.index(ch.first_segment) - 1]].end if k else None
        snapped = [c for c in cuts if prev_end is not None
                   and prev_end - 0.25 <= c <= seg.start + 1.0]
        assert ch.start == round(seg.start, 3) or ch.start in [round(c, 3) for c in snapped]
        assert ch.last_segment >= ch.first_segment
        if k + 1 < len(chs):
            nxt = chs[k + 1]
            assert nxt.start > ch.start and ch.end == nxt.start
            assert ids.index(nxt.first_segment) == ids.index(ch.last_segment) + 1


@pytest.mark.slow
def test_outline_of_the_lecture(lecture_written, lecture):
    wd = lecture_written.workdir
    outline = read_model(wd / "outline.json", Outline)
    transcript = read_model(wd / "transcript.json", Transcript)
    cuts = read_model(wd / "scenes.json", Scenes).cuts
    assert outline.method == "llm" and outline.model == "qwen2.5-coder-1.5b"
    assert outline.boundaries == "code"  # what the embedded default does
    assert len(outline.chapters) >= 2
    check_outline(outline, transcript, cuts)
    assert outline.usage.calls >= 1 and outline.usage.prompt_tokens > 0
    # no two titles alike; a chapter the model could not name on this CPU is named from its own
    # words (and says so in the notes), so only those may lack a summary
    titles = [c.title for c in outline.chapters]
    unnamed = sum("own words" in n for n in outline.notes)
    assert len(set(titles)) == len(titles) and all(titles)
    assert sum(not c.summary for c in outline.chapters) <= unnamed, outline.notes
    prf = boundary_prf([c.start for c in outline.chapters],
                       [c["start"] for c in lecture.chapters], TOL)
    print(f"chapter boundaries ±{TOL:.0f} s: {prf}")
    # starts come from the slide-title changes (plus at most a strong topic shift)
    assert prf["recall"] == 1.0 and prf["precision"] >= 0.6, prf


@pytest.mark.slow
def test_model_chooses_among_candidates(lecture_media, counting_proxy, llm_endpoint, tmp_path):
    """``outline_boundaries="model"``: the real model picks starts among offered candidates."""
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    cfg = endpoint_config(counting_proxy.base_url, llm_endpoint[1], wd,
                          outline_boundaries="model")
    run_stages(wd, cfg, "outline")
    outline = read_model(wd / "outline.json", Outline)
    transcript = read_model(wd / "transcript.json", Transcript)
    scenes = read_model(wd / "scenes.json", Scenes)
    assert outline.method == "llm" and outline.boundaries == "model"
    check_outline(outline, transcript, scenes.cuts)
    cands = cand.propose(transcript.segments, scenes.cuts, transcript.duration,
                         headings=heading_changes(scenes))
    assert len(outline.chapters) <= cand.target_chapters(transcript.duration, len(cands))[2]
    starts = {c.first_segment for c in outline.chapters[1:]}
    assert starts <= {c.segment_id for c in cands}  # only offered boundaries were chosen


def test_platform_chapters_need_no_llm(lecture_media, tmp_path, lecture):
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    src = read_model(wd / "source.json", Source)
    src.chapters = [PlatformChapter(title=c["title"], start=c["start"]) for c in lecture.chapters]
    write_json(wd / "source.json", src)
    # an endpoint that does not exist: the stage must not need it
    cfg = endpoint_config("http://127.0.0.1:9/v1", "none", wd)
    run_stages(wd, cfg, "outline")
    outline = read_model(wd / "outline.json", Outline)
    assert outline.method == "platform" and outline.usage.calls == 0
    assert [c.title for c in outline.chapters] == [c["title"] for c in lecture.chapters]
    assert [c.start for c in outline.chapters] == [c["start"] for c in lecture.chapters]
    # platform times are kept as given: each lies just before its first segment
    check_outline(outline, read_model(wd / "transcript.json", Transcript),
                  [c["start"] for c in lecture.chapters])

    cfg2 = endpoint_config("http://127.0.0.1:9/v1", "none", wd, use_platform_chapters=False)
    with pytest.raises(Exception, match="cannot reach the LLM endpoint"):
        run_stages(wd, cfg2, "outline")  # told to ignore them: the LLM is asked


@pytest.mark.parametrize("boundaries", ["model", "code"])
def test_garbage_json_is_repaired_then_falls_back(lecture_media, tmp_path, fake_endpoint,
                                                  boundaries):
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply('{"title": "x", "chapters": [{"sta')))
    run_stages(wd, endpoint_config(fake.base_url, "fake-model", wd,
                                   outline_boundaries=boundaries), "outline")
    outline = read_model(wd / "outline.json", Outline)
    transcript = read_model(wd / "transcript.json", Transcript)
    assert outline.method == "fallback" and len(outline.chapters) >= 1
    check_outline(outline, transcript, read_model(wd / "scenes.json", Scenes).cuts)
    # first try + 2 repairs showing the error: for the one outline call, or for each chapter's
    # naming call (and no article-title call once every chapter failed)
    asks = 1 if boundaries == "model" else len(outline.chapters)
    assert sum("rejected" in n for n in outline.notes) == 3 * asks
    assert len(fake.bodies) == 3 * asks
    repair = fake.bodies[1]["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-1]["content"].startswith(
        "Your reply could not be used:")
    assert outline.usage.calls == 3 * asks


def test_out_of_range_block_is_rejected_by_schema(lecture_media, tmp_path, fake_endpoint):
    """A block number that is not a candidate fails validation and is re-asked."""
    wd = copy_workdir(lecture_media, tmp_path / "ws")
    transcript = read_model(wd / "transcript.json", Transcript)
    first = transcript.segments[0].id
    good = json.dumps({"title": "T", "chapters": [{"start": first, "title": "All of it",
                                                   "summary": "Everything."}]})
    bad = json.dumps({"title": "T", "chapters": [{"start": 9999, "title": "x", "summary": "y"}]})
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply(bad if n == 1 else good)))
    run_stages(wd, endpoint_config(fake.base_url, "fake-model", wd), "outline")
    outline = read_model(wd / "outline.json", Outline)
    assert outline.method == "llm" and [c.title for c in outline.chapters] == ["All of it"]
    assert "start" in outline.notes[0] and len(fake.bodies) == 2


def test_a_bad_chapter_name_is_re_asked(lecture_media, tmp_path, fake_endpoint):
    """Code-placed starts, one naming call per chapter: a reply with an empty title is shown
    its error and re-asked; every chapter gets the name given for its own transcript."""
    wd = copy_workdir(lecture_media, tmp_path / "ws")

    def reply(body, n, headers):
        user = body["messages"][1]["content"]
        if "Give the whole article" in user:
            return 200, chat_reply(json.dumps({"title": "The Article"}))
        k = int(user.split("Chapter ", 1)[1].split(" ", 1)[0])
        title = "" if (k == 1 and len(body["messages"]) == 2) else f"Name {k}"
        return 200, chat_reply(json.dumps({"title": title, "summary": f"About {k}."}))

    fake = fake_endpoint(reply)
    run_stages(wd, endpoint_config(fake.base_url, "fake-model", wd, outline_boundaries="code"),
               "outline")
    outline = read_model(wd / "outline.json", Outline)
    n = len(outline.chapters)
    assert outline.method == "llm" and outline.boundaries == "code" and n >= 2
    assert [c.title for c in outline.chapters] == [f"Name {k}" for k in range(1, n + 1)]
    assert [c.summary for c in outline.chapters] == [f"About {k}." for k in range(1, n + 1)]
    assert outline.title == "The Article" and len(fake.bodies) == n + 2  # + repair + title
    assert "section 1: reply 1 rejected: the title is empty" in outline.notes


def _segs(n: int, words: str = "word") -> list[Segment]:
    return [Segment(id=i, start=i * 5.0, end=i * 5.0 + 4.0, text=f"{words} {i}") for i in range(n)]


def test_candidates_follow_topic_shifts_scene_cuts_and_pauses():
    a = "tokens vocabulary merges bytes pairs encoding tokenizer"
    b = "gradient descent learning rate optimizer loss momentum"
    segs = [Segment(id=i, start=i * 6.0, end=i * 6.0 + 5.0, text=(a if i < 10 else b))
            for i in range(20)]
    cands = cand.propose(segs, cuts=[30.5], duration=120.0)
    by_id = {c.segment_id: c for c in cands}
    assert "topic" in by_id[10].reasons and by_id[10].lexical == 1.0
    assert "scene" in by_id[5].reasons  # cut at 30.5 s, segment 5 starts at 30 s
    assert cand.snap_time(segs, 5, [30.5]) == 30.5 and cand.snap_time(segs, 6, [30.5]) == 36.0


def test_code_starts_follow_slide_title_changes():
    """Only the cuts where the slide title changes start chapters; next-slide cuts do not."""
    words = ["tokens bytes merges", "gradient loss optimizer", "pixels kernels images"]
    segs = [Segment(id=i, start=i * 10.0, end=i * 10.0 + 8.5, text=f"{words[i // 8]} {i}")
            for i in range(24)]
    cuts = [i * 10.0 - 0.5 for i in range(1, 24)]  # a slide per segment
    cands = cand.propose(segs, cuts=cuts, duration=240.0, headings=[79.5, 159.5])
    picked = [c.time for c in cand.select_starts(cands, 240.0)]
    assert picked == [80.0, 160.0]


def test_only_evidence_worth_its_price_starts_a_chapter():
    """Chapter starts pay a fixed price (``candidates.PRICE``): weak bumps do not start a
    chapter, however many there are; a heading adds its weight (issue 21: the old mean − σ/2
    cutoff started a chapter at every other bump). Cost and DP: tests/test_candidates.py."""
    scores = [0.9, 0.5, 1.62, 0.35, 0.6, 0.3, 1.95, 0.4]
    def cands(heading_at: int | None) -> list[cand.Candidate]:
        return [cand.Candidate(segment_id=i, index=i, time=30.0 * (i + 1),
                               score=s + (cand.W_HEADING_RARE if i == heading_at else 0.0),
                               reasons=["topic"] + (["heading"] if i == heading_at else []))
                for i, s in enumerate(scores)]
    assert [c.time for c in cand.select_starts(cands(None), 270.0)] == [90.0, 210.0]
    assert [c.time for c in cand.select_starts(cands(4), 270.0)] == [90.0, 150.0, 210.0]


def test_a_long_article_title_is_cut_where_it_breaks_never_mid_phrase():
    from v2a.write.naming import short_title

    assert short_title("Building a Tokenizer from Scratch: UTF-8 Encoding, Pair Encoding, "
                       "Merging Tokens, and Byte Pair Encoding") == \
        "Building a Tokenizer from Scratch"
    assert short_title("Tokens bytes pairs merges vocabularies regexes chunks decoders encoders "
                       "and the training loop of a tokenizer") == \
        "Tokens bytes pairs merges vocabularies regexes chunks decoders encoders"
    assert short_title('"Byte Pair Encoding, Step by Step."') == "Byte Pair Encoding, Step by Step"


def test_long_transcripts_are_outlined_in_windows():
    blocks = [Block(id=i, index=i, text="word " * 200) for i in range(50)]
    windows = split_windows(blocks, budget_tokens=1000)
    assert len(windows) > 5 and sum(len(w) for w in windows) == 50
    assert [b.id for w in windows for b in w] == list(range(50))
    assert all(sum(len(b.text.split()) for b in w) <= 1000 for w in windows)
