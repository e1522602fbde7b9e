"""Every failure is one clear line with an exit code that says what kind it was, and loses
nothing; outside text never runs as script or reaches the terminal as markup; secrets are never
printed. (The whole battery, with faults in every stage, is bench/reliability.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.llm import chat_reply
from tests.fixtures.render import context, synthetic_workdir
from v2a.batch.site import build_site, site_available
from v2a.batch.state import BatchState, EntryState
from v2a.config import Config
from v2a.links import safe_url
from v2a.models import Outline, RunReport
from v2a.pipeline import run_stage
from v2a.workspace import ArtifactError, read_model, write_json

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")


def v2a(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=env)


def src_of(wd: Path) -> str:
    """What the work folder was made from (running on it again reuses its media stages)."""
    return json.loads((wd / "source.json").read_text())["input"]


def one_line(res) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in res.stderr, res.stderr
    assert len(lines) == 1, res.stderr
    return lines[0]


@pytest.mark.parametrize("args, needle", [
    (["run", "x.mp4", "--asr", "sometimes"], "'sometimes' is not one of"),
    (["run", "x.mp4", "--llm-concurrency", "0"], "--llm-concurrency"),
    (["run", "x.mp4", "--scene-threshold", "abc"], "--scene-threshold"),
    (["run", "x.mp4", "--force", "bogus"], "'bogus' is not one of"),
    (["run", "x.mp4", "--bogus"], "No such option: --bogus"),
    (["bogus"], "No such command 'bogus'"),
    (["run"], "Missing argument"),
    (["run", "x.mp4", "--local-server", "nope"], "'nope' is not one of"),
])
def test_usage_mistakes_are_one_line_and_exit_2(tmp_path, args, needle):
    res = v2a(*args, cwd=tmp_path)
    line = one_line(res)
    assert res.returncode == 2 and line.startswith("error: ") and needle in line
    assert "--help" in line


def test_a_missing_file_is_one_line(tmp_path):
    res = v2a("run", str(tmp_path / "nope.mp4"), "-q", cwd=tmp_path)
    assert res.returncode == 2 and "not found" in one_line(res)


@pytest.mark.parametrize("text, field", [
    ('{"method": "llm", "chapters": [', "is not valid JSON"),
    ('{"method": "llm", "chapters": [{"index": 0, "title": 5}]}', "chapters.0.title"),
    ('{"method": "guess", "chapters": []}', "method"),
])
def test_a_damaged_outline_names_the_file_the_field_and_the_fix(tmp_path, text, field):
    ws = synthetic_workdir(tmp_path / "w")
    ws.path("outline.json").write_text(text)
    with pytest.raises(ArtifactError) as ei:
        run_stage(context(ws), "render")
    msg = str(ei.value)
    assert "outline.json" in msg and field in msg and "--force outline" in msg
    assert "\n" not in msg


def test_a_damaged_transcript_is_not_served_from_cache(tmp_path, lecture_audio):
    wd = tmp_path / "w"
    res = v2a("transcribe", str(lecture_audio.video), "--workdir", str(wd), "-q", cwd=tmp_path,
              timeout=600)
    assert res.returncode == 0, res.stderr
    (wd / "transcript.json").write_text('{"language": "en", "segments": [')
    res = v2a("transcribe", str(lecture_audio.video), "--workdir", str(wd), "-q", cwd=tmp_path)
    line = one_line(res)
    assert res.returncode == 1 and "transcript.json is not valid JSON" in line
    assert "--force transcribe" in line


def test_an_outline_that_ends_before_it_starts_is_refused(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    o = read_model(ws.path("outline.json"), Outline)
    o.chapters[1].start, o.chapters[1].end = 80.0, 10.0
    write_json(ws.path("outline.json"), o)
    with pytest.raises(ArtifactError, match=r"chapter 2 .* ends \(10 s\) before it starts"):
        run_stage(context(ws), "render")


def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    held = ws.lock()
    try:
        res = v2a("run", str(ws.root / "media" / "talk video.mp4"), "--workdir", str(ws.root),
                  "-q", cwd=tmp_path)
        line = one_line(res)
        assert res.returncode == 1 and f"pid {os.getpid()}" in line and "working in" in line
    finally:
        held.release()


def test_credentials_in_a_base_url_are_never_printed(tmp_path, lecture_media):
    import shutil

    wd = tmp_path / "ws"
    shutil.copytree(lecture_media, wd)
    res = v2a("run", src_of(wd), "--workdir", str(wd), "-q",
              "--llm-base-url", "http://apikey:sk-secret-123@127.0.0.1:9/v1?key=sk-secret-456",
              "--model", "m", "--llm-retries", "0", cwd=tmp_path, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 1 and "sk-secret" not in out
    assert "apikey:***@127.0.0.1:9" in one_line(res)
    assert "sk-secret" not in (wd / "run.json").read_text()
    assert safe_url("https://h/v1?token=t&model=m") == "https://h/v1?token=***&model=m"


def test_an_endpoint_that_answers_with_something_else_is_one_line(tmp_path, lecture_media,
                                                                  fake_endpoint):
    import shutil

    fake = fake_endpoint(lambda b, n, h: (200, "<html>a login page</html>"))
    wd = tmp_path / "ws"
    shutil.copytree(lecture_media, wd)
    res = v2a("run", src_of(wd), "--workdir", str(wd), "-q",
              "--llm-base-url", fake.base_url, "--model", "m", "--chapters", "model",
              cwd=tmp_path, timeout=300)
    line = one_line(res)
    assert res.returncode == 1 and "not with a chat completion" in line


def test_titles_cannot_put_markup_or_escape_codes_on_the_terminal(tmp_path, lecture_audio):
    evil = "[bold red]Boom[/] \x1b[2J\x1b]0;pwned\x07 talk"
    res = v2a("transcribe", str(lecture_audio.video), "--workdir", str(tmp_path / "w"),
              "--title", evil, cwd=tmp_path, timeout=600,
              env={**os.environ, "COLUMNS": "200", "TERM": "xterm"})
    assert res.returncode == 0, res.stderr
    assert "\x1b[2J" not in res.stderr and "\x1b]0;" not in res.stderr
    assert "[bold red]Boom[/]" in res.stderr  # shown as the text it is


def test_ctrl_c_stops_at_once_and_run_json_says_so(tmp_path, lecture_media, fake_endpoint):
    """Ctrl-C during the write stage returns promptly (queued chapters are not written first),
    with exit code 130, and run.json records the interruption."""
    import shutil
    import threading

    gate = threading.Event()

    def slow(body, n, headers):
        gate.wait(30)  # every call hangs until the test is over
        return 200, chat_reply("Some prose.")

    fake = fake_endpoint(slow)
    wd = tmp_path / "ws"
    shutil.copytree(lecture_media, wd)
    p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run",
                          src_of(wd), "--workdir", str(wd), "-q",
                          "--llm-base-url", fake.base_url, "--model", "m", "--chapters", "code",
                          "--llm-concurrency", "2"], stderr=subprocess.PIPE, text=True,
                         cwd=tmp_path, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                         signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while len(fake.bodies) < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert fake.bodies, "no LLM call was made"
        p.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        _, err = p.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        gate.set()
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130 and took < 10, (p.returncode, took, err)
    assert "Traceback" not in err and "interrupted" in err
    report = RunReport.model_validate_json((wd / "run.json").read_text())
    assert not report.ok and report.error and "interrupted" in report.error


def test_sigterm_writes_run_json_too(tmp_path, lecture_audio):
    p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "transcribe",
                          str(lecture_audio.video), "--workdir", str(tmp_path / "w"), "-q",
                          "--force", "transcribe"], stderr=subprocess.PIPE, text=True,
                         cwd=tmp_path)
    time.sleep(4)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143 and "terminated" in err and "Traceback" not in err
    report = json.loads((tmp_path / "w" / "run.json").read_text())
    assert report["ok"] is False


def test_a_silent_video_gets_a_page_of_its_keyframes(tmp_path):
    """No speech: no LLM call, exit 0, and a page saying so with what was on screen."""
    import subprocess as sp

    video = tmp_path / "silent.mp4"
    sp.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:d=12",
            "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "12", "-c:v", "libx264",
            "-pix_fmt", "yuv420p", "-c:a", "aac", str(video)], check=True)
    res = v2a("run", str(video), "--workdir", str(tmp_path / "w"), "-q", "--ocr", "none",
              cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "w" / "article.md").read_text()
    assert "No speech was found in this video" in md and "keyframes/" in md
    assert "no speech" in res.stderr and "LLM:" not in res.stderr


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists() or not site_available(),
                    reason="needs Debian chromium and mkdocs-material")
def test_script_in_feed_titles_never_runs_in_the_batch_site(tmp_path):
    """A playlist's or entry's title with <script> or an event handler is text on every page
    of the built site, in real Chromium."""
    from playwright.sync_api import sync_playwright

    root = tmp_path / "batch"
    evil = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    ws = synthetic_workdir(root / "videos" / "talk-1", title=f"Talk {evil}")
    run_stage(context(ws), "render")
    state = BatchState(input="feed", playlist_id="p", title=f"Feed {evil}",
                       entries={"a": EntryState(key="a", index=1, id="a", title=f"Entry {evil}",
                                                url="https://x/a.mp4", status="done",
                                                workdir="videos/talk-1")})
    res = build_site(root, state)
    pages = [res.index] + [root / "site" / p.parent.name / "index.html" for p in res.pages]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        try:
            page = browser.new_page()
            for f in pages:
                page.goto(f.as_uri())
                page.wait_for_load_state("load")
                assert page.evaluate("window.__pwned") is None, f
                assert "<script>" in page.locator("body").inner_text() or "Feed" in page.title()
        finally:
            browser.close()


def test_a_key_in_the_base_url_never_reaches_the_saved_config(tmp_path):
    from v2a.pipeline import save_config, saved_config
    from v2a.workspace import Workspace

    ws = Workspace(tmp_path / "w").ensure()
    save_config(ws, Config(llm_base_url="http://user:s3cret@127.0.0.1:9/v1?key=s3cret"))
    assert "s3cret" not in ws.config_path.read_text() and saved_config(ws).llm_base_url is None
    save_config(ws, Config(llm_base_url="http://127.0.0.1:9/v1"))
    assert saved_config(ws).llm_base_url == "http://127.0.0.1:9/v1"


# --- round 2 (issue 25): each failure the independent probe found, kept fixed -----------------


def _backend(base_url: str, **kw):
    from v2a.llm.providers.openai_client import OpenAIBackend

    return OpenAIBackend(base_url=base_url, api_key="k", model="m", cache_id="x",
                         **{"retries": 0, "timeout": 5.0, **kw})


@pytest.mark.parametrize("body, stream, needle", [
    (b'data: {"choices": "x"}\n\n', True, "choices"),
    (b'data: {"choices": [{"delta": "oops"}]}\n\n', True, "delta"),
    (b"data: hello\n\n", True, "not JSON"),
    (b'"not a completion"', False, "JSON string"),
    (b'{"choices": [{"message": {"content": 5}}]}', False, "content"),
])
def test_a_malformed_reply_is_one_endpoint_error(body, stream, needle):
    from tests.fixtures.raw_endpoint import Answer, RawEndpoint
    from v2a.llm.base import EndpointError

    ep = RawEndpoint(Answer(body, content_type="text/event-stream" if stream
                            else "application/json", chunked=stream))
    llm = _backend(ep.base_url)
    llm.stream = "usage" if stream else "off"
    try:
        with pytest.raises(EndpointError) as ei:
            llm.raw([{"role": "user", "content": "hi"}], schema=None, max_tokens=5,
                    temperature=0)
    finally:
        ep.close()
    msg = str(ei.value)
    assert "malformed" in msg and needle in msg and "\n" not in msg


def test_a_malformed_stream_in_the_write_stage_is_one_line(tmp_path, lecture_media):
    import shutil

    from tests.fixtures.raw_endpoint import RawEndpoint, stream_answer

    ep = RawEndpoint(stream_answer(b'data: {"choices": [{"delta": "oops"}]}\n\n'))
    wd = tmp_path / "ws"
    shutil.copytree(lecture_media, wd)
    try:
        res = v2a("run", src_of(wd), "--workdir", str(wd), "-q", "--llm-base-url", ep.base_url,
                  "--model", "m", "--chapters", "code", cwd=tmp_path, timeout=300)
    finally:
        ep.close()
    line = one_line(res)
    assert res.returncode == 1 and "malformed chat completion stream" in line


def test_an_invalid_language_tag_is_refused(tmp_path):
    res = v2a("run", "x.mp4", "--lang", "xx-invalid", cwd=tmp_path)
    line = one_line(res)
    assert res.returncode == 2 and "--lang 'xx-invalid' is not a language tag" in line
    assert Config(article_language="pt_br").article_language == "pt-BR"
    for bad in ("x-foo", "und", "english", "en-"):
        with pytest.raises(ValueError):
            Config(article_language=bad)


def test_a_hung_endpoint_is_given_up_on_time_and_the_tries_are_counted(monkeypatch):
    """Each try waits ``timeout`` for bytes; no try starts that could not end within twice the
    timeout plus the slack, and the message counts the tries really made."""
    from tests.fixtures.raw_endpoint import Answer, RawEndpoint
    from v2a.llm import retry
    from v2a.llm.providers import openai_client

    for name in ("INITIAL_WAIT_S", "MAX_WAIT_S", "JITTER_S"):
        monkeypatch.setattr(retry, name, 0.0)
    monkeypatch.setattr(openai_client, "DEADLINE_SLACK_S", 0.5)
    ep = RawEndpoint(Answer(b"{}", hang_s=30))
    llm = _backend(ep.base_url, retries=4, timeout=1.0)
    t0 = time.monotonic()
    try:
        with pytest.raises(Exception) as ei:
            llm.raw([{"role": "user", "content": "hi"}], schema=None, max_tokens=5,
                    temperature=0)
    finally:
        ep.server.shutdown()
    took = time.monotonic() - t0
    # 2 tries fit in 2 x 1 s + 0.5 s; a third could not have ended by then
    assert ep.calls == 2 and took < 2.5 + 1.0, (ep.calls, took)
    assert "timed out" in str(ei.value) and "after 2 tries" in str(ei.value)


def test_the_retry_policy_starts_no_try_past_its_deadline(monkeypatch):
    from v2a.llm import retry

    for name in ("INITIAL_WAIT_S", "MAX_WAIT_S", "JITTER_S"):
        monkeypatch.setattr(retry, name, 0.0)
    tries = []

    def slow():
        tries.append(1)
        time.sleep(0.3)
        raise TimeoutError("hung")

    r = retry.retrying(9, lambda e: isinstance(e, TimeoutError), deadline_s=1.0, try_s=0.3)
    with pytest.raises(TimeoutError):
        for attempt in r:
            with attempt:
                slow()
    assert len(tries) == 3 and retry.tries_made(r) == 3


def test_a_review_save_on_a_full_disk_is_a_clear_507_and_not_called_saved(tmp_path,
                                                                         monkeypatch):
    import errno

    from tests.fixtures.review import call, served
    from v2a.edits import store
    from v2a.errors import V2AError
    from v2a.review.command import goodbye

    ws = synthetic_workdir(tmp_path / "w")
    real = store.write_json

    def full(path, obj):  # what a full disk does to the atomic write
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with served(ws.root) as (s, hub):
        vid = next(iter(hub.videos))
        put = f"/api/v/{vid}/sections/0"
        monkeypatch.setattr(store, "write_json", full)
        status, body = call(s, "PUT", put, {"rev": 0, "title": "Lost?"})
        assert status == 507 and isinstance(body, dict)
        assert "NOT saved" in body["error"] and "no space left" in body["error"]
        assert "Traceback" not in json.dumps(body) and not ws.path("review.json").exists()
        assert put in hub.unsaved
        with pytest.raises(V2AError, match=r"1 change\(s\) could NOT be saved"):
            goodbye(hub)
        monkeypatch.setattr(store, "write_json", real)  # space freed: the editor saves again
        status, body = call(s, "PUT", put, {"rev": 0, "title": "Kept"})
        assert status == 200 and not hub.unsaved
        goodbye(hub)  # now true: everything is saved


def test_the_review_banner_strips_escape_sequences_from_the_title(tmp_path):
    ws = synthetic_workdir(tmp_path / "w", title="\x1b[31mRed\x1b[0m \x1b]8;;http://x\x1b\\link"
                                                 "\x1b]8;;\x1b\\ talk")
    p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "review", str(ws.root),
                          "--no-browser", "--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, cwd=tmp_path, env={**os.environ,
                                                                      "TERM": "xterm"})
    out = b""
    try:
        deadline = time.monotonic() + 60
        while b"Ctrl-C stops" not in out and time.monotonic() < deadline:
            out += os.read(p.stdout.fileno(), 4096)
        p.send_signal(signal.SIGINT)
        try:
            rest, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"Ctrl-C did not stop `v2a review` in 30 s; it printed {out!r}")
        out += rest
    finally:
        if p.poll() is None:
            p.kill()
    text = out.decode()
    assert "Red" in text and "link talk" in text, text
    assert "\x1b" not in text, repr(text)
    assert p.returncode == 0 and "everything is saved" in text


def test_a_partial_article_exits_3(tmp_path, lecture_media, fake_endpoint):
    """Chapters that could not be written (HTTP 500 on their calls): the article is there,
    with their transcript, and the exit code tells a caller it is not complete."""
    import shutil

    def reply(body, n, headers):
        if body.get("response_format"):  # the outline: the chapter names
            return 200, chat_reply(json.dumps({"title": "Tokens", "summary": "Said."}))
        return 500, {"error": {"message": "overloaded"}}

    fake = fake_endpoint(reply)
    wd = tmp_path / "ws"
    shutil.copytree(lecture_media, wd)
    res = v2a("run", src_of(wd), "--workdir", str(wd), "-q", "--llm-base-url", fake.base_url,
              "--model", "m", "--chapters", "code", "--llm-retries", "0", cwd=tmp_path,
              timeout=300)
    assert res.returncode == 3, res.stderr
    assert "partial article" in res.stderr and "Traceback" not in res.stderr
    assert (wd / "article.md").exists()


def test_the_batch_plan_says_which_llm_costs_nothing(tmp_path, lecture_audio):
    """An endpoint on this machine is not "the local model" (the probe's note)."""
    listing = tmp_path / "list.txt"
    listing.write_text(f"{lecture_audio.video}\n")
    res = v2a("batch", str(listing), "--dry-run", "--out", str(tmp_path / "out"),
              "--llm-base-url", "http://127.0.0.1:9/v1", "--model", "m", cwd=tmp_path,
              env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert "no cost (an endpoint on this machine)" in out and "local model" not in out


def test_the_batch_output_and_state_say_what_ran_it():
    from v2a.batch.command import describe_ran_on, ran_on

    class RayRunner:
        def __init__(self):
            self.cluster = {"nodes": 3, "cpus": 24.0, "gpus": 1, "media_workers": 6,
                            "llm_workers": 2, "address": "10.0.0.5:6379"}

    facts = ran_on(Config(batch_engine="ray", ray_address="auto"), RayRunner(), None, 2)
    assert facts["engine"] == "ray" and facts["nodes"] == 3
    assert facts["address"] == "10.0.0.5:6379"  # where Ray really was, not "auto"
    line = describe_ran_on(facts)
    assert "Ray cluster at 10.0.0.5:6379: 3 node(s), 24 CPUs, 1 GPUs" in line
    own = ran_on(Config(batch_engine="ray"), RayRunner(), None, 2)
    if not os.environ.get("RAY_ADDRESS"):
        assert "(started for this batch)" in describe_ran_on(own)
    local = ran_on(Config(), object(), None, 1)
    assert describe_ran_on(local).startswith("local engine on this machine")
    from v2a.batch.state import BatchState

    st = BatchState(input="x", playlist_id="p", title="t", ran_on=facts)
    assert BatchState.model_validate_json(st.model_dump_json()).ran_on == facts


def test_a_query_in_the_base_url_goes_after_the_path(monkeypatch):
    """?key=… in --llm-base-url went into the middle of the URL (/v1/?key=…chat/completions)."""
    from tests.fixtures.raw_endpoint import RawEndpoint, sse, stream_answer

    ep = RawEndpoint(stream_answer(sse({"choices": [{"delta": {"content": "hi"}}]})))
    try:
        c = _backend(ep.base_url + "?key=k1&api-version=2").raw(
            [{"role": "user", "content": "hi"}], schema=None, max_tokens=5, temperature=0)
    finally:
        ep.close()
    assert c.text == "hi"
    assert ep.seen[-1][0] == "/v1/chat/completions?key=k1&api-version=2"


def test_a_password_in_the_url_and_a_key_cannot_both_authenticate(monkeypatch, tmp_path):
    from v2a.llm.base import EndpointError
    from v2a.llm.open import open_now
    from v2a.progress import NullProgress

    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    cfg = Config(llm_base_url="http://u:p4ss@127.0.0.1:9/v1", llm_model="m")
    with pytest.raises(EndpointError, match=r"only one can authenticate") as ei:
        open_now(cfg, NullProgress())
    assert "p4ss" not in str(ei.value) and "sk-abc" not in str(ei.value)
