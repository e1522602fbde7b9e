"""v2a batch: plan filters, batch.json resume rules, failure isolation, the site, end to end.

The end-to-end test (slow) runs the real pipeline (yt-dlp on a loopback RSS feed, Whisper,
PySceneDetect, the embedded LLM, render, MkDocs). The unit tests above it check the batch's own
logic; the only stand-in is a pipeline function that fails on purpose, to test error handling.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.render import synthetic_workdir
from v2a.batch import runner as runner_mod
from v2a.batch.plan import estimate, make_plan
from v2a.batch.runner import BatchRunner, article_files
from v2a.batch.site import build_site
from v2a.batch.state import BatchState, EntryState, StateStore
from v2a.config import Config
from v2a.errors import DownloadError, InputError
from v2a.models import Playlist, PlaylistEntry
from v2a.pipeline import run_stage

ROOT = Path(__file__).resolve().parents[1]


def _playlist(n=5, **over) -> Playlist:
    entries = [PlaylistEntry(index=i, id=f"v{i}", title=f"Talk {i} about {'cats' if i % 2 else 'dogs'}",
                             url=f"http://127.0.0.1:1/v{i}.mp4", duration=60.0 * i,
                             upload_date=f"202601{i:02d}") for i in range(1, n + 1)]
    return Playlist(input="feed", id="feed-1", title="My Feed", entries=entries, **over)


# ---- plan -----------------------------------------------------------------------------------------

def test_plan_filters_match_since_then_limit():
    plan = make_plan(_playlist(), match="CATS", since="20260102", limit=1)
    assert [e.id for e in plan.selected] == ["v3"]  # v1 too early, v2/v4 dogs, v5 over limit
    assert plan.filtered_out == 4
    assert plan.selected[0].workdir == "videos/talk-3-about-cats-v3"


def test_plan_keeps_undated_entries_under_since_and_says_so():
    pl = _playlist(2)
    pl.entries[0].upload_date = None
    plan = make_plan(pl, since="20260102")
    assert [e.id for e in plan.selected] == ["v1", "v2"]
    assert plan.undated_kept == 1 and "no upload date" in plan.notes[0]


def test_plan_skips_too_long_and_duplicates_with_reasons():
    pl = _playlist(3)
    pl.entries.append(pl.entries[0].model_copy(update={"index": 4}))
    plan = make_plan(pl, max_duration=150)
    status = {e.key: (e.status, e.reason) for e in plan.selected}
    assert status["v1"] == ("pending", None)
    assert status["v3"][0] == "skipped" and "too long" in status["v3"][1]
    assert status["v1#4"] == ("skipped", "duplicate of entry 1")
    assert len(plan.runnable) == 2 and plan.total_duration == 180


@pytest.mark.parametrize("kw,msg", [({"since": "2026-01-01"}, "YYYYMMDD"),
                                    ({"match": "(unclosed"}, "regular expression"),
                                    ({"limit": 0}, "at least 1")])
def test_plan_rejects_bad_filters_with_one_line(kw, msg):
    with pytest.raises(InputError, match=msg):
        make_plan(_playlist(), **kw)


def test_estimate_prices_remote_models_only():
    entries = make_plan(_playlist(2)).selected  # 60 s + 120 s
    local = estimate(entries, Config())
    assert local.local and local.cost_usd == 0.0 and local.prompt_tokens > 0
    remote = estimate(entries, Config(llm_base_url="https://api.openai.com/v1",
                                      llm_model="gpt-4o-mini"))
    assert not remote.local and remote.prompt_tokens == local.prompt_tokens
    want = (remote.prompt_tokens * 0.15 + remote.completion_tokens * 0.60) / 1e6
    assert remote.cost_usd == pytest.approx(want)
    odd = estimate(entries, Config(llm_base_url="https://llm.example/v1", llm_model="mystery"))
    assert odd.cost_usd is None
    # entries of unknown length are counted, not guessed
    entries[0].duration = None
    assert estimate(entries, Config()).unknown_durations == 1


# ---- state ----------------------------------------------------------------------------------------

def _fresh() -> BatchState:
    return BatchState(input="feed", playlist_id="feed-1", title="My Feed")


def test_state_resets_interrupted_entries_and_keeps_outcomes(tmp_path):
    path = tmp_path / "batch.json"
    store = StateStore.open(path, _fresh())
    store.merge(make_plan(_playlist(3)).selected)
    store.update("v1", status="done", attempts=1)
    store.update("v2", status="running", phase="llm", attempts=1)  # then kill -9
    store.update("v3", status="failed", reason="HTTP 404", attempts=1)
    on_disk = json.loads(path.read_text())
    assert on_disk["entries"]["v2"]["status"] == "running"  # every change is saved at once
    again = StateStore.open(path, _fresh())
    st = {k: e.status for k, e in again.state.entries.items()}
    assert st == {"v1": "done", "v2": "pending", "v3": "failed"}
    # a re-listing refreshes titles but never forgets a finished video
    pl = _playlist(3)
    pl.entries[0].title = "Renamed"
    again.merge(make_plan(pl).selected)
    assert again.state.entries["v1"].status == "done"
    assert again.state.entries["v1"].title == "Renamed"
    assert again.state.entries["v1"].workdir == "videos/talk-1-about-cats-v1"  # folder kept


def test_state_survives_a_damaged_file(tmp_path):
    path = tmp_path / "batch.json"
    path.write_text("{not json")
    store = StateStore.open(path, _fresh())
    assert store.state.entries == {} and json.loads(path.read_text())["title"] == "My Feed"
    assert (tmp_path / "batch.json.damaged").read_text() == "{not json"  # kept, not lost


# ---- runner: failure isolation and resume (the pipeline is stood in for error handling) ----------

class _Pipeline:
    """Records calls; fails for chosen URLs; otherwise writes the article's files (``render``:
    the artifacts of a synthetic talk titled after the URL, and the real render stage over
    them; slower, for the tests that read the article)."""

    def __init__(self, fail=(), crash=(), delay=0.0, render=False):
        self.fail, self.crash, self.delay, self.render = set(fail), set(crash), delay, render
        self.calls: list[tuple[str, str, float, float]] = []
        self.lock = threading.Lock()

    def __call__(self, src, config, target="run", progress=None, ctx=None):
        t0 = time.perf_counter()
        time.sleep(self.delay)
        with self.lock:
            self.calls.append((src, target, t0, time.perf_counter()))
        if src in self.fail and target == "media":
            raise DownloadError(f"HTTP Error 404: Not Found ({src})")
        if src in self.crash and target == "run":
            raise ZeroDivisionError("boom")
        if target == "run" and self.render:
            synthetic_workdir(ctx.ws.root, title=f"Article for {src}")
            run_stage(ctx, "render")
        elif target == "run":
            for name in article_files(config):
                (ctx.ws.root / name).write_text(f"# Article for {src}\n")


class _Handle:
    def __init__(self, log: list):
        self.log = log
        log.append("open")

    def close(self):
        self.log.append("close")


def _store(tmp_path, n=3) -> StateStore:
    store = StateStore.open(tmp_path / "batch.json", _fresh())
    store.merge(make_plan(_playlist(n)).selected)
    return store


def _runner(store, tmp_path, llm_log=None, **kw) -> BatchRunner:
    log = [] if llm_log is None else llm_log
    return BatchRunner(store, tmp_path, Config(), open_llm=lambda cfg: _Handle(log), **kw)


def test_feed_titles_reach_each_video(tmp_path):
    """A feed item's human title is the video's title (a bare media URL's file name is not);
    an entry titled by its URL or path keeps what the download reports."""
    store = _store(tmp_path, n=2)
    store.state.entries["v2"].title = "http://127.0.0.1:1/v2.mp4"
    r = _runner(store, tmp_path)
    assert r.video_config(store.state.entries["v1"]).title == "Talk 1 about cats"
    assert r.video_config(store.state.entries["v2"]).title is None


def test_runner_isolates_failures_and_retries_only_them(tmp_path, monkeypatch):
    pipe = _Pipeline(fail={"http://127.0.0.1:1/v2.mp4"}, crash={"http://127.0.0.1:1/v3.mp4"},
                     render=True)
    monkeypatch.setattr(runner_mod, "run_pipeline", pipe)
    store = _store(tmp_path)
    _runner(store, tmp_path).run()
    e = store.state.entries
    assert e["v1"].status == "done" and e["v1"].article_title == "Article for http://127.0.0.1:1/v1.mp4"
    assert (e["v2"].status, e["v2"].phase) == ("failed", "media") and "404" in e["v2"].reason
    assert e["v3"].status == "failed" and "internal error (ZeroDivisionError" in e["v3"].reason
    assert (tmp_path / e["v3"].workdir / ".v2a" / "batch-error.txt").read_text().count("boom")
    assert [c[:2] for c in pipe.calls if c[0].endswith("v1.mp4")] == [
        ("http://127.0.0.1:1/v1.mp4", "media"), ("http://127.0.0.1:1/v1.mp4", "run")]

    # second run: only the failed ones are retried; v1 is not touched at all
    pipe2 = _Pipeline()
    monkeypatch.setattr(runner_mod, "run_pipeline", pipe2)
    store2 = StateStore.open(tmp_path / "batch.json", _fresh())
    _runner(store2, tmp_path).run()
    assert sorted({c[0][-6:] for c in pipe2.calls}) == ["v2.mp4", "v3.mp4"]
    assert {k: (x.status, x.attempts) for k, x in store2.state.entries.items()} == {
        "v1": ("done", 1), "v2": ("done", 2), "v3": ("done", 2)}


def test_a_batch_in_other_formats_is_done_by_their_files_and_has_site_pages(tmp_path,
                                                                            monkeypatch):
    """Done means the configured formats' files (the renderer registry's), not article.md;
    the site renders its Markdown page from the artifacts when no Markdown was written."""
    monkeypatch.setattr(runner_mod, "run_pipeline", _Pipeline(render=True))
    store = _store(tmp_path, n=1)
    runner = BatchRunner(store, tmp_path, Config(formats=["html"]),
                         open_llm=lambda cfg: _Handle([]))
    runner.run()
    e = store.state.entries["v1"]
    wd = tmp_path / e.workdir
    assert e.status == "done", e.reason
    assert e.article_title == "Article for http://127.0.0.1:1/v1.mp4"
    assert (wd / "article.html").is_file() and not (wd / "article.md").exists()
    assert runner.todo() == []
    (wd / "article.html").unlink()
    assert [x.key for x in runner.todo()] == ["v1"]  # its article is gone: to do again
    (page,) = build_site(tmp_path, store.state, build=False).pages
    assert page.read_text().startswith("# Article for http://127.0.0.1:1/v1.mp4")


def test_runner_overlaps_media_with_llm_work(tmp_path, monkeypatch):
    pipe = _Pipeline(delay=0.3)
    monkeypatch.setattr(runner_mod, "run_pipeline", pipe)
    store = _store(tmp_path, 3)
    t0 = time.perf_counter()
    _runner(store, tmp_path, media_workers=1, llm_workers=1).run()
    wall = time.perf_counter() - t0
    media2 = next(c for c in pipe.calls if c[0].endswith("v2.mp4") and c[1] == "media")
    llm1 = next(c for c in pipe.calls if c[0].endswith("v1.mp4") and c[1] == "run")
    assert media2[2] < llm1[3] and llm1[2] < media2[3]  # video 2's media ran during video 1's LLM
    assert wall < 6 * 0.3  # 4 slots (m1, m2|l1, m3|l2, l3), not 6 back to back


def test_runner_without_overlap_runs_one_video_at_a_time(tmp_path, monkeypatch):
    pipe = _Pipeline(delay=0.05)
    monkeypatch.setattr(runner_mod, "run_pipeline", pipe)
    store = _store(tmp_path, 3)
    _runner(store, tmp_path, overlap=False).run()
    calls = sorted(pipe.calls, key=lambda c: c[2])
    assert [(c[0][-6:], c[1]) for c in calls] == [
        (f"v{i}.mp4", t) for i in (1, 2, 3) for t in ("media", "run")]
    assert all(a[3] <= b[2] for a, b in zip(calls, calls[1:]))  # never two at once
    assert set(store.state.entries["v1"].timings) == {"media", "llm"}


def test_runner_opens_one_llm_for_the_batch_and_closes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_mod, "run_pipeline", _Pipeline())
    log: list[str] = []
    _runner(_store(tmp_path, 3), tmp_path, llm_log=log).run()
    assert log == ["open", "close"]


def test_runner_records_an_llm_that_cannot_start_once_per_video(tmp_path, monkeypatch):
    from v2a.errors import LLMError

    pipe = _Pipeline()
    monkeypatch.setattr(runner_mod, "run_pipeline", pipe)
    tries = []

    def broken(cfg):
        tries.append(1)
        raise LLMError("OpenAI needs an API key: set $OPENAI_API_KEY")

    store = _store(tmp_path, 2)
    BatchRunner(store, tmp_path, Config(), open_llm=broken).run()
    assert len(tries) == 1  # not retried for every video
    assert [(e.status, e.phase, e.reason) for e in store.state.ordered()] == [
        ("failed", "llm", "OpenAI needs an API key: set $OPENAI_API_KEY")] * 2


# ---- CLI ------------------------------------------------------------------------------------------

def test_cli_single_video_is_a_one_line_error(tmp_path):
    r = run_cli("batch", str(tmp_path / "talk.mp4"), "--out", str(tmp_path / "out"), timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "single video, not a playlist" in r.stderr and "v2a run" in r.stderr


def test_cli_dry_run_plans_a_list_file_and_writes_nothing(tmp_path):
    for name in ("one.mp4", "two.mp4"):
        (tmp_path / name).write_bytes(b"\0")
    listing = tmp_path / "talks.txt"
    listing.write_text("# my talks\none.mp4\n\ntwo.mp4\n")
    out = tmp_path / "out"
    r = run_cli("batch", str(listing), "--out", str(out), "--dry-run", "--match", "two",
                timeout=120)
    assert r.returncode == 0, r.stderr
    assert "2 entries listed, 1 selected (1 filtered out)" in r.stderr
    assert "2. two" in r.stderr and not out.exists()
    bad = run_cli("batch", str(listing), "--since", "yesterday", timeout=120)
    assert bad.returncode == 2 and "YYYYMMDD" in bad.stderr and "Traceback" not in bad.stderr


# ---- site -----------------------------------------------------------------------------------------

def _article(wd: Path, title: str, words: str) -> None:
    from PIL import Image

    (wd / "keyframes").mkdir(parents=True)
    (wd / "media").mkdir()
    Image.new("RGB", (32, 18), (10, 20, 30)).save(wd / "keyframes" / "scene 001.jpg")
    (wd / "media" / "talk.mp4").write_bytes(b"\0")
    (wd / "source.json").write_text(json.dumps({
        "input": "x", "id": wd.name, "title": title, "kind": "url", "extractor": "youtube",
        "url": f"https://www.youtube.com/watch?v={wd.name}", "media_path": "media/talk.mp4",
        "duration": 45.0}))
    (wd / "article.md").write_text(
        f"# {title}\n\n## [1. Intro](https://www.youtube.com/watch?v={wd.name}&t=12s)\n\n"
        f"[![frame](keyframes/scene%20001.jpg)](media/talk.mp4#t=3)\n\n{words}\n")


@pytest.mark.skipif(not __import__("v2a.batch.site", fromlist=["x"]).site_available(),
                    reason="mkdocs-material not installed")
def test_site_has_every_article_a_toc_and_working_links(tmp_path):
    state = _fresh()
    for i, (title, words) in enumerate([("Cats", "Whiskers purr."), ("Dogs", "Barking loud.")], 1):
        wd = f"videos/{title.lower()}-v{i}"
        _article(tmp_path / wd, f"All about {title}", words)
        state.entries[f"v{i}"] = EntryState(key=f"v{i}", index=i, id=f"v{i}", title=title,
                                            url="u", workdir=wd, status="done", duration=45.0,
                                            article_title=f"All about {title}")
    state.entries["v3"] = EntryState(key="v3", index=3, id="v3", title="Broken", url="u",
                                     workdir="videos/broken-v3", status="failed",
                                     reason="HTTP Error 404")
    res = build_site(tmp_path, state)
    assert res.built and len(res.pages) == 2
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="cats-v1/index.html"' in index and 'href="dogs-v2/index.html"' in index
    assert "HTTP Error 404" in index  # the failure is listed, not silently dropped
    page = (tmp_path / "site" / "dogs-v2" / "index.html").read_text()
    assert "https://www.youtube.com/watch?v=dogs-v2&amp;t=12s" in page  # original-video link kept
    assert 'href="../../videos/dogs-v2/media/talk.mp4#t=3"' in page  # local media from the site
    assert (tmp_path / "site" / "dogs-v2" / "keyframes" / "scene 001.jpg").is_file()
    assert (tmp_path / "site" / "dogs-v2" / "../../videos/dogs-v2/media/talk.mp4").resolve().is_file()
    search = json.loads((tmp_path / "site" / "search" / "search_index.json").read_text())
    assert any("Barking" in d["text"] and d["location"].startswith("dogs-v2/") for d in search["docs"])
    # nothing the browser loads comes from the internet (Material's Google Fonts are off)
    for html in (tmp_path / "site").rglob("*.html"):
        text = html.read_text()
        assert "fonts.googleapis" not in text and "unpkg.com" not in text, html
    # a rebuild drops pages of videos no longer done
    state.entries["v1"].status = "failed"
    assert len(build_site(tmp_path, state).pages) == 1
    assert not (tmp_path / "site" / "cats-v1").exists()


# ---- end to end: a loopback RSS feed of three generated videos, one broken ------------------------

TOPICS = {"a": [0, 1], "b": [4, 5], "c": [6, 7]}  # b (special tokens, regex pre-splitting) only
TITLES = {"a": "Why tokens and bytes", "b": "Special tokens and regex splits",
          "c": "Vocabulary size and languages"}
SECONDS = {"a": 46, "b": 42, "c": 38}  # <itunes:duration>, as podcast feeds list it
DATES = {"a": "Mon, 02 Nov 2026 10:00:00 +0000", "b": "Tue, 03 Nov 2026 10:00:00 +0000",
         "c": "Wed, 04 Nov 2026 10:00:00 +0000"}


@dataclass
class FeedBatch:
    """The first ``v2a batch`` over the feed (video c's enclosure is a 404 at that point)."""

    out: Path
    www: Path
    base_url: str
    media: dict[str, Path]  # generated video per key, c's kept aside until it is "fixed"
    first: subprocess.CompletedProcess
    server: http.server.ThreadingHTTPServer
    runs: list[subprocess.CompletedProcess] = field(default_factory=list)

    @property
    def feed_url(self) -> str:
        return f"{self.base_url}/feed.xml"

    @property
    def root(self) -> Path:
        (batch_json,) = self.out.glob("*/batch.json")
        return batch_json.parent

    def state(self) -> BatchState:
        return BatchState.model_validate_json((self.root / "batch.json").read_text())

    def entry(self, key: str) -> EntryState:
        return next(e for e in self.state().entries.values() if e.title == TITLES[key])


def _feed_xml(base: str) -> str:
    items = "".join(
        f"<item><title>{TITLES[k]}</title><guid isPermaLink=\"false\">talk-{k}</guid>"
        f"<pubDate>{DATES[k]}</pubDate><itunes:duration>{SECONDS[k]}</itunes:duration>"
        f"<enclosure url=\"{base}/talk-{k}.mp4\" "
        f"type=\"video/mp4\" length=\"1000\"/></item>" for k in TOPICS)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" "
            "xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"><channel>"
            f"<title>Tokenizer Talks</title><link>{base}/</link><description>Three short talks"
            f"</description>{items}</channel></rss>")


