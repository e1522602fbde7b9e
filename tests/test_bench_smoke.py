"""Smoke test of the benchmark code (the benchmarks themselves are not part of the test run)."""

from __future__ import annotations

from bench.metrics import article_sections, boundary_prf, grounding, images_in_range, normalize, wer
from bench.peers.yt2doc_offline import SimpleSplitter
from bench.procmon import TreeMonitor


def test_boundary_prf_matches_one_to_one():
    r = boundary_prf([0, 30, 31, 95], [0, 29, 60, 100], tol=10)
    assert (r["predicted"], r["truth"]) == (3, 3)
    assert r["precision"] == r["recall"] == round(2 / 3, 3)  # 31 can't reuse 29's match
    assert boundary_prf([], [], tol=1)["f1"] == 1.0  # nothing to find, nothing found
    assert boundary_prf([50], [], tol=1)["precision"] == 0.0


def test_wer_normalizes_case_and_punctuation():
    assert wer("Hello, World!", "hello world") == 0.0
    assert wer("hello there", "hello world") == 0.5
    assert normalize("UTF-8 bytes.") == "utf 8 bytes"


def test_article_sections_and_images_in_range():
    md = "\n".join([
        "# T", "## Contents", "1. [A](#a) · [0:00](v.mp4#t=0)",
        "## [1. A](v.mp4#t=0)", "[![slide](keyframes/a.jpg)](v.mp4#t=5)",
        "## [2. B](v.mp4#t=20)", "[![slide](keyframes/b.jpg)](v.mp4#t=19)",
    ])
    secs = article_sections(md)
    assert [s["t"] for s in secs] == [0.0, 20.0]
    r = images_in_range(secs, duration=40)
    assert (r["images"], r["in_range"]) == (2, 1)


def test_grounding_counts_numbers_and_names():
    g = grounding("We use UTF-8 with 256 values. Then Karpathy said 42.",
                  "utf-8 gives 256 byte values, as karpathy explains")
    assert g["claims"] >= 3
    assert "42" in g["ungrounded"] and g["share"] < 1


def test_yt2doc_splitter_keeps_every_character():
    text = "First one. Second one!  Third? Fourth"
    paras = SimpleSplitter().split(text, do_paragraph_segmentation=True)
    assert "".join(s for p in paras for s in p) == text


def test_tree_monitor_sees_own_process():
    import os
    import time

    with TreeMonitor(os.getpid(), interval=0.05) as mon:
        time.sleep(0.2)
    assert mon.summary()["v2a_peak_rss_mb"] > 10


def test_long_talk_never_repeats_itself_and_hides_its_joins():
    from collections import Counter

    from bench.long_talk import WORDS_PER_MINUTE, talk_data

    data = talk_data(60)
    sentences = [s for sec in data["sections"] for s in sec["sentences"]]
    # the deck it replaces said each sentence of a chapter six times and more; the reference
    # itself repeats a stock phrase or two ("The numeric arguments are first converted…")
    assert sum(n - 1 for n in Counter(sentences).values()) < 0.02 * len(sentences)
    words = sum(len(s.split()) for s in sentences)
    assert abs(words - 60 * WORDS_PER_MINUTE) < 0.05 * 60 * WORDS_PER_MINUTE
    lengths = [sum(len(s.split()) for s in sec["sentences"]) for sec in data["sections"]]
    assert len(lengths) >= 20 and min(lengths) >= 60 and max(lengths) > 2 * min(lengths)
    shown = {ln.strip() for sec in data["sections"] for sc in sec["screens"]
             for ln in sc.get("lines", []) + sc.get("code", [])}
    # no screen has a section's heading: a chapter must be found in what is said
    assert not [sec["title"] for sec in data["sections"] if sec["title"] in shown]
    assert data == talk_data(60)  # seeded: the benchmark's input is the same every time
