"""Paragraph sources and doubts (``v2a.checks``): each kind on small hand-made artifacts, the
ranking, checks.json, the article's sourced paragraphs and ``v2a check``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from v2a.checks import doubts as D
from v2a.checks.build import build, find_doubts, rank
from v2a.checks.models import Checks
from v2a.checks.second import Opinion, whole
from v2a.models import (
    ChapterText,
    CodeBlock,
    Draft,
    Outline,
    OutlineChapter,
    Screen,
    ScreenFrame,
    Segment,
    Source,
    Transcript,
    Word,
)
from v2a.sources import align, chapter_sources, paragraphs
from v2a.workspace import Workspace, write_json

ROOT = Path(__file__).resolve().parent.parent

SENTENCES = [
    "A language model never sees raw characters, it reads integer tokens.",
    "Every token is an integer from a fixed vocabulary.",
    "The tokenizer turns text into those integers and back again.",
    "UTF-8 encodes every code point as one to four bytes.",
    "Bytes give a tiny vocabulary of two hundred fifty six symbols.",
    "But byte sequences are long and attention over long sequences is expensive.",
    "Byte pair encoding merges the most frequent adjacent pair into a new symbol.",
    "Repeating the merge builds a vocabulary of common words and pieces.",
]


def segments(sentences: list[str], step: float = 5.0, probs: dict[str, float] | None = None
             ) -> list[Segment]:
    out = []
    for k, s in enumerate(sentences):
        toks = s.split()
        dt = step / len(toks)
        words = [Word(start=k * step + j * dt, end=k * step + (j + 1) * dt, text=" " + t,
                      probability=(probs or {}).get(t.strip(".,").lower(), 0.95))
                 for j, t in enumerate(toks)]
        out.append(Segment(id=k, start=k * step, end=(k + 1) * step, text=s, words=words))
    return out


def transcript(sentences: list[str] = SENTENCES, **kw) -> Transcript:
    segs = segments(sentences, **kw)
    return Transcript(language="en", origin="asr", backend="faster-whisper", model="tiny.en",
                      duration=segs[-1].end if segs else 0.0, segments=segs)


def outline(tr: Transcript, cuts: list[int] | None = None) -> Outline:
    cuts = cuts or [0]
    chs = []
    for k, first in enumerate(cuts):
        last = (cuts[k + 1] - 1) if k + 1 < len(cuts) else tr.segments[-1].id
        chs.append(OutlineChapter(index=k, title=f"Part {k}", first_segment=first,
                                  last_segment=last, start=tr.segments[first].start,
                                  end=tr.segments[last].end))
    return Outline(method="llm", chapters=chs)


PROSE = """## Part 0

A language model never sees characters: it reads integer tokens from a fixed vocabulary, and
the tokenizer turns text into those integers and back.

```python
ids = list(text.encode("utf-8"))
```

UTF-8 encodes each code point as one to four bytes, so bytes give a tiny vocabulary, but the
sequences are long and attention over them is expensive.

- a list item is not a prose paragraph

