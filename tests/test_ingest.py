"""Ingest with real yt-dlp and ffprobe: local files, loopback URLs, feeds, sidecar subtitles."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from tests.fixtures.media import copy_into
from v2a.config import Config
from v2a.errors import DownloadError, InputError
from v2a.ingest.locate import INDEX, locate_workspace
from v2a.ingest.playlist import list_entries
from v2a.models import Source
from v2a.pipeline import open_workspace, run_stage
from v2a.subtitles import parse_subtitles, pick_subtitle_track
from v2a.workspace import read_model


class RecordingProgress:
    """Keeps every bar update so a test can check what the user would have seen."""

    def __init__(self):
        self.updates: dict[str, list[dict]] = {}

    @contextlib.contextmanager
    def task(self, description, total=None):
        log = self.updates.setdefault(description, [])

        class _T:
            def update(self, completed=None, total=None, description=None):
                log.append({"completed": completed, "total": total})

            def advance(self, amount=1.0):
                log.append({"advance": amount})

        yield _T()

    def log(self, message):
        pass


def ingest(src: str, out: Path, progress=None, **cfg) -> tuple[Source, Path]:
    ctx = open_workspace(src, Config(out_root=out, **cfg), progress)
    run_stage(ctx, "ingest")
    return read_model(ctx.ws.source_json, Source), ctx.ws.root


def test_local_video(lecture, tmp_path):
    out = tmp_path / "out"
    src, root = ingest(str(lecture.video), out)
    assert src.kind == "local" and src.title == "lecture"
    assert src.duration == pytest.approx(lecture.duration, abs=0.15)
    assert (src.has_video, src.has_audio, src.width, src.height) == (True, True, 1280, 720)
    assert Path(src.media_path) == lecture.video.resolve()  # big local files are not copied
    assert not (root / "media").exists()
    assert root.parent == out and root.name.startswith("lecture-")
    index = json.loads((out / INDEX).read_text())
    assert index == {str(lecture.video.resolve()): root.name}
    # a relative spelling of the same file finds the same folder
    rel = Path(os.path.relpath(lecture.video))
    assert locate_workspace(str(rel), Config(out_root=out)) == root


def test_title_option_overrides_the_reported_title(lecture, tmp_path):
    src, _ = ingest(str(lecture.video), tmp_path / "out", title="  Tokenization, Lecture 1 ")
    assert src.title == "Tokenization, Lecture 1"


def test_local_audio_only(lecture_audio, tmp_path):
    src, _ = ingest(str(lecture_audio.video), tmp_path / "out")
    assert (src.has_video, src.has_audio) == (False, True)
    assert src.width is None
    assert src.duration == pytest.approx(lecture_audio.duration, abs=0.15)


def test_sidecar_subtitles(lecture, tmp_path):
    d = tmp_path / "talks"
    d.mkdir()
    video = copy_into(d, lecture.video, "talk.mp4")
    (d / "talk.en.vtt").write_text("WEBVTT\n\n00:00:00.500 --> 00:00:03.000\nHello <b>world</b>\n")
    (d / "talk.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nUntagged\n")
    (d / "talk-notes.vtt").write_text("WEBVTT\n")  # another file's, not a sidecar
    src, root = ingest(str(video), tmp_path / "out")
    tracks = {t.lang: t for t in src.subtitles}
    assert set(tracks) == {"en", "und"}
    assert all(not t.automatic for t in src.subtitles)
    en = tracks["en"]
    assert (root / en.path).is_file() and not Path(en.path).is_absolute()
    pick = pick_subtitle_track(src, Config())
    assert pick.lang == "en"
    assert [s.text for s in parse_subtitles(root / pick.path)] == ["Hello world"]


def test_direct_url_download(lecture, http_root, tmp_path):
    www, base = http_root
    copy_into(www, lecture.video, "talk.mp4")
    prog = RecordingProgress()
    src, root = ingest(f"{base}/talk.mp4", tmp_path / "out", progress=prog)
    assert src.kind == "url" and src.extractor == "generic" and src.id == "talk"
    media = root / src.media_path
    assert media.is_file() and media.parent == root / "media"
    assert media.stat().st_size == lecture.video.stat().st_size
    assert (root / "media" / "source.info.json").is_file()
    # yt-dlp gives no duration for a direct link: it comes from probing the download
    assert src.duration == pytest.approx(lecture.duration, abs=0.15)
    assert (src.has_video, src.width) == (True, 1280)
    bar = prog.updates["download"]
    assert bar and bar[-1]["completed"] == media.stat().st_size

    # a re-run finds the folder from the index, without the network: the file is gone from
    # the server now, so any request would fail with a 404
    (www / "talk.mp4").unlink()
    assert locate_workspace(f"{base}/talk.mp4", Config(out_root=tmp_path / "out")) == root


def test_audio_only_url(lecture_audio, http_root, tmp_path):
    www, base = http_root
    copy_into(www, lecture_audio.video, "episode.m4a")
    src, root = ingest(f"{base}/episode.m4a", tmp_path / "out")
    assert (src.has_video, src.has_audio) == (False, True)
    assert (root / src.media_path).suffix == ".m4a"


def test_page_with_subtitle_track(lecture, http_root, tmp_path):
    """yt-dlp's HTML5 extractor: <video> with a <track> → media plus a downloaded .vtt."""
    www, base = http_root
    copy_into(www, lecture.video, "talk.mp4")
    (www / "talk.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nFrom the page\n")
    (www / "talk.html").write_text(
        '<html><head><title>A talk</title></head><body><video src="talk.mp4">'
        '<track kind="subtitles" src="talk.vtt" srclang="en" label="English"></video></body></html>')
    src, root = ingest(f"{base}/talk.html", tmp_path / "out")
    assert src.title.startswith("A talk")
    [track] = src.subtitles
    assert (track.lang, track.automatic, track.ext) == ("en", False, "vtt")
    assert pick_subtitle_track(src, Config()) == track
    assert [s.text for s in parse_subtitles(root / track.path)] == ["From the page"]


