"""Scaffolding never reaches the article: the detector against a labelled corpus of real
small-model replies (tests/fixtures/scaffolding_corpus.json), and against phrasings it has not
seen, while the speaker's own sentences about text, rewriting and Markdown survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v2a.write import scaffolding

CORPUS = json.loads((Path(__file__).parent / "fixtures" / "scaffolding_corpus.json")
                    .read_text(encoding="utf-8"))["sentences"]
SCAFFOLDING = [r["text"] for r in CORPUS if r["label"] == "scaffolding"]
PROSE = [r["text"] for r in CORPUS if r["label"] == "prose"]


def test_the_corpus_is_real_and_labelled_both_ways():
    assert len(SCAFFOLDING) >= 10 and len(PROSE) >= 80
    assert all(r["source"] for r in CORPUS)


def test_every_scaffolding_sentence_of_real_replies_is_found():
    missed = [s for s in SCAFFOLDING if not scaffolding.is_scaffolding(s)]
    assert missed == []


def test_every_prose_sentence_of_real_replies_survives():
    flagged = [s for s in PROSE if scaffolding.is_scaffolding(s)]
    assert flagged == []


# phrasings not in the corpus: the families, not the phrases (the text as the subject of a
# verb of rewriting; the article's form; first-person reports of what was done to the
# transcript; the instructions said back)
@pytest.mark.parametrize("sentence", [
    "This section has been rewritten in the first person, as the speaker would write it.",
    "The paragraphs above are written in plain prose.",
    "I have kept every technical term exactly as it was said.",
    "The chapter contains no summary or conclusion of my own.",
    "Note that I did not add any introduction.",
    "As requested, the text is free of filler words.",
    "Following your instructions, I have kept the code names in code spans.",
    "I've removed the false starts and repetitions from the transcript.",
    "The output is formatted as plain paragraphs without headings.",
    "This version stays faithful to the speaker's words.",
    "I have rewritten the chapter to read more clearly.",
    "Everything is in Markdown format, as you asked.",
    "I could also offer a shorter version if needed.",
    "Would you like me to add the code as well?",
    "I can give you the complete rewrite, if you'd like.",
])
def test_unseen_scaffolding_is_found(sentence):
    assert scaffolding.is_scaffolding(sentence)


@pytest.mark.parametrize("sentence", [
    "Now I'll rewrite the loop with zip.",
    "I removed the print statement because it slowed the loop.",
    "The text is encoded as UTF-8 before we count pairs.",
    "The text is converted to bytes, and the bytes to integers.",
    "I converted the text into integers.",
    "A Markdown file is just text with a few symbols for headings.",
    "I kept the merge rules in a dictionary, so their order is preserved.",
    "The transcript of a podcast is good training text.",
    "In the summary statistics, no conclusion can be drawn.",
    "The chapter of the book is written for beginners.",
    "The output is formatted as JSON.",
    "We write the text to a file and read it back.",
    "The introduction of the paper has no summary.",
    "I kept the original list and made a copy.",
    "Keep every merge in the order it was learned.",
    "The result is converted as required by the standard.",
    "The grammar was relaxed, as specified in PEP 614.",
    "I could make a version of the tokenizer that handles bytes.",
    "If you would like to follow along, open the notebook.",
])
def test_the_speakers_own_sentences_survive(sentence):
    assert not scaffolding.is_scaffolding(sentence)


def test_a_reply_with_the_issues_sentence_is_cleaned_and_flagged():
    reply = ("We count every adjacent pair and merge the most frequent one.\n\n"
             "The text is now written in plain Markdown paragraphs, with no introduction, "
             "summary, or conclusion of the chapter.")
    text, removed = scaffolding.strip(reply)
    assert text == "We count every adjacent pair and merge the most frequent one."
    assert removed and removed[0].startswith("The text is now written")
    inside = ("We count pairs. I have removed the filler words from the transcript. "
              "Then we merge.")
    assert scaffolding.leftover(inside) == ["I have removed the filler words from the transcript."]
    assert scaffolding.trim(inside) == "We count pairs. Then we merge."


def test_the_prompts_chapter_label_echoed_as_a_line_goes():
    # both lines from real replies (the embedded model, warm, with an editor's request)
    reply = ("Here's the rewritten version:\n\n---\n\n**Byte Pair Encoding (BPE) (1:53 to 3:15)**"
             "\n\nMerging means replacing every pair.\n\n---\n\n"
             "I hope this meets the editor's request while still adhering to the guidelines")
    assert scaffolding.strip(reply)[0] == "Merging means replacing every pair."
    label = '**Chapter 3: "UTF-8 Encoding"**\n\nWe begin.'
    assert scaffolding.strip(label)[0] == "We begin."
    # a line of the speaker's that mentions times stays
    said = "We met at 1:53 and left at 3:15, so the run took over an hour."
    assert scaffolding.strip(said)[0] == said