def run_cli(*args: str, timeout: float = 1500) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


_SHARED: dict[str, FeedBatch] = {}


def feed_batch_once(tmp_path_factory) -> FeedBatch:
    """Generate the videos, serve the feed and run the first batch — once per test session.

    The browser test reuses this batch (its site) instead of paying for the LLM again.
    """
    if "fb" in _SHARED:
        return _SHARED["fb"]
    from tests.fixtures.media import _QuietHandler
    from v2a.samples import make_lecture

    base_dir = tmp_path_factory.mktemp("feed")
    www, gen = base_dir / "www", base_dir / "generated"
    www.mkdir()
    media = {k: make_lecture(gen / f"talk-{k}.mp4", topics=t).video for k, t in TOPICS.items()}
    for k in ("a", "b"):
        shutil.copy(media[k], www / f"talk-{k}.mp4")  # talk-c.mp4 is missing: HTTP 404
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(www)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{srv.server_address[1]}"
    (www / "feed.xml").write_text(_feed_xml(base_url))
    out = base_dir / "out"
    first = run_cli("batch", f"{base_url}/feed.xml", "--out", str(out), "--quiet")
    _SHARED["fb"] = FeedBatch(out=out, www=www, base_url=base_url, media=media, first=first,
                              server=srv)
    return _SHARED["fb"]


