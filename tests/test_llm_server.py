"""The embedded server: a real completion on this machine's CPU, start/serve/stop, no orphan
after close, Ctrl-C, SIGTERM or a crash of v2a, and one clear line (signal or exit code, the
log's telling lines, what to try) when it cannot start or dies while answering."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from v2a.config import Config
from v2a.errors import LLMError
from v2a.llm.local.base import LocalServer, telling_lines
from v2a.registry import LOCAL_SERVERS

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


def test_embedded_server_answers_a_real_completion_on_this_cpu(llm_server):
    """The packaged model answers through the default server on whatever CPU runs the suite
    (AVX2 laptops, AVX-512/AMX servers): a build that assumes another CPU fails here."""
    srv = llm_server.server
    assert llm_server.kind == "xllamacpp" and srv.alive
    assert llm_server.base_url.startswith("http://127.0.0.1:")
    c = llm_server.llm.complete([{"role": "user", "content": "Reply with the word: ready"}],
                                max_tokens=8, temperature=0)
    assert "ready" in c.text.lower() and c.usage.completion_tokens > 0
    assert srv.log_path.parent == Config().cache_dir / "logs" and srv.log_path.exists()
    # the build runs no host-specific kernels: its instruction set is the portable baseline
    log = srv.log_path.read_text("utf-8", errors="replace")
    build = next(ln for ln in log.splitlines() if ln.startswith("v2a: cpu "))
    assert "AVX2 = 1" in build
    assert "AVX512 = 1" not in build and "AMX_INT8 = 1" not in build


def test_embedded_server_lists_only_its_model_and_wants_its_key(llm_server):
    base = llm_server.base_url
    with pytest.raises(urllib.error.HTTPError) as ei:  # loopback is shared: a key guards it
        urllib.request.urlopen(f"{base}/models", timeout=10)
    assert ei.value.code == 401
    req = urllib.request.Request(f"{base}/models",
                                 headers={"Authorization": f"Bearer {llm_server.server.api_key}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        ids = [m["id"] for m in json.load(r)["data"]]
    assert ids == ["qwen2.5-coder-1.5b"]
    assert llm_server.server.api_key not in llm_server.server.log_path.read_text("utf-8")


CHILD = textwrap.dedent("""
    import sys, time
    from v2a.config import Config
    from v2a.llm.open import open_llm
    h = open_llm(Config(local_ctx=512))
    try:  # the pid is printed inside: a signal sent as soon as it is read lands in the try
        print(h.server.proc.pid, flush=True)
        time.sleep(600)
    finally:
        h.close()
""")


@pytest.mark.parametrize("how", ["close", "ctrl-c", "sigterm", "sigkill"])
def test_no_orphan_server(how, tmp_path):
    """However v2a ends, its server goes too (SIGKILL: the kernel's parent-death signal)."""
    code = CHILD if how != "close" else CHILD.replace("time.sleep(600)", "pass")
    # a child inherits an ignored SIGINT (e.g. from a runner started in the background), and
    # Python then never raises KeyboardInterrupt: give it the default handling back
    restore = (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if how == "ctrl-c" else None
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             stderr=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent,
                             preexec_fn=restore)
    try:
        pid = int(child.stdout.readline())
        if how == "ctrl-c":
            child.send_signal(signal.SIGINT)
        elif how == "sigterm":
            child.send_signal(signal.SIGTERM)
        elif how == "sigkill":
            child.kill()
        child.wait(60)
        assert _wait_gone(pid), f"server {pid} outlived v2a ({how})"
    finally:
        if child.poll() is None:
            child.kill()


def test_server_that_cannot_load_its_model_says_why(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\0\0\0" + b"\xff" * 64)  # header, then garbage
    srv = LocalServer(LOCAL_SERVERS.get("xllamacpp"), bad, "broken", n_ctx=256,
                      log_dir=tmp_path / "logs", ready_timeout=120)
    t0 = time.monotonic()
    with pytest.raises(LLMError) as ei:
        srv.start()
    msg = str(ei.value)
    assert msg.startswith("the embedded model server (xllamacpp) did not start: ")
    assert "exit code" in msg or "killed by SIG" in msg
    assert "log says: " in msg and "Try: " in msg and "--llm-base-url" in msg
    assert f"full log: {srv.log_path}" in msg and "\n" not in msg
    assert time.monotonic() - t0 < 60 and not srv.alive


def test_server_killed_while_answering_is_reported_at_once_with_its_signal(tmp_path):
    """A crash in native code mid-call (SIGSEGV here, as the AMX crash was) is reported within
    seconds, with the signal and what to try; it is not retried as if it were transient."""
    from v2a.llm.open import open_llm

    h = open_llm(Config(local_ctx=512, llm_retries=4))
    try:
        pid = h.server.pid
        killer = threading.Timer(1.0, os.kill, (pid, signal.SIGSEGV))
        killer.start()
        t0 = time.monotonic()
        with pytest.raises(LLMError) as ei:
            h.llm.complete([{"role": "user", "content": "Count from 1 to 300, one per line."}],
                           max_tokens=600, temperature=0)
        elapsed = time.monotonic() - t0
    finally:
        h.close()
    msg = str(ei.value)
    assert "(xllamacpp) stopped while answering: killed by SIGSEGV" in msg, msg
    assert "Try: " in msg and "\n" not in msg
    assert elapsed < 15, f"reported after {elapsed:.0f} s"


def test_telling_lines_prefer_errors_over_chatter():
    log = "loading model\nprint_info: n_vocab = 151936\nerror: tensor data out of bounds\n" \
          "llama_model_load: failed to load model\nsrv init: exiting\n"
    assert telling_lines(log) == ["error: tensor data out of bounds",
                                  "llama_model_load: failed to load model"]
    assert telling_lines("only chatter\nmore chatter\n") == ["only chatter", "more chatter"]