Byte pair encoding merges the most frequent adjacent pair into a new symbol; repeating the merge
builds a vocabulary of common words and pieces."""


def draft(md: str = PROSE, **kw) -> Draft:
    return Draft(chapters=[ChapterText(index=0, title="Part 0", start=0.0, end=40.0,
                                       markdown=md, **kw)])


# --- sources ------------------------------------------------------------------------------------


def test_prose_paragraphs_leave_out_headings_code_and_lists():
    paras = paragraphs(PROSE)
    assert len(paras) == 3
    assert paras[0].startswith("A language model") and paras[2].startswith("Byte pair")


def test_each_paragraph_gets_its_own_sentences_in_order():
    tr = transcript()
    src = chapter_sources(PROSE, tr.segments)
    assert [p.segments for p in src] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert [p.start for p in src] == [0.0, 15.0, 30.0]
    assert all(p.support > 0.6 for p in src)
    assert src[0].key.startswith("a language model never sees characters")


def test_a_paragraph_with_no_close_sentence_still_gets_the_best_one_between_its_neighbours():
    al = align(["tokens integers vocabulary", "completely unrelated words here",
                "merge pair symbol vocabulary"], SENTENCES)
    assert all(al.taken), al.taken
    assert max(al.taken[0]) <= min(al.taken[1]) <= max(al.taken[1]) <= min(al.taken[2])


def test_the_write_stage_keeps_sources_in_chapters_json(tmp_path):
    from v2a.sources import attach_sources

    tr = transcript()
    d = attach_sources(draft(), outline(tr), tr)
    write_json(tmp_path / "chapters.json", d)
    back = Draft.model_validate_json((tmp_path / "chapters.json").read_text())
    assert [p.segments for p in back.chapters[0].sources] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    # a chapters.json from before sources were kept still loads
    old = json.loads((tmp_path / "chapters.json").read_text())
    del old["chapters"][0]["sources"]
    assert Draft.model_validate(old).chapters[0].sources == []


def test_article_paragraphs_carry_their_sources_and_play_them(tmp_path):
    from v2a.render.article import build_article
    from v2a.render.html_article import to_html

    tr = transcript()
    media = tmp_path / "talk.mp4"
    media.write_bytes(b"\0")
    src = Source(input=str(media), id="talk", title="Tokens", kind="local",
                 media_path=str(media), duration=40.0)
    article = build_article(src, tr, None, outline(tr), draft(), tmp_path)
    html = to_html(article)
    marked = re.findall(r'<p class="sourced" data-start="([\d.]+)" data-sources="([\d ]+)" '
                        r'title="([^"]*)">', html)
    assert [(float(s), ids) for s, ids, _ in marked] == [(0.0, "0 1 2"), (15.0, "3 4 5"),
                                                         (30.0, "6 7")]
    assert "UTF-8 encodes every code point" in marked[1][2]
    # every prose paragraph of the page is sourced; the list item and the code are not
    prose = re.findall(r'<div class="prose">(.*?)</div>', html, re.S)
    assert sum(len(re.findall(r"<p[ >]", p)) for p in prose) == 3
    js = (ROOT / "v2a/render/templates/article.js").read_text()
    assert 'closest("p[data-start]")' in js


def test_an_edited_paragraph_is_aligned_when_rendered(tmp_path):
    from v2a.render.article import _sources

    tr = transcript()
    links = _sources([], "Byte pair encoding merges the most frequent pair.", tr.segments)
    assert links and links[0].segments[0] == 6


# --- the recogniser was unsure ---------------------------------------------------------------------


def test_a_word_far_below_its_neighbours_is_doubted_and_one_in_a_noisy_stretch_less():
    tr = transcript(probs={"integer": 0.08})
    got = D.unsure(tr, set(), 0.5)
    assert {x.text for x in got} == {"integer"}
    assert got[0].severity == "high" and "0.08" in got[0].evidence
    # the same probability where every word is unsure: the context explains part of it
    flat = transcript(probs={w.strip(".,").lower(): 0.3 for w in " ".join(SENTENCES).split()} |
                      {"integer": 0.08})
    loud = D.word_scores([w for s in tr.segments for w in s.words], set())
    quiet = D.word_scores([w for s in flat.segments for w in s.words], set())
    i = next(k for k, w in enumerate(w for s in tr.segments for w in s.words)
             if w.text.strip() == "integer")
    assert next(s for s in quiet if s.index == i).score < next(s for s in loud if s.index == i).score


def test_letters_mixed_with_digits_and_numbers_weigh_more_and_the_screen_vouches():
    tr = transcript(["The model Dpt2 reads 1124 tokens at a time in the window."],
                    probs={"dpt2": 0.5, "1124": 0.55})
    texts = " ".join(x.text for x in D.unsure(tr, set(), 0.4))
    assert "Dpt2" in texts and "1124" in texts
    # the screen shows it: the recogniser heard it right
    assert "Dpt2" not in " ".join(x.text for x in D.unsure(tr, {"dpt2"}, 0.4))


def test_a_misheard_phrase_is_one_doubt():
    tr = transcript(["We use by parent coding for the vocabulary today."],
                    probs={"by": 0.05, "parent": 0.07, "coding": 0.3})
    got = D.unsure(tr, set(), 0.4)
    assert [x.text for x in got] == ["parent coding"]  # "by" alone is no content word


def test_a_second_model_that_hears_otherwise_raises_the_doubt_and_one_that_agrees_lowers_it():
    tr = transcript(["The merges depends on the frequent pairs in the text."],
                    probs={"depends": 0.35, "frequent": 0.35})
    ws = [w for s in tr.segments for w in s.words]
    dep = next(w for w in ws if w.text.strip() == "depends")
    op = Opinion("base", [w.model_copy(update={"text": " appends"}) if w is dep else w
                          for w in ws])
    got = {x.text: x for x in D.unsure(tr, set(), 0.5, opinion=op)}
    assert "depends" in got and got["depends"].suggestion == "appends"
    assert "base heard" in got["depends"].evidence
    assert "frequent" not in got
    assert whole(tr) == [(0.0, 5.0)]


def test_a_word_the_second_listen_did_not_hear_is_judged_without_it():
    tr = transcript(["The merges depends on the frequent pairs in the text.",
                     "Then the tokenizer appends the new token to the vocabulary."],
                    probs={"depends": 0.7, "appends": 0.7})
    ws = [w for s in tr.segments for w in s.words]
    # heard only the first sentence, where it heard every word otherwise
    op = Opinion("base", [w.model_copy(update={"text": " appends"}) if w.text == " depends"
                          else w for w in ws if w.end <= 5.0], spans=[(0.0, 5.0)])
    got = {x.text: x for x in D.unsure(tr, set(), 0.5, opinion=op)}
    assert got["depends"].suggestion == "appends"  # heard otherwise: a doubt with its reading
    assert "appends" not in got  # not heard: its probability alone (0.7) is no doubt
    late = next(w for w in ws if w.text.strip() == "appends")
    assert not op.covers(late) and op.covers(ws[0])
    assert not Opinion("base", [], spans=[(4.0, 9.0)]).covers(  # cut at the clip's edge
        Word(start=4.05, end=4.3, text=" x"))


def test_the_budget_hears_whole_windows_that_hold_the_most_doubt_first():
    from v2a.checks import spans as SP

    # 20 sentences of 5 s: windows of whole sentences, 29 s at most with their padding
    tr = transcript([f"Sentence number {k} says something." for k in range(20)])
    wins = SP.windows(tr)
    assert wins[0] == (0.0, 25.0) and all(b - a <= SP.WINDOW_S - 2 * SP.PAD_S for a, b in wins)
    assert [a for a, _ in wins] == [0.0, 25.0, 50.0, 75.0]
    cands = [(2.7, 60.0, 60.4), (0.3, 61.0, 61.2), (0.9, 10.0, 10.4), (0.8, 11.0, 11.3),
             (0.2, 80.0, 80.2)]
    # the window with a doubt (60 s) first, then the one at 0 s; 75 s no longer fits
    assert SP.within(cands, wins, budget_s=60.0, end=100.0) == [(0.0, 25.5), (49.5, 75.5)]
    # a budget shorter than any window: the middle of the best one, around its doubt
    assert SP.within(cands, wins, budget_s=10.0, end=100.0) == [(55.2, 65.2)]
    assert SP.within(cands, wins, budget_s=4.0, end=100.0) == []  # too short to hear
    assert SP.budget(tr, 12.0) == pytest.approx(20.0)  # 100 s of speech


def test_auto_hears_a_short_talk_whole_and_a_long_one_in_spans_adding_up_to_20_minutes():
    from v2a.checks.build import AUTO_S, auto_listen

    def talk(seconds: float) -> Transcript:
        return Transcript(language="en", origin="asr", backend="faster-whisper", model="tiny.en",
                          duration=seconds,
                          segments=[Segment(id=0, start=0.0, end=seconds, text="x")])

    assert auto_listen(talk(7.4 * 60)) == ("whole", 0.0)
    assert auto_listen(talk(AUTO_S)) == ("whole", 0.0)
    assert auto_listen(talk(60 * 60)) == ("spans", 20.0)  # 20 of 60 minutes
    assert auto_listen(talk(180 * 60), budget=12.0) == ("spans", 12.0)  # never under the budget


def test_a_long_listen_is_decoded_in_pieces_cut_where_it_is_quiet(tmp_path):
    """Whisper's features of an hour took 3.9 GB: a whole listen goes a few minutes at a time,
    each piece ending in a pause, and the clips of a batch are laid end to end."""
    import wave

    import numpy as np

    from v2a.checks import second as S
    from v2a.transcribe.faster import _Audio

    rate, seconds = 16000, 700
    rng = np.random.default_rng(0)
    x = (rng.normal(0, 3000, rate * seconds)).astype(np.int16)
    for quiet in (306.0, 600.0):  # a pause near each 300-s mark (the second from the first)
        x[int(quiet * rate):int((quiet + 0.5) * rate)] = 0
    wav = tmp_path / "audio.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.tobytes())
    sound = _Audio(wav)
    try:
        pieces = S._split((0.0, float(seconds)), sound)
    finally:
        sound.close()
    assert [round(a) for a, _ in pieces] == [0, 306, 600] and pieces[-1][1] == seconds
    assert all(b - a <= S.BATCH_S + 20 for a, b in pieces)
    assert S._split((10.0, 250.0), None) == [(10.0, 250.0)]  # short: as it is
    # clips go in batches of at most BATCH_S, in time order
    cuts = [(200.0, 230.0), (0.0, 30.0)] + [(400.0 + 40 * k, 430.0 + 40 * k) for k in range(10)]
    batches = S._batches(cuts)
    assert batches[0][:2] == [(0.0, 30.0), (200.0, 230.0)]
    assert all(sum(b - a for a, b in g) <= S.BATCH_S for g in batches) and len(batches) == 2


def test_the_spans_start_where_the_doubts_point(tmp_path):
    from v2a.checks import spans as SP

    tr = transcript(probs={"integer": 0.05})
    first, paras = find_doubts(tr, None, outline(tr), draft())
    cands = SP.candidates(tr, None, first, paras)
    top = max(cands)
    at = [(round(w.start, 2), round(w.end, 2)) for s in tr.segments for w in s.words
          if w.text.strip(" ,.") == "integer"]
    assert (top[1], top[2]) in at and top[0] > 2.0
    # every content word is a candidate after the doubts, by its suspicion
    doubted = [c for c in cands if c[0] > 2.0]
    assert len(doubted) == 2 and len(cands) > 40 and all(c[0] <= 1.0 for c in cands
                                                          if c not in doubted)


def test_what_was_heard_is_kept_clip_by_clip_and_never_heard_twice(tmp_path, monkeypatch):
    from v2a.checks import second as S

    heard: list[list[tuple[float, float]]] = []

    def decode(audio, cuts, *a):
        heard.append(list(cuts))
        return [Word(start=a + 0.5, end=a + 0.9, text=f" w{int(a)}", probability=0.9)
                for a, _ in cuts]

    monkeypatch.setattr(S, "_decode", decode)
    audio = tmp_path / "audio.wav"
    audio.write_bytes(b"0" * 1000)
    cache = tmp_path / ".v2a/second_opinion.json"
    first = S.hear(audio, [(0.0, 4.0), (10.0, 14.0)], "base", "en", cache=cache)
    assert first is not None and not first.cached and first.new_s == 8.0
    assert [w.text for w in first.words] == [" w0", " w10"]
    again = S.hear(audio, [(10.0, 14.0), (20.0, 23.0)], "base", "en", cache=cache)
    assert heard == [[(0.0, 4.0), (10.0, 14.0)], [(20.0, 23.0)]]  # only the new clip
    assert again is not None and [w.text for w in again.words] == [" w10", " w20"]
    assert again.spans == [(10.0, 14.0), (20.0, 23.0)] and again.new_s == 3.0
    # a reader (the review page) gets all that was heard, and nothing is heard for it
    known = S.hear(audio, [], "base", "en", cache=cache, cached_only=True)
    assert known is not None and known.cached and len(known.spans) == 3 and len(heard) == 2
    assert known.covers(Word(start=11.0, end=11.5, text=" x"))
    # the whole speech after that: only what was not heard yet (a sliver under 1 s is left)
    S.hear(audio, [(0.0, 30.0)], "base", "en", cache=cache)
    assert heard[-1] == [(4.0, 10.0), (14.0, 20.0), (23.0, 30.0)]
    assert S._gaps((0.0, 10.5), [(0.0, 4.0), (4.5, 10.0)]) == []
    # another audio: heard again
    audio.write_bytes(b"0" * 999)
    assert S.hear(audio, [], "base", "en", cache=cache, cached_only=True) is None


def test_agreement_is_by_word_not_by_letters_alike():
    from v2a.checks.second import agrees

    w = Word(start=1.0, end=1.5, text=" sequence")
    assert not agrees(Opinion("base", [Word(start=1.0, end=1.5, text=" sequences")]), w)[0]
    utf = Word(start=1.0, end=1.5, text=" UTF8,")
    assert agrees(Opinion("base", [Word(start=1.0, end=1.3, text=" UTF"),
                                   Word(start=1.3, end=1.5, text="-8")]), utf)[0]
    assert agrees(Opinion("base", [Word(start=1.2, end=1.7, text=" Utf8")]), utf)[0]


# --- conflicts with the screen --------------------------------------------------------------------


def screen(lines: list[str], terms: list[str] | None = None, code: list[CodeBlock] | None = None,
           frames: list[ScreenFrame] | None = None) -> Screen:
    frames = frames or [ScreenFrame(scene=0, time=0.0, keyframe="k.jpg", text="\n".join(lines))]
    return Screen(engine="test", frames=frames, terms=terms or [], code=code or [])


def test_a_word_spelled_almost_as_on_screen_conflicts_but_a_plain_word_form_does_not():
    tr = transcript(["Then we apply the mergers in order.", "Each merge adds one token."],
                    probs={"mergers": 0.7})
    got = D.screen_conflicts(tr, screen(["merges = {}", "for pair in merges:"]))
    assert [(x.text, x.suggestion) for x in got] == [("mergers", "merges")]
    assert got[0].kind == "screen" and "merges" in got[0].evidence


def test_a_term_heard_as_letters_conflicts_with_the_screen():
    tr = transcript(["The Dpt2 tokenizer uses bytes as its base alphabet."])
    sc = screen(["GPT-2 tokenizer: byte-level BPE"], terms=["GPT-2", "BPE"])
    got = D.screen_conflicts(tr, sc)
    assert any(x.suggestion == "GPT-2" and "Dpt2" in x.text for x in got), got


# --- the prose against its sources -----------------------------------------------------------------


def _paras(md: str, tr: Transcript) -> list[D.Para]:
    return D.prose_paragraphs(draft(md), outline(tr), tr)


def test_numbers_names_and_identifiers_the_speaker_never_said_are_doubted():
    tr = transcript(["The vocabulary has one thousand twenty four entries in this toy model.",
                     "We count pairs with a dictionary and merge the best one."])
    md = ("The vocabulary has 1024 entries, and the counts live in `pair_counts`; the full "
          "GPT-4 tokenizer has 100000 entries.")
    got = {x.text: x for x in D.unsaid(_paras(md, tr), outline(tr), tr)}
    assert "1024" not in got  # said, as words
    assert {"100000", "pair_counts", "GPT-4"} <= set(got)
    assert got["100000"].severity == "high" and got["100000"].where == "prose"
    # shown on screen: the writer may have copied it from there (a weaker doubt)
    shown = {x.text: x for x in D.unsaid(_paras(md, tr), outline(tr), tr,
                                          screen(["counts = pair_counts(ids)"]))}
    assert shown["pair_counts"].score < got["pair_counts"].score


def test_a_claim_the_speaker_did_not_make_is_unsupported():
    tr = transcript()
    md = ("A language model reads integer tokens from a fixed vocabulary, and the tokenizer "
          "turns text into integers. Quantum chromodynamics explains why gluons bind quarks "
          "inside protons and neutrons.")
    got = D.unsupported(_paras(md, tr), tr)
    assert [x.text.split()[0] for x in got] == ["Quantum"]
    assert got[0].kind == "unsupported"


def test_speech_no_paragraph_covers_is_doubted():
    long = SENTENCES + [f"Now a long aside about compilers and linkers number {k} of many."
                        for k in range(12)]
    tr = transcript(long)
    d = draft()
    got = D.uncovered(D.prose_paragraphs(d, outline(tr), tr), outline(tr), tr, d)
    assert len(got) == 1 and got[0].start == 40.0 and got[0].end == 100.0
    assert "60 s of speech" in got[0].evidence


# --- code and chapters ----------------------------------------------------------------------------


def test_code_whose_frames_disagree_is_doubted():
    code = ["ids = list(text.encode('utf-8'))", "stats = get_stats(ids)"]
    frames = [ScreenFrame(scene=k, time=10.0 * k, keyframe=f"{k}.jpg", code=c) for k, c in
              enumerate([code, ["ids = list(text.encode('utf-8'))", "stats = get_stat5(ids)"],
                         ["ids = list(text.encode('utf-8'))", "stats = get_stat5(ids)"]])]
    block = CodeBlock(lines=code, start=0.0, end=30.0, scenes=[0, 1, 2], frames=3,
                      repairs=["'utf-8) → 'utf-8')"])
    got = D.code_disagreements(screen([], code=[block], frames=frames))
    lines = {x.text: x for x in got}
    assert lines["stats = get_stats(ids)"].suggestion == "stats = get_stat5(ids)"
    assert "1 of 3 frames" in lines["stats = get_stats(ids)"].evidence
    assert any("repaired" in x.evidence for x in got)


def test_chapters_kept_after_retries_or_not_written_are_doubted():
    d = Draft(chapters=[
        ChapterText(index=0, title="A", start=0, end=10, markdown="x",
                    notes=["try 1: the reply repeated itself"]),
        ChapterText(index=1, title="B", start=10, end=20, status="failed", error="timeout"),
        ChapterText(index=2, title="C", start=20, end=30, markdown="y")])
    got = D.retried(d, Outline(method="llm", chapters=[]))
    assert [(x.text, x.severity) for x in got] == [("A", "medium"), ("B", "high")]


def test_a_title_built_on_a_doubted_word_is_doubted_where_the_word_is_heard():
    sents = ["The wind statement wraps a block with a context manager.",
             "A wind statement calls enter first, and exit when the block ends.",
             "A context manager is any object with enter and exit methods."]
    tr = transcript(sents, probs={"wind": 0.05})
    ol = outline(tr)
    ol.chapters[0].title = "The Wind Statement and the Context Manager"
    found = D.unsure(tr, set(), 0.5)
    for x in found:
        x.suggestion = "with"  # what a second model heard
    got = D.titles(ol, tr, found)
    assert [(x.kind, x.where, x.chapter) for x in got] == [("title", "chapter", 0)]
    first_wind = next(w for s in tr.segments for w in s.words if w.text.strip() == "wind")
    assert got[0].start == first_wind.start  # walking to it plays the word
    assert got[0].suggestion == "The With Statement and the Context Manager"
    assert got[0].severity == "medium"  # half of these are the talk's own words: a look, not a block
    # the same title over a talk that heard "wind" well at most of its places: no doubt
    tr_ok = transcript(sents + ["The wind blows, the wind turns, the wind stops."],
                       probs={"wind": 0.05})
    for w in (w for s in tr_ok.segments[3:] for w in s.words):
        w.probability = 0.97
    ol_ok = outline(tr_ok)
    ol_ok.chapters[0].title = ol.chapters[0].title
    assert D.titles(ol_ok, tr_ok, D.unsure(tr_ok, set(), 0.5)) == []
    # a doubted word the title does not use, or a stopword: nothing to say about the title
    ol.chapters[0].title = "Context Managers"
    assert D.titles(ol, tr, found) == []


# --- ranking and the artifact -----------------------------------------------------------------------


def test_doubts_are_ranked_and_a_word_both_unsure_and_off_screen_counts_once():
    tr = transcript(["Then we apply the mergers in order to the text."],
                    probs={"mergers": 0.2, "order": 0.2})
    found, _ = find_doubts(tr, screen(["for pair in merges:"]))
    assert [x.score for x in found] == sorted((x.score for x in found), reverse=True)
    mergers = [x for x in found if "mergers" in x.text]
    assert len(mergers) == 1 and mergers[0].kind == "screen"
    assert found[0] is mergers[0]


def test_rank_keeps_one_doubt_per_id():
    a = D.doubt("unsure", 1.0, 2.0, "x", "e", 0.5)
    b = D.doubt("unsure", 1.0, 2.0, "x", "e", 0.7)
    assert [x.score for x in rank([a, b])] == [0.7]


def workdir(root: Path, md: str = PROSE, resolved: dict | None = None) -> Path:
    tr = transcript(probs={"integer": 0.05})
    ws = Workspace(root).ensure()
    write_json(ws.path("transcript.json"), tr)
    write_json(ws.path("outline.json"), outline(tr))
    write_json(ws.path("chapters.json"), draft(md))
    if resolved is not None:
        ws.path("review.json").write_text(json.dumps({"doubts": resolved}))
    return root


def test_checks_json_has_doubts_and_coverage(tmp_path):
    checks = build(Workspace(workdir(tmp_path)))
    assert checks.doubts and checks.doubts[0].text == "integer"
    assert checks.coverage.share == 1.0 and checks.coverage.paragraphs == 3
    assert {s.state for s in checks.coverage.spans} == {"covered", "doubtful"}
    assert checks.unresolved("high")
    Checks.model_validate_json(checks.model_dump_json())


def test_the_checks_stage_writes_checks_json_and_a_re_run_reuses_it(tmp_path):
    """A stage of the pipeline: cached while nothing it reads changed, run again when the
    transcript is fixed by hand (no stage recorded that yet), and the editor's decisions are
    laid over it by `v2a check`, never written into it."""
    from v2a.checks.command import run_checks
    from v2a.config import Config
    from v2a.pipeline import run_stage
    from v2a.stage import StageContext
    from v2a.stages import STAGES

    assert STAGES.names()[-1] == "checks" and "write" in STAGES["checks"].deps
    wd = workdir(tmp_path / "video")
    ws = Workspace(wd)

    def ctx(**cfg) -> StageContext:
        return StageContext(ws=ws, config=Config(**cfg), src="")

    assert run_stage(ctx(), "checks").status == "ran"
    first = Checks.model_validate_json(ws.checks_json.read_text())
    assert first.doubts[0].text == "integer" and first.doubts[0].resolved is None
    # no audio here: said, not failed
    assert first.notes and "no second listen" in first.notes[0]
    assert run_stage(ctx(), "checks").status == "cached"
    assert run_stage(ctx(doubt_threshold=0.9), "checks").status == "ran"  # its option
    assert run_stage(ctx(doubt_threshold=0.9, llm_model="other"), "checks").status == "cached"
    tr = Transcript.model_validate_json(ws.path("transcript.json").read_text())
    tr.segments[0].words[1].probability = 0.01
    write_json(ws.path("transcript.json"), tr)
    assert run_stage(ctx(doubt_threshold=0.9), "checks").status == "ran"
    # a reader gets the current file, with the editor's decisions over it
    ws.path("review.json").write_text(json.dumps({"doubts": {first.doubts[0].id: "correct"}}))
    shown = {x.id: x.resolved for x in run_checks(wd).doubts}
    assert shown[first.doubts[0].id] == "correct"
    assert {x.resolved for x in Checks.model_validate_json(ws.checks_json.read_text()).doubts
            } == {None}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", *args],
                          capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_v2a_check_exits_1_on_unresolved_high_doubts_and_0_once_resolved(tmp_path):
    wd = workdir(tmp_path / "video")
    out = _cli(str(wd), "--json")
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["doubts"][0]["text"] == "integer" and (wd / "checks.json").exists()
    ids = {x["id"]: "correct" for x in data["doubts"] if x["severity"] == "high"}
    shutil.rmtree(wd)
    workdir(wd, resolved=ids)
    out = _cli(str(wd))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "integer" in out.stdout and "correct" in out.stdout


def test_v2a_check_on_a_batch_folder_prints_one_line_per_video(tmp_path):
    workdir(tmp_path / "a")
    workdir(tmp_path / "b", md=PROSE.replace("tokens", "tokens (there are 100000 of them)"))
    out = _cli(str(tmp_path))
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    assert out.returncode == 1
    assert len(lines) == 2 and lines[0].startswith("✗ a:") and lines[1].startswith("✗ b:")


@pytest.mark.skipif(not (ROOT / "examples/notebook-talk/chapters.json").exists(),
                    reason="the example run is not in this checkout")
def test_a_real_runs_artifacts(tmp_path):
    """The example run (a generated talk, Whisper tiny.en, the embedded model): every
    paragraph has sources, and a word spelled almost as on screen ("humbers" where the screen
    shows numbers) is doubted with the screen's spelling."""
    wd = tmp_path / "talk"
    shutil.copytree(ROOT / "examples/notebook-talk", wd,
                    ignore=shutil.ignore_patterns("*.mp4", "*.wav", "keyframes"))
    checks = build(Workspace(wd))
    assert checks.coverage.paragraphs and \
        checks.coverage.paragraphs_with_sources == checks.coverage.paragraphs
    shown = D.screen_words(Screen.model_validate_json((wd / "screen.json").read_text()))
    assert any(x.kind == "screen" and (x.suggestion or "").lower() in shown
               for x in checks.doubts)
    assert checks.timings["total"] < 30
    # with the second model's reading a run of bench_doubts left (real Whisper base)
    heard = ROOT / "bench/.cache/second-notebook-talk-whole-b1.json"
    if heard.exists() and (ROOT / "examples/notebook-talk/audio.wav").exists():
        shutil.copy(ROOT / "examples/notebook-talk/audio.wav", wd / "audio.wav")
        (wd / ".v2a").mkdir(exist_ok=True)
        shutil.copy(heard, wd / ".v2a/second_opinion.json")
        listened = build(Workspace(wd), listen=None)
        assert "listen" in listened.timings
        assert any("base heard" in x.evidence and x.suggestion for x in listened.doubts)