@pytest.fixture(scope="session")
def feed_batch(tmp_path_factory):
    fb = feed_batch_once(tmp_path_factory)
    yield fb
    fb.server.shutdown()  # idempotent: the browser test's fixture may get here too
    fb.server.server_close()


def _stage_lines(root: Path, e: EntryState) -> list[dict]:
    log = root / e.workdir / ".v2a" / "stages.log"
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_batch_feed_end_to_end_failure_isolation_and_resume(feed_batch):
    fb = feed_batch
    r1 = fb.first
    assert r1.returncode == 1, r1.stdout + r1.stderr
    assert "Traceback" not in r1.stderr
    assert "3 entries listed" in r1.stderr and "done 2, skipped 0, failed 1" in r1.stderr
    root = fb.root
    a, b, c = fb.entry("a"), fb.entry("b"), fb.entry("c")
    assert (a.status, b.status) == ("done", "done")
    assert c.status == "failed" and c.phase == "media" and "404" in c.reason, c
    for e in (a, b):
        md = (root / e.workdir / "article.md").read_text()
        assert md.startswith("# ") and f"{fb.base_url}/talk-" in md  # links to the video's times
        assert (root / e.workdir / "article.html").is_file()
    index = (root / "site" / "index.html").read_text()
    assert index.count('/index.html">') >= 2 and "404" in index
    assert (root / "site" / Path(b.workdir).name / "index.html").is_file()

    # run 2, after the broken enclosure is fixed: only c is processed, then killed -9 mid-way
    logs_a, logs_b = _stage_lines(root, a), _stage_lines(root, b)
    shutil.copy(fb.media["c"], fb.www / "talk-c.mp4")
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "batch", fb.feed_url,
                             "--out", str(fb.out), "--quiet"], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            if fb.entry("c").phase == "llm":  # media finished, LLM writing: pull the plug
                break
            time.sleep(0.2)
        assert proc.poll() is None, "run 2 ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    c_killed = fb.entry("c")
    assert c_killed.status == "running" and c_killed.attempts == 2
    media_ran = {x["stage"] for x in _stage_lines(root, c_killed) if x["action"] == "ran"}
    assert {"ingest", "audio", "transcribe", "scenes"} <= media_ran

    # run 3 resumes: c finishes without redoing its media stages; a and b are never touched
    before = len(_stage_lines(root, c_killed))
    r3 = run_cli("batch", fb.feed_url, "--out", str(fb.out), "--quiet")
    fb.runs.append(r3)
    assert r3.returncode == 0, r3.stdout + r3.stderr
    assert "done 3, skipped 0, failed 0" in r3.stderr
    st = {e.title: (e.status, e.attempts) for e in fb.state().entries.values()}
    assert st == {TITLES["a"]: ("done", 1), TITLES["b"]: ("done", 1), TITLES["c"]: ("done", 3)}
    assert _stage_lines(root, a) == logs_a and _stage_lines(root, b) == logs_b
    resumed = {x["stage"]: x["action"] for x in _stage_lines(root, c_killed)[before:]}
    assert all(resumed[s] == "cached" for s in ("ingest", "audio", "transcribe", "scenes")), resumed
    assert resumed["render"] == "ran"
    assert (root / "site" / Path(c_killed.workdir).name / "index.html").is_file()
