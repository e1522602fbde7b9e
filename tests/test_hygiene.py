"""Process hygiene: the whole pipeline runs as a background job of a real terminal (a pty), and
under ``timeout`` (which puts the command in a process group of its own), without any child
process reading or reconfiguring the terminal — which would stop the job for good
(SIGTTIN/SIGTTOU: "Stopped (tty output)")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fixtures.raw_endpoint import Answer, RawEndpoint, sse, stream_answer

ROOT = Path(__file__).resolve().parent.parent

# The session leader of the pty: starts the command as a background job (or under `timeout`),
# and watches every process of its session; a stopped one ('T') is the failure looked for.
LEADER = r"""
import json, os, signal, subprocess, sys, termios, time
out, mode, *cmd = sys.argv[1:]
attrs = termios.tcgetattr(0)
attrs[3] &= ~termios.TOSTOP  # as on a usual terminal: background output is allowed
termios.tcsetattr(0, termios.TCSANOW, attrs)
if mode == "background":
    p = subprocess.Popen(cmd, process_group=0)  # like `cmd &` in an interactive shell
else:
    p = subprocess.Popen(["timeout", "300", *cmd])  # no --foreground: its own group
sid, stopped, deadline = os.getsid(0), [], time.monotonic() + 360
while p.poll() is None and time.monotonic() < deadline and not stopped:
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            cmdline = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] == "T":
            stopped.append(cmdline.strip()[:200])
    time.sleep(0.3)
if p.poll() is None:
    os.killpg(os.getpgid(p.pid), signal.SIGKILL)
    p.wait()
json.dump({"rc": p.returncode, "stopped": stopped}, open(out, "w"))
"""


def under_pty(tmp_path: Path, mode: str, cmd: list[str], name: str) -> dict:
    """Run ``cmd`` in a new session whose controlling terminal is a fresh pty."""
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()
    out = tmp_path / f"{name}.json"

    def controlling_tty():  # in the child, after setsid: the pty becomes its terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    leader = subprocess.Popen([sys.executable, "-c", LEADER, str(out), mode, *cmd],
                              stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path,
                              start_new_session=True, preexec_fn=controlling_tty)
    os.close(slave)
    seen = bytearray()

    def drain():  # a pty whose output nobody reads blocks its writers
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            seen.extend(data)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    try:
        leader.wait(timeout=420)
    finally:
        if leader.poll() is None:
            leader.kill()
        os.close(master)
    res = json.loads(out.read_text())
    res["output"] = seen.decode("utf-8", "replace")[-2000:]
    return res


def test_the_watcher_sees_a_child_that_takes_the_terminal(tmp_path):
    """The check itself: ffmpeg started with the terminal as its input (as PySceneDetect's
    probe did) is stopped in the background, and seen."""
    probe = [sys.executable, "-c", "import subprocess, time; "
             "subprocess.call(['ffmpeg', '-v', 'quiet', '-f', 'lavfi', '-i', "
             "'sine=d=20', '-f', 'null', '-'])"]
    res = under_pty(tmp_path, "background", probe, "probe")
    assert res["stopped"] and "ffmpeg" in " ".join(res["stopped"]), res


def _answer(body: dict) -> Answer:
    """A plausible reply of the shape asked for (the LLM is not what is tested here)."""
    fmt = body.get("response_format") or {}
    props = ((fmt.get("json_schema") or {}).get("schema") or fmt.get("schema") or {}).get(
        "properties", {})
    text = "Some prose about what the speaker says."
    if props:
        reply: dict = {"title": "Tokens"}
        if "summary" in props:
            reply["summary"] = "Said."
        if "chapters" in props:
            reply["chapters"] = [{"start": 0, "title": "T", "summary": "S"}]
        text = json.dumps(reply)
    event = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}],
             "model": "m"}
    return stream_answer(sse(event))


@pytest.mark.parametrize("mode", ["background", "timeout"])
def test_the_whole_pipeline_never_takes_the_terminal(tmp_path, lecture, mode):
    ep = RawEndpoint(_answer)
    try:
        cmd = [sys.executable, str(ROOT / "cli.py"), "run", str(lecture.video), "--workdir",
               str(tmp_path / "w"), "--ocr", "none", "--llm-base-url", ep.base_url,
               "--model", "m", "--chapters", "code"]
        res = under_pty(tmp_path, mode, cmd, mode)
    finally:
        ep.close()
    assert not res["stopped"], res
    assert res["rc"] == 0, res["output"]
    assert (tmp_path / "w" / "article.md").exists()
