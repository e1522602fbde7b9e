"""Subtitle reading/writing (webvtt-py) and the track-choice rules."""

from __future__ import annotations

import pytest

from v2a.config import Config
from v2a.errors import InputError
from v2a.models import Segment, Source, SubtitleTrack
from v2a.subtitles import parse_subtitles, pick_subtitle_track, write_srt, write_vtt

SEGMENTS = [
    Segment(id=0, start=0.0, end=2.5, text="Welcome to the lecture."),
    Segment(id=1, start=2.5, end=5.125, text="Tokens & bytes: a <tag> is not markup here."),
    Segment(id=2, start=61.002, end=3725.4, text="Über 1 hour --> still fine."),
]


@pytest.mark.parametrize("ext,writer", [("srt", write_srt), ("vtt", write_vtt)])
def test_round_trip(tmp_path, ext, writer):
    path = tmp_path / f"t.{ext}"
    writer(SEGMENTS, path)
    back = parse_subtitles(path)
    assert [s.id for s in back] == [0, 1, 2]
    assert [(s.start, s.end) for s in back] == [(s.start, s.end) for s in SEGMENTS]
    assert back[0].text == SEGMENTS[0].text
    assert back[1].text == SEGMENTS[1].text  # escaped on write, unescaped on read
    assert back[2].text == "Über 1 hour -> still fine."  # an arrow would break the cue
    assert not list(tmp_path.glob(".*tmp"))  # atomic write left no temp file


def test_vtt_header_and_srt_numbering(tmp_path):
    write_vtt(SEGMENTS, tmp_path / "a.vtt")
    write_srt(SEGMENTS, tmp_path / "a.srt")
    vtt = (tmp_path / "a.vtt").read_text("utf-8")
    srt = (tmp_path / "a.srt").read_text("utf-8")
    assert vtt.startswith("WEBVTT")
    assert "00:01:01.002 --> 01:02:05.400" in vtt
    assert srt.splitlines()[0] == "1" and "00:01:01,002 --> 01:02:05,400" in srt
    assert "&lt;tag&gt;" in vtt and "<tag>" in srt


def test_markup_is_stripped(tmp_path):
    p = tmp_path / "human.srt"
    p.write_text(
        "\ufeff1\n00:00:01,000 --> 00:00:03,000\n<i>Hello</i> {\\an8}there & welcome\n\n"
        "2\n00:00:03,500 --> 00:00:05,000\n<font color=\"#fff\">Second</font>\nline\n\n"
        "3\n00:00:05,000 --> 00:00:06,000\n\n\n", encoding="utf-8")
    segs = parse_subtitles(p)
    assert [s.text for s in segs] == ["Hello there & welcome", "Second line"]
    assert (segs[1].start, segs[1].end) == (3.5, 5.0)


# What YouTube serves as auto-captions: each line appears with karaoke word times, is then
# repeated in a 10 ms cue, then repeated again above the next line.
AUTO_VTT = """WEBVTT
Kind: captions
Language: en

00:00:00.000 --> 00:00:02.350 align:start position:0%
 
welcome<00:00:00.480><c> to</c><00:00:00.720><c> the</c><00:00:01.000><c> lecture</c>

00:00:02.350 --> 00:00:02.360 align:start position:0%
welcome to the lecture
 

00:00:02.360 --> 00:00:05.000 align:start position:0%
welcome to the lecture
today<00:00:02.900><c> we</c><00:00:03.400><c> talk</c>

00:00:05.000 --> 00:00:05.010 align:start position:0%
today we talk
 

00:00:05.010 --> 00:00:07.000 align:start position:0%
today we talk
about<00:00:05.500><c> tokens</c>
"""


def test_auto_caption_rolling_lines_are_deduplicated(tmp_path):
    p = tmp_path / "auto.en.vtt"
    p.write_text(AUTO_VTT, encoding="utf-8")
    segs = parse_subtitles(p)
    assert [s.text for s in segs] == ["welcome to the lecture", "today we talk", "about tokens"]
    assert [s.id for s in segs] == [0, 1, 2]
    assert [(s.start, s.end) for s in segs] == [(0.0, 2.35), (2.36, 5.0), (5.01, 7.0)]
    words = segs[0].words
    assert [w.text for w in words] == ["welcome", "to", "the", "lecture"]
    assert [w.start for w in words] == [0.0, 0.48, 0.72, 1.0]
    assert words[-1].end == 2.35


def test_bad_subtitle_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        parse_subtitles(tmp_path / "none.vtt")
    (tmp_path / "x.ass").write_text("[Script Info]\n")
    with pytest.raises(InputError, match="unsupported subtitle format"):
        parse_subtitles(tmp_path / "x.ass")
    (tmp_path / "junk.vtt").write_text("this is not webvtt\n")
    with pytest.raises(InputError, match="cannot read subtitles junk.vtt"):
        parse_subtitles(tmp_path / "junk.vtt")


def _source(*tracks: SubtitleTrack) -> Source:
    return Source(input="x", id="x", title="x", kind="url", media_path="media/source.mp4",
                  subtitles=list(tracks))


def T(lang, automatic=False, ext="vtt", path=True):
    return SubtitleTrack(lang=lang, ext=ext, automatic=automatic,
                         path=f"media/source.{lang}.{ext}" if path else None)


def test_pick_prefers_human_in_wanted_order():
    cfg = Config(sub_langs=["en", "en-US"], auto_captions=True)
    src = _source(T("en", automatic=True), T("de"), T("en-US"), T("en"))
    pick = pick_subtitle_track(src, cfg)
    assert (pick.lang, pick.automatic) == ("en", False)
    # base-language match ranks after exact tags
    pick = pick_subtitle_track(_source(T("en-GB"), T("en-US")), cfg)
    assert pick.lang == "en-US"
    pick = pick_subtitle_track(_source(T("en-GB"), T("de")), cfg)
    assert pick.lang == "en-GB"


def test_pick_auto_captions_only_when_allowed():
    src = _source(T("en", automatic=True), T("de"))
    assert pick_subtitle_track(src, Config(sub_langs=["en"], auto_captions=False)) is None
    pick = pick_subtitle_track(src, Config(sub_langs=["en"], auto_captions=True))
    assert (pick.lang, pick.automatic) == ("en", True)
    # YouTube marks the original-language auto track "en-orig"
    src = _source(T("en-orig", automatic=True))
    assert pick_subtitle_track(src, Config(sub_langs=["en"], auto_captions=True)).lang == "en-orig"


def test_pick_needs_a_local_readable_file():
    cfg = Config(sub_langs=["en"], auto_captions=True)
    assert pick_subtitle_track(_source(T("en", path=False)), cfg) is None
    assert pick_subtitle_track(_source(T("en", ext="json3")), cfg) is None
    pick = pick_subtitle_track(_source(T("en", ext="srt"), T("en", ext="vtt")), cfg)
    assert pick.ext == "vtt"


def test_pick_untagged_sidecar_is_used_after_wanted_languages():
    cfg = Config(sub_langs=["en"])
    assert pick_subtitle_track(_source(T("und")), cfg).lang == "und"
    assert pick_subtitle_track(_source(T("und"), T("en")), cfg).lang == "en"
    assert pick_subtitle_track(_source(T("fr")), cfg) is None
