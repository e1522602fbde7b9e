"""The embedded server: real start/serve/stop, no orphan after close, Ctrl-C, SIGTERM or a
crash of v2a, and a clear error with the log tail when it cannot start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from v2a.config import Config
from v2a.errors import LLMError
from v2a.llm.server import LocalServer

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


def test_embedded_server_serves_the_packaged_model(llm_server):
    srv = llm_server.server
    assert llm_server.kind == "llama-cpp-python" and srv.alive
    assert llm_server.base_url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{llm_server.base_url}/models", timeout=10) as r:
        ids = [m["id"] for m in json.load(r)["data"]]
    assert ids == ["qwen2.5-coder-1.5b"]
    assert srv.log_path.parent == Config().cache_dir / "logs" and srv.log_path.exists()
    cmd = Path(f"/proc/{srv.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert b"--logits_all" in cmd and cmd[cmd.index(b"--logits_all") + 1] == b"false"
    assert cmd[cmd.index(b"--n_threads") + 1] == str(os.cpu_count()).encode()


CHILD = textwrap.dedent("""
    import sys, time
    from v2a.config import Config
    from v2a.llm.client import open_llm
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


def test_server_that_dies_gives_log_tail(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\0\0\0" + b"\xff" * 64)  # header, then garbage
    srv = LocalServer("llama-cpp-python", bad, "broken", n_ctx=256, log_dir=tmp_path / "logs",
                      ready_timeout=120)
    t0 = time.monotonic()
    with pytest.raises(LLMError) as ei:
        srv.start()
    msg = str(ei.value)
    assert msg.startswith("the embedded model server (llama-cpp-python) did not start: ")
    assert "log: " in msg and "\n" not in msg
    assert time.monotonic() - t0 < 60 and not srv.alive
