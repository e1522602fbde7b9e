"""The speculative-decoding A/B's bookkeeping (#24): pairs by round and prompt, ratios, acceptance."""

from __future__ import annotations

import json

from bench.spec_ab import SPECULATIVE, prompts, summarize


def _row(variant, rnd, prompt, tok_s, wall, drafted=None, accepted=None, same=True):
    return {"variant": variant, "round": rnd, "prompt": prompt, "gen_tok_s": tok_s,
            "wall_s": wall, "drafted": drafted, "accepted": accepted, "same_as_none": same}


def test_summary_pairs_each_reply_with_the_reference_of_its_round_and_prompt():
    rows = [_row("none", 0, 0, 5.0, 40.0), _row("x", 0, 0, 10.0, 20.0, 100, 80),
            _row("none", 1, 0, 2.0, 80.0), _row("x", 1, 0, 3.0, 60.0, 50, 10, same=False),
            _row("none", 2, 0, 4.0, 50.0), _row("x", 2, 0, 6.0, 25.0, 0, 0)]
    s = summarize(rows)
    # ratios 2.0, 1.5, 1.5 per round: the median, not the ratio of medians (6/4 = 1.5 here too)
    assert s["x"]["ratio_to_none_median"] == 1.5
    assert s["x"]["wall_ratio_to_none_median"] == 2.0  # 40/20, 80/60, 50/25
    assert (s["x"]["drafted"], s["x"]["accepted"], s["x"]["acceptance"]) == (150, 90, 0.6)
    assert (s["x"]["identical_to_none"], s["x"]["compared"]) == (2, 3)
    assert s["none"]["acceptance"] is None and s["none"]["ratio_to_none_median"] == 1.0


def test_prompts_cut_the_transcript_into_chunks_of_words(tmp_path):
    t = tmp_path / "t.json"
    t.write_text(json.dumps({"segments": [{"text": f" word{i} and more words"}
                                          for i in range(40)]}))
    ps = prompts(t, 3, words=30)
    assert len(ps) == 3
    assert all(p.startswith("Rewrite this transcript") for p in ps)
    assert "word0 and" in ps[0] and "word0 and" not in ps[1]
    assert set(SPECULATIVE) >= {"none", "ngram-simple", "draft-0.5b"}
