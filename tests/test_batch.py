"""v2a batch: plan filters, batch.json resume rules, failure isolation, the site, end to end.

The end-to-end test (slow) runs the real pipeline (yt-dlp on a loopback RSS feed, Whisper,
PySceneDetect, the embedded LLM, render, MkDocs). The unit tests above it check the batch's own
logic; the only stand-in is a pipeline function that fails on purpose, to test error handling.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from v2a.batch import runner as runner_mod
from v2a.batch.plan import estimate, make_plan
from v2a.batch.runner import BatchRunner
from v2a.batch.site import build_site
from v2a.batch.state import BatchState, EntryState, StateStore
from v2a.config import Config
from v2a.errors import DownloadError, InputError
from v2a.models import Playlist, PlaylistEntry

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


# ---- runner: failure isolation and resume (the pipeline is stood in for error handling) ----------

class _Pipeline:
    """Records calls; fails for chosen URLs; otherwise writes an article like render would."""

    def __init__(self, fail=(), crash=(), delay=0.0):
        self.fail, self.crash, self.delay = set(fail), set(crash), delay
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
        if target == "run":
            (ctx.ws.root / "article.md").write_text(f"# Article for {src}\n\nText.\n")


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


def test_runner_isolates_failures_and_retries_only_them(tmp_path, monkeypatch):
    pipe = _Pipeline(fail={"http://127.0.0.1:1/v2.mp4"}, crash={"http://127.0.0.1:1/v3.mp4"})
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
        raise LLMError("embedded model not found")

    store = _store(tmp_path, 2)
    BatchRunner(store, tmp_path, Config(), open_llm=broken).run()
    assert len(tries) == 1  # not restarted for every video
    assert [(e.status, e.phase, e.reason) for e in store.state.ordered()] == [
        ("failed", "llm", "embedded model not found")] * 2


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
