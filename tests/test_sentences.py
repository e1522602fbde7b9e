"""The transcript is cut at sentences, so a chapter can start at any sentence — at its first word —
even where Whisper's segment runs straight across a change of topic."""

from __future__ import annotations

from v2a.models import Segment, Word
from v2a.transcribe.sentences import MAX_S, split_sentences


def W(text: str, start: float, end: float) -> Word:
    return Word(start=start, end=end, text=" " + text)


def test_a_topic_change_inside_a_segment_becomes_a_sentence_start():
    # "…isolated and one. From fairest creatures we desire increase…" in one ASR segment
    segs = [
        Segment(id=0, start=0.0, end=6.0, text="x", words=[
            W("The", 0.0, 0.2), W("bytes", 0.2, 0.6), W("are", 0.6, 0.8), W("isolated", 0.8, 1.4),
            W("and", 1.4, 1.6), W("one.", 1.6, 2.0), W("From", 2.3, 2.6), W("fairest", 2.6, 3.1),
            W("creatures", 3.1, 3.7)]),
        Segment(id=1, start=6.0, end=8.0, text="y", words=[
            W("we", 6.0, 6.2), W("desire", 6.2, 6.7), W("increase.", 6.7, 7.4)]),
    ]
    out = split_sentences(segs)
    assert [s.text for s in out] == ["The bytes are isolated and one.",
                                     "From fairest creatures we desire increase."]
    assert [s.id for s in out] == [0, 1]
    # the second sentence starts at its first word, not at a segment boundary
    assert (out[1].start, out[1].end) == (2.3, 7.4)
    assert [w.text.strip() for w in out[1].words][-1] == "increase."


def test_abbreviations_decimals_and_short_fragments_do_not_end_sentences():
    words = [W("We", 0, .2), W("use", .2, .4), W("e.g.", .4, .8), W("UTF-8", .8, 1.2),
             W("at", 1.2, 1.3), W("3.", 1.3, 1.5), W("5", 1.5, 1.6), W("percent.", 1.6, 2.0),
             W("Okay.", 2.2, 2.5), W("Next", 2.6, 2.9), W("we", 2.9, 3.0), W("merge.", 3.0, 3.4)]
    out = split_sentences([Segment(id=0, start=0, end=3.4, text="", words=words)])
    assert [s.text for s in out] == ["We use e.g. UTF-8 at 3. 5 percent.",
                                     "Okay. Next we merge."]


def test_speech_without_punctuation_is_cut_into_bounded_pieces():
    words = [W(f"w{i}", i * 0.5, i * 0.5 + 0.4) for i in range(200)]  # 100 s, no full stop
    segs = [Segment(id=k, start=k * 10.0, end=k * 10.0 + 10, text="", words=words[k * 20:k * 20 + 20])
            for k in range(10)]
    out = split_sentences(segs)
    assert len(out) >= 4
    assert all(s.end - s.start <= MAX_S for s in out)
    assert sum(len(s.words) for s in out) == 200  # no word lost
    assert [w.text for s in out for w in s.words] == [w.text for w in words]


def test_subtitle_cues_without_word_times_are_split_by_length():
    cues = [Segment(id=0, start=0.0, end=4.0, text="One sentence here. And the next one"),
            Segment(id=1, start=4.0, end=6.0, text="continues here.")]
    out = split_sentences(cues)
    assert [s.text for s in out] == ["One sentence here.", "And the next one continues here."]
    assert out[0].start == 0.0 and 1.5 < out[1].start < 2.5 and out[1].end == 6.0
    assert all(not s.words for s in out)  # spread times are not passed off as measured ones


def test_words_stored_without_spaces_are_joined_as_written():
    # faster-whisper's words are stored stripped; Chinese and Japanese are written unspaced
    words = [Word(start=i, end=i + .5, text=t) for i, t in enumerate(
        ["If", "you", "used", "the", "library,", "you", "met", "it.", "我们", "开始", "吧。"])]
    out = split_sentences([Segment(id=0, start=0, end=12, text="", words=words)])
    assert [s.text for s in out] == ["If you used the library, you met it.", "我们开始吧。"]