def test_http_404_is_a_clear_download_error(http_root, tmp_path):
    _, base = http_root
    with pytest.raises(DownloadError) as exc:
        locate_workspace(f"{base}/missing.mp4", Config(out_root=tmp_path / "out"))
    msg = str(exc.value)
    assert "404" in msg and "\n" not in msg and not msg.startswith("ERROR")
    assert f"{base}/missing.mp4" in msg


def test_missing_and_odd_local_inputs(tmp_path):
    cfg = Config(out_root=tmp_path / "out")
    with pytest.raises(InputError, match="file not found: nope.mp4$"):
        locate_workspace("nope.mp4", cfg)
    with pytest.raises(InputError, match=r"URLs need http:// or https://"):
        locate_workspace("youtube.com/watch?v=abc", cfg)
    with pytest.raises(InputError, match="file not found: videos/talk.mp4$"):
        locate_workspace("videos/talk.mp4", cfg)
    with pytest.raises(InputError, match="is a folder"):
        locate_workspace(str(tmp_path), cfg)


def test_max_duration(lecture, tmp_path):
    with pytest.raises(InputError, match="over the --max-duration limit of 1.0 min"):
        ingest(str(lecture.video), tmp_path / "out", max_minutes=1)


def _feed(base: str) -> str:
    items = "".join(
        f"<item><title>{t}</title><guid>{g}</guid><pubDate>{d}</pubDate>"
        f'<enclosure url="{base}/{f}" type="{mime}" length="1"/></item>'
        for t, g, d, f, mime in [
            ("Episode One", "ep1", "Mon, 02 Jan 2023 10:00:00 GMT", "a.mp4", "video/mp4"),
            ("Episode Two", "ep2", "Tue, 03 Jan 2023 10:00:00 GMT", "b.m4a", "audio/mp4"),
            ("Episode Three", "ep3", "Wed, 04 Jan 2023 10:00:00 GMT", "c.mp4", "video/mp4"),
        ])
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>My Podcast</title>'
            f"<link>{base}/</link>{items}</channel></rss>")


def test_rss_feed_expands(http_root):
    www, base = http_root
    (www / "feed.xml").write_text(_feed(base))
    pl = list_entries(f"{base}/feed.xml")
    assert pl.title == "My Podcast"
    assert [e.title for e in pl.entries] == ["Episode One", "Episode Two", "Episode Three"]
    assert [e.id for e in pl.entries] == ["ep1", "ep2", "ep3"]
    assert [e.index for e in pl.entries] == [1, 2, 3]
    assert [e.upload_date for e in pl.entries] == ["20230102", "20230103", "20230104"]
    assert pl.entries[1].url == f"{base}/b.m4a"  # plain URL, no yt-dlp smuggling fragment