def test_check_resolve_keeps_the_decision_in_review_json(tmp_path):
    from v2a.edits.store import load

    wd = workdir(tmp_path / "video")
    first = json.loads(_cli(str(wd), "--json").stdout)
    ids = [x["id"] for x in first["doubts"] if x["severity"] == "high"]
    out = _cli(str(wd), "--json", *[a for i in ids for a in ("--resolve", f"{i}=fixed")])
    assert out.returncode == 0, out.stderr
    assert load(Workspace(wd)).doubts == dict.fromkeys(ids, "fixed")
    assert {x["resolved"] for x in json.loads(out.stdout)["doubts"] if x["id"] in ids} == {"fixed"}
    bad = _cli(str(wd), "--resolve", "x=maybe")
    assert bad.returncode == 2 and "ID=fixed" in bad.stderr


def test_publish_reports_unresolved_high_doubts_and_strict_refuses(tmp_path):
    from tests.fixtures.render import synthetic_workdir

    ws = synthetic_workdir(tmp_path / "w")  # its chapter 2 was not written: a high doubt
    cli = [sys.executable, str(ROOT / "cli.py"), "publish", str(ws.root), "--force",
           "--format", "markdown"]
    res = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "high-severity doubt(s) unresolved" in res.stderr
    res = subprocess.run(cli + ["--strict"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "high-severity doubt(s) unresolved" in res.stderr and "v2a check" in res.stderr


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_clicking_a_paragraph_plays_its_source_in_chromium(chromium, lecture, http_root):
    """Real Chromium over the generated lecture: a prose paragraph seeks the video to its first
    source sentence; a link inside a paragraph keeps its own job; the tooltip is the source."""
    from tests.fixtures.browser import CHROMIUM
    from tests.fixtures.render import context, lecture_workdir
    from v2a.render.stage import run

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")
    root, base = http_root
    ws = lecture_workdir(root, lecture)
    run(context(ws))
    page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/article.html")
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=15000)
    paras = page.locator(".prose p.sourced")
    assert paras.count() >= len(lecture.chapters)
    last = paras.nth(paras.count() - 1)
    t = float(last.get_attribute("data-start"))
    assert t > 5 and last.get_attribute("data-sources")
    assert last.get_attribute("title").startswith("▶ ")
    last.click()
    page.wait_for_function(
        "t => { const v = document.querySelector('video');"
        " return !v.seeking && Math.abs(v.currentTime - t) < 0.5; }", arg=t, timeout=15000)
    assert page.url.endswith("/article.html") and not errors


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_review_app_walks_the_doubts_in_chromium(chromium, lecture, tmp_path):
    """The review page: the coverage strip, "n" plays the next doubt's moment and shows why,
    and "Correct as is" is kept in review.json."""
    from tests.fixtures.browser import CHROMIUM
    from tests.fixtures.render import lecture_workdir
    from tests.fixtures.review import served

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")
    ws = lecture_workdir(tmp_path / "ws", lecture)
    d = Draft.model_validate_json(ws.path("chapters.json").read_text())
    d.chapters[1].markdown += "\n\nThe vocabulary in this lecture has 987654 entries."
    write_json(ws.path("chapters.json"), d)
    # a word the recogniser was unsure of, in a line of chapter 3
    tr = Transcript.model_validate_json(ws.path("transcript.json").read_text())
    seg = next(x for x in tr.segments if x.start >= d.chapters[2].start)
    toks = seg.text.split()
    dt = (seg.end - seg.start) / len(toks)
    seg.words = [Word(start=seg.start + k * dt, end=seg.start + (k + 1) * dt, text=" " + w,
                      probability=0.02 if k == 2 else 0.97) for k, w in enumerate(toks)]
    write_json(ws.path("transcript.json"), tr)
    with served(ws.root) as (s, _hub):
        page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(s.url)
        page.wait_for_selector("html[data-ready='1']")
        page.wait_for_selector("#doubts[data-ready='1']", timeout=60000)
        assert page.locator("#doubts .coverage .cov").count() >= 1
        # the doubtful paragraph is marked in the prose before the walk starts
        marked = page.locator("section.sec .prose p.has-doubt")
        assert marked.count() == 1 and "987654" in marked.inner_text()
        page.keyboard.press("n")
        panel = page.locator("#doubts .dpanel")
        panel.wait_for()
        # the likeliest first: the word heard with probability 0.02; "Fix the line…" opens
        # that line's editor (the existing fix, then offered everywhere and in the glossary)
        assert "unsure" in panel.inner_text() and toks[2].strip(".,") in panel.inner_text()
        page.wait_for_function(
            "t => { const v = document.getElementById('player');"
            " return v.readyState >= 1 && Math.abs(v.currentTime - t) < 1.0; }",
            arg=seg.words[2].start, timeout=15000)
        assert page.locator(f"li.doubt-at[data-seg='{seg.id}']").count() == 1
        page.locator("#doubts button.dfix").click()
        page.locator(f"li[data-seg='{seg.id}'] input.fix-in").wait_for()
        page.locator("#doubts button.dres[value=fixed]").click()
        # then the number the speaker never said: its section is marked, the video plays it
        page.wait_for_function(
            "() => document.querySelector('#doubts .dpanel').innerText.includes('987654')")
        assert "unsaid" in panel.inner_text()
        t = d.chapters[1].start
        page.wait_for_function(
            "t => { const v = document.getElementById('player');"
            " return v.readyState >= 1 && v.currentTime >= t - 0.5; }", arg=t, timeout=15000)
        assert page.locator("section.sec.doubt-at").count() == 1
        # a paragraph of the review page plays its source sentence too
        para = page.locator("section.sec .prose p[data-start]").first
        ts = float(para.get_attribute("data-start"))
        page.evaluate("document.getElementById('player').pause()")
        para.click()
        page.wait_for_function(
            "t => Math.abs(document.getElementById('player').currentTime - t) < 0.5", arg=ts,
            timeout=15000)
        page.locator("#doubts button.dres[value=correct]").click()
        # a chapter title built on the doubted word is doubted too (medium: after the others)
        titled = toks[2].strip(".,").lower() in d.chapters[2].title.lower()
        if titled:
            page.wait_for_function(
                "() => document.querySelector('#doubts .dpanel').innerText.includes('title')")
            assert d.chapters[2].title in panel.inner_text()
            page.locator("#doubts button.dres[value=ignore]").click()
        page.wait_for_function(
            "() => document.querySelector('#doubts .dhead').innerText.startsWith('0 doubts')")
        review = json.loads(ws.path("review.json").read_text())
        assert sorted(review["doubts"].values()) == ["correct", "fixed"] + ["ignore"] * titled
        assert not errors
    # a re-run of the checks keeps the decision (the doubt's id is stable)
    assert not build(Workspace(ws.root)).unresolved("high")


def test_a_run_loads_whisper_base_once_for_the_recheck_and_the_second_listen(tmp_path):
    """The transcribe stage's recheck and the checks' second listen decode with one copy of
    base per process (real weights, over 16 s of silence)."""
    import wave

    from tests.test_recheck import HOLE, SEEN
    from v2a.checks import second as S
    from v2a.config import Config
    from v2a.transcribe import recheck as R
    from v2a.transcribe import shared_model as M

    wav = tmp_path / "audio.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000 * 16)
    M.release()
    before = M.loads
    tr = Transcript(language="en", origin="asr", backend="faster-whisper", model="tiny.en",
                    duration=16.0, segments=[Segment(id=0, start=10.0, end=15.2,
                                                     text="you have met one. Almost every weird",
                                                     words=HOLE)])
    R.run(tr, wav, SEEN, Config(asr_threads=2))
    assert tr.timings["recheck_stretches"] == 1 and M.loads == before + 1
    op = S.hear(wav, [(9.0, 16.0)], "base", "en", threads=2)
    assert op is not None and op.new_s == 7.0 and M.loads == before + 1
