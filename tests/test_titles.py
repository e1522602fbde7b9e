"""Chapter titles are headings an editor would write: never a comma list of keywords; when the
model gives none, the screen's heading for that span or the chapter's key noun phrase."""

from __future__ import annotations

import pytest

from v2a.models import Segment
from v2a.write import fallback
from v2a.write.ask import Invalid
from v2a.write.naming import SectionName, check_name, keyword_list


@pytest.mark.parametrize("title", [
    "Token, paper, context", "Embedding, integers, row", "Embedding, integers and rows",
    "GPT-2, BPE", "Unicode, UTF-8 and Bytes", "merges; vocabulary; decoding"])
def test_keyword_lists_are_found(title):
    assert keyword_list(title)


@pytest.mark.parametrize("title", [
    "Byte-Level BPE Algorithm", "Tokens and Bytes", "Tokens, the hard way",
    "Counting pairs: zip and Counter", "Why Python, of all languages", "How merges shrink text",
    "Decoding bytes back into text", "Bytes, not characters"])
def test_headings_an_editor_would_write_are_not(title):
    assert not keyword_list(title)


def test_a_keyword_list_from_the_model_is_asked_again():
    with pytest.raises(Invalid, match="list of keywords"):
        check_name(SectionName(title="Token, paper, context", summary="s"), 0, set())
    ok = check_name(SectionName(title="Counting adjacent pairs", summary="We count."), 3, set())
    assert ok.title == "Counting adjacent pairs" and ok.index == 3


def segments(texts: list[str], step: float = 10.0) -> list[Segment]:
    return [Segment(id=k, start=k * step, end=k * step + 9, text=t) for k, t in enumerate(texts)]


SAID = [
    "Today we build a tokenizer. The tokenizer turns text into integers.",
    "The tokenizer is the first step of every language model.",
    "We encode the string with UTF-8. The byte sequence is long.",
    "Each byte sequence becomes a list of integers between 0 and 255.",
    "Now we count the adjacent pairs. The adjacent pairs tell us what to merge.",
    "The most frequent pair wins, and the adjacent pairs are counted again.",
]


def test_the_fallback_names_a_chapter_by_its_key_noun_phrase_not_a_keyword_list():
    named = fallback.describe(segments(SAID), [0, 2, 4])
    titles = [t for t, _ in named]
    assert not any(keyword_list(t) or "," in t for t in titles), titles
    assert titles[1].lower() == "byte sequence" and titles[2].lower() == "adjacent pairs"
    assert len({t.lower() for t in titles}) == 3
    assert named[0][1].startswith("Today we build a tokenizer.")


def test_the_fallback_takes_the_screens_heading_for_that_span():
    heads = [(0.0, "Why tokenize"), (18.0, "Bytes, not characters"), (55.0, "Counting pairs")]
    titles = [t for t, _ in fallback.describe(segments(SAID), [0, 2, 4], headings=heads)]
    # each chapter's span is its segments' times: 0–19, 20–39, 40–59; the heading shown longest
    # in it, unless an earlier chapter has it already (then its key noun phrase)
    assert titles == ["Why tokenize", "Bytes, not characters", "Adjacent pairs"]


def test_titles_spell_the_terms_the_transcript_was_respelled_to():
    from v2a.models import Outline, OutlineChapter, Respelling
    from v2a.write.naming import spell_titles

    def r(heard: str, term: str, t: float) -> Respelling:
        return Respelling(heard=heard, term=term, start=t, end=t + 1, how="phonetic", score=90)

    def ch(k: int, title: str, start: float, end: float) -> OutlineChapter:
        return OutlineChapter(index=k, title=title, summary="s", first_segment=k,
                              last_segment=k, start=start, end=end)

    fixes = [r("my parent coding", "byte pair encoding", 80), r("mergers", "merges", 170),
             r("tick token", "tiktoken", 20), r("Python", "PyTorch", 300)]
    outline = spell_titles(Outline(method="llm", title="Tokenizers with Parent Coding", chapters=[
        ch(0, "Parent Coding: Merging Symbols", 0, 100), ch(1, "Ordered List of Mergers", 160, 200),
        ch(2, "Tick Token and the cl100k Encoding", 200, 250), ch(3, "Mergers in Banking", 250, 290),
        ch(4, "Python on the Phone", 290, 310), ch(5, "Counting Pairs", 310, 400)]), fixes)
    assert outline.title == "Tokenizers with Byte Pair Encoding"
    assert [c.title for c in outline.chapters] == [
        "Byte Pair Encoding: Merging Symbols", "Ordered List of merges",
        "tiktoken and the cl100k Encoding",
        # a single everyday word counts only in the chapter where it was respelled
        "Mergers in Banking", "PyTorch on the Phone", "Counting Pairs"]
    # nothing respelled: the titles stay as the model wrote them
    same = Outline(method="llm", chapters=[ch(0, "Parent Coding", 0, 10)])
    assert spell_titles(same, []).chapters[0].title == "Parent Coding"