def test_html_page_with_several_videos_expands(http_root):
    www, base = http_root
    (www / "videos.html").write_text(
        f'<html><head><title>Course</title></head><body><video src="{base}/a.mp4"></video>'
        f'<video src="{base}/b.mp4"></video></body></html>')
    pl = list_entries(f"{base}/videos.html")
    assert [e.url for e in pl.entries] == [f"{base}/a.mp4", f"{base}/b.mp4"]
    assert [e.title for e in pl.entries] == ["Course (1)", "Course (2)"]
    # `run` on it must point the user to `batch` instead of picking one video
    with pytest.raises(InputError, match=r"playlist \(2 entries\); use `v2a batch"):
        locate_workspace(f"{base}/videos.html", Config())


def test_link_page_and_m3u_do_not_expand(lecture, http_root):
    www, base = http_root
    copy_into(www, lecture.video, "a.mp4")
    copy_into(www, lecture.video, "b.mp4")
    (www / "links.html").write_text('<html><body><a href="a.mp4">a</a> <a href="b.mp4">b</a></body></html>')
    (www / "list.m3u").write_text(f"#EXTM3U\n{base}/a.mp4\n{base}/b.mp4\n")
    # yt-dlp does not follow plain links: a clear one-line error, not an empty playlist
    with pytest.raises(InputError, match="unsupported URL"):
        list_entries(f"{base}/links.html")
    # an .m3u is read as one media item (its lines become alternative formats)
    assert list_entries(f"{base}/list.m3u") is None
    assert list_entries(f"{base}/a.mp4") is None


def test_local_list_file(lecture, tmp_path):
    d = tmp_path / "lists"
    d.mkdir()
    copy_into(d, lecture.video, "one.mp4")
    lst = d / "videos.txt"
    lst.write_text("# my course\n\none.mp4\nhttps://example.org/two.mp4   \n")
    pl = list_entries(str(lst))
    assert [e.url for e in pl.entries] == [str((d / "one.mp4").resolve()), "https://example.org/two.mp4"]
    assert [e.index for e in pl.entries] == [1, 2]
    assert pl.entries[0].title == "one"
    assert list_entries(str(lecture.video)) is None
    lst.write_text("missing.mp4\n")
    with pytest.raises(InputError, match="file not found: missing.mp4"):
        list_entries(str(lst))


def test_platform_metadata_mapping(tmp_path):
    """yt-dlp's info dict of a platform video (shape as YouTube returns it) → Source fields."""
    from v2a.ingest import ytdlp

    (tmp_path / "media").mkdir()
    got = tmp_path / "media" / "source.en.vtt"
    got.write_text("WEBVTT\n")
    fmt = lambda ext, lang: {"ext": ext, "url": f"https://x/{lang}.{ext}"}
    info = {
        "subtitles": {"en": [fmt("json3", "en"), fmt("vtt", "en")], "live_chat": [fmt("json", "c")],
                      "fr": [fmt("srv3", "fr")]},
        "automatic_captions": {lang: [fmt("vtt", lang)] for lang in ("en", "en-orig", "de", "ja")},
        "requested_subtitles": {"en": {"ext": "vtt", "url": "https://x/en.vtt", "filepath": str(got)}},
        "chapters": [{"start_time": 0.0, "end_time": 30.0, "title": " Intro "},
                     {"start_time": 30.0, "end_time": 90.0, "title": ""}],
        "timestamp": 1672653600,
    }
    tracks = ytdlp.subtitle_tracks(info, tmp_path, ["en", "en-US"])
    assert [(t.lang, t.automatic, t.ext, t.path) for t in tracks] == [
        ("en", False, "vtt", "media/source.en.vtt"),  # the downloaded file belongs to the human track
        ("fr", False, "srv3", None),
        ("en", True, "vtt", None),
        ("en-orig", True, "vtt", None),  # machine translations (de, ja) are not listed
    ]
    assert [(c.title, c.start, c.end) for c in ytdlp.chapters(info)] == [
        ("Intro", 0.0, 30.0), ("Chapter 2", 30.0, 90.0)]
    assert ytdlp.upload_date(info) == "20230102"
