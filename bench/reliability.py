"""The reliability and security battery: bad inputs, faults in every stage, damaged artifacts,
endpoint misbehaviour, concurrent runs, script in every outside text, secrets.

    .venv/bin/python -m bench.reliability [--only NAME ...]

Every case runs the real CLI (``cli.py``) as a user would and records: the exit code, the
message (the last stderr line), whether that was one clear line (no traceback), and what was
lost or left behind — a finished stage that had to run again, temporary files, processes of
the embedded server still alive, files written outside the work folder. Endpoint faults come
from a scripted loopback server (error handling is what is tested); the LLM-server-killed case
uses the real embedded model. Writes bench/results/reliability.json.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"
SECRET = "sk-test-DO-NOT-PRINT-4242"
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@dataclass
class Case:
    name: str
    kind: str  # usage | input | artifact | endpoint | signal | disk | concurrency | security
    expect: str  # what a good outcome is, in words
    rc: int | None = None
    message: str = ""
    one_line: bool = False
    traceback: bool = False
    lost: list[str] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    ok: bool = False
    wall_s: float = 0.0


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 600
        ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env={**os.environ, **(env or {})})


def describe(case: Case, res, started: float) -> None:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    case.rc = res.returncode
    case.traceback = "Traceback" in res.stderr
    errors = [ln for ln in lines if ln.startswith(("error:", "interrupted", "terminated"))]
    case.message = (errors or lines or [""])[-1][:300]
    case.one_line = len(errors) == 1 and not case.traceback
    case.wall_s = round(time.monotonic() - started, 1)


def server_pids(under: Path | None = None) -> set[int]:
    """Embedded-server processes (started from ``under``, when given: other work on the
    machine has servers of its own)."""
    out = set()
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ")
                cwd = os.readlink(p / "cwd")
            except OSError:
                continue
            if (b"xllamacpp_child" in cmd or b"llama_cpp.server" in cmd) and (
                    under is None or cwd.startswith(str(under))):
                out.add(int(p.name))
    return out


def leftovers(wd: Path) -> list[str]:
    return [str(p.relative_to(wd)) for p in wd.rglob("*.tmp")]


# --- a scripted endpoint (for faults only) ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MALFORMED = {
    "choices not a list": (b'data: {"choices": "x"}\n\n', "text/event-stream"),
    "delta not an object": (b'data: {"choices": [{"delta": "oops"}]}\n\n', "text/event-stream"),
    "event not JSON": (b"data: hello\n\n", "text/event-stream"),
    "bare string": (b'"not a completion"', "application/json"),
}


def _ok_port() -> int:
    """The "ok" endpoint always listens on one port, kept beside the cached base folder: its
    LLM stages were keyed on that URL, and a case run against another URL would re-run them
    (and overwrite the damaged artifact it tests) — as when another process made the base."""
    saved = CACHE / "reliability-ok-port"
    if saved.exists():
        port = int(saved.read_text())
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                pass
    shutil.rmtree(CACHE / "reliability-base", ignore_errors=True)  # keyed on an unknown port
    port = _free_port()
    CACHE.mkdir(parents=True, exist_ok=True)
    saved.write_text(str(port))
    return port


OK_PORT = _ok_port()


class Endpoint:
    def __init__(self, behaviour: str, same_url: bool = False):
        self.behaviour, self.calls = behaviour, 0
        self.paths: list[str] = []
        ep = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                self._json(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                ep.calls += 1
                ep.paths.append(self.path)
                b = ep.behaviour
                if b in MALFORMED:  # what the probe of round 2 sent (a 98-line traceback then)
                    if b == "bare string" and body.get("stream"):
                        return self._json(400, {"error": {"message": "stream not supported"}})
                    data, ctype = MALFORMED[b]
                    self.send_response(200)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    return self.wfile.write(data)
                if b == "prose fails" and not body.get("response_format"):
                    return self._json(500, {"error": {"message": "overloaded"}})
                if b == "429":
                    return self._json(429, {"error": {"message": "slow down"}})
                if b == "500":
                    return self._json(500, {"error": {"message": "boom"}})
                if b == "401":
                    return self._json(401, {"error": {"message": "bad key"}})
                if b == "garbage":
                    data = b"<html><body>Please log in</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    return self.wfile.write(data)
                if b == "hang":
                    time.sleep(3600)
                text = "Some prose about tokens."
                if b == "xss":
                    text = (f"We talk. {XSS} A [link](javascript:alert(1)) and "
                            "[another](jav&#x61;script:alert(2)).")
                fmt = body.get("response_format") or {}
                props = ((fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
                         or {}).get("properties", {})
                if props:  # answer in the shape asked for
                    reply = {"title": f"Tokens {XSS}" if b == "xss" else "Tokens"}
                    if "summary" in props:
                        reply["summary"] = "Said."
                    if "chapters" in props:
                        reply["chapters"] = [{"start": 0, "title": "T", "summary": "S"}]
                    text = json.dumps(reply)
                self._stream(text, slow=b == "drip")

            def _json(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text: str, slow: bool):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                base = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
                words = text.split(" ")
                events = [{**base, "choices": [{"index": 0, "delta": {"content": (" " if i else "")
                                                                      + w}, "finish_reason": None}]}
                          for i, w in enumerate(words)]
                events.append({**base, "choices": [{"index": 0, "delta": {},
                                                    "finish_reason": "stop"}]})
                try:
                    for e in events:
                        data = f"data: {json.dumps(e)}\n\n".encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                        if slow:
                            time.sleep(0.5)
                    done = b"data: [DONE]\n\n"
                    self.wfile.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
                except OSError:
                    pass

        class S(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, *a):
                pass

        self.server = S(("127.0.0.1", OK_PORT if behaviour == "ok" or same_url else 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- fixtures -----------------------------------------------------------------------------------


def base_folder(tmp: Path) -> tuple[Path, Path]:
    """A sample lecture and a finished work folder of it (copied per case); its LLM stages were
    written by the scripted endpoint, so every artifact exists."""
    from v2a.samples import make_lecture

    video = CACHE / "reliability-lecture.mp4"
    if not video.exists():
        make_lecture(video)
    wd = CACHE / "reliability-base"
    if not (wd / "article.md").exists():
        ep = Endpoint("ok")
        try:
            res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url", ep.url,
                      "--model", "m", "--chapters", "code", cwd=tmp)
        finally:
            ep.close()
        if not (wd / "article.md").exists():
            sys.exit(f"could not prepare the base folder: {res.stderr[-500:]}")
    return video, wd


def fresh(wd: Path, tmp: Path, name: str) -> Path:
    dst = tmp / name
    shutil.copytree(wd, dst, ignore=shutil.ignore_patterns("run.lock"))
    return dst


# --- the battery --------------------------------------------------------------------------------


def run_battery(only: set[str] | None) -> list[Case]:
    tmp = Path(tempfile.mkdtemp(prefix="v2a-reliability-"))
    video, base = base_folder(tmp)
    cases: list[Case] = []

    def case(name: str, kind: str, expect: str):
        def deco(fn):
            if only and name not in only:
                return fn
            c = Case(name, kind, expect)
            before = server_pids(tmp)
            t0 = time.monotonic()
            try:
                fn(c, t0)
            except Exception as exc:  # noqa: BLE001 - a case that cannot run is recorded
                c.message = f"(the case itself failed: {type(exc).__name__}: {exc})"
                c.ok = False
            after = server_pids(tmp) - before
            time.sleep(0.5)
            alive = [p for p in after if Path(f"/proc/{p}").exists()]
            if alive:
                c.left_behind.append(f"server processes {alive}")
                c.ok = False
            print(f"{'ok ' if c.ok else 'BAD'} {name}: rc={c.rc} {c.message[:140]}", flush=True)
            cases.append(c)
            return fn
        return deco

    usage = [("bad choice", ["run", "x.mp4", "--asr", "sometimes"]),
             ("zero concurrency", ["run", "x.mp4", "--llm-concurrency", "0"]),
             ("not a number", ["run", "x.mp4", "--scene-threshold", "abc"]),
             ("unknown stage", ["run", "x.mp4", "--force", "bogus"]),
             ("unknown option", ["run", "x.mp4", "--bogus"]),
             ("unknown command", ["bogus"]), ("missing argument", ["run"]),
             ("unknown local server", ["run", "x.mp4", "--local-server", "nope"]),
             ("unknown output format", ["run", "x.mp4", "--format", "pdf"])]
    for name, args in usage:
        @case(f"usage: {name}", "usage", "exit 2, one line naming the option and --help")
        def _(c, t0, args=args):
            res = cli(*args, cwd=tmp)
            describe(c, res, t0)
            c.ok = c.rc == 2 and c.one_line

    inputs = {"missing file": tmp / "nope.mp4", "directory": tmp}
    empty = tmp / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp / "notes.mp4"
    text.write_text("not a video at all\n")
    trunc = tmp / "truncated.mp4"
    trunc.write_bytes(video.read_bytes()[:20000])
    inputs |= {"empty file": empty, "text renamed .mp4": text, "truncated mp4": trunc}
    for name, path in inputs.items():
        @case(f"input: {name}", "input", "exit 1 or 2, one line saying what is wrong")
        def _(c, t0, path=path, name=name):
            res = cli("run", str(path), "--workdir", str(tmp / f"in-{name}"), "-q", cwd=tmp)
            describe(c, res, t0)
            c.ok = c.rc in (1, 2) and c.one_line

    damaged = {"source.json": "{", "transcript.json": '{"language": 5}',
               "scenes.json": "[]", "screen.json": '{"frames": "x"}',
               "outline.json": '{"method": "llm", "chapters": [', "chapters.json": "null"}
    for name, content in damaged.items():
        @case(f"artifact: damaged {name}", "artifact",
              "exit 1, one line naming the file, the field and the --force stage")
        def _(c, t0, name=name, content=content):
            wd = fresh(base, tmp, f"damaged-{name}")
            (wd / name).write_text(content)
            ep = Endpoint("ok")
            try:
                res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url",
                          ep.url, "--model", "m", "--chapters", "code", cwd=tmp)
            finally:
                ep.close()
            describe(c, res, t0)
            c.ok = c.rc in (1, 2) and c.one_line and name in c.message
            if (wd / name).read_text() != content:
                c.lost.append(f"{name} was overwritten")
                c.ok = False

    @case("artifact: chapter ends before it starts", "artifact", "exit 1, the chapter named")
    def _(c, t0):
        wd = fresh(base, tmp, "bad-times")
        ep = Endpoint("ok")
        try:
            cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url", ep.url,
                "--model", "m", "--chapters", "code", cwd=tmp)
            o = json.loads((wd / "outline.json").read_text())
            o["chapters"][0]["end"] = -5
            (wd / "outline.json").write_text(json.dumps(o))
            res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url", ep.url,
                      "--model", "m", "--chapters", "code", cwd=tmp)
        finally:
            ep.close()
        describe(c, res, t0)
        c.ok = c.rc == 1 and c.one_line and "before it starts" in c.message

    for behaviour, want in (("429", 1), ("500", 1), ("401", 1), ("garbage", 1), ("drip", 0),
                            ("hang", 1)):
        @case(f"endpoint: {behaviour}", "endpoint",
              "a clear line naming the endpoint (or success for a slow but working one), "
              "bounded retries")
        def _(c, t0, behaviour=behaviour, want=want):
            wd = fresh(base, tmp, f"ep-{behaviour}")
            ep = Endpoint(behaviour)
            try:
                res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url",
                          ep.url, "--model", "m", "--llm-retries", "2", "--llm-timeout", "4",
                          "--chapters", "code", cwd=tmp, env={"OPENAI_API_KEY": SECRET},
                          timeout=900)
            finally:
                ep.close()
            describe(c, res, t0)
            c.ok = c.rc == want and (want == 0 or c.one_line) and SECRET not in res.stderr
            if behaviour == "hang" and c.wall_s > 300:
                c.ok = False
                c.lost.append(f"waited {c.wall_s} s on a hung endpoint")
            said = re.search(r"after (\d+) tries", c.message)
            if said and int(said.group(1)) > ep.calls:  # round 2: "5 tries" when 3 were made
                c.ok = False
                c.lost.append(f"said {said.group(0)}, made {ep.calls} calls")

    for behaviour in MALFORMED:
        @case(f"endpoint: malformed reply ({behaviour})", "endpoint",
              "exit 1, one line saying the endpoint's reply is malformed (no traceback)")
        def _(c, t0, behaviour=behaviour):
            wd = fresh(base, tmp, f"ep-{behaviour.replace(' ', '-')}")
            ep = Endpoint(behaviour, same_url=True)
            try:
                res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url",
                          ep.url, "--model", "m-fault", "--chapters", "code", cwd=tmp)
            finally:
                ep.close()
            describe(c, res, t0)
            c.ok = c.rc == 1 and c.one_line and "chat completion" in c.message

    @case("endpoint: a query in the base URL", "endpoint",
          "exit 0; the query goes after /chat/completions; the key never printed")
    def _(c, t0):
        wd = fresh(base, tmp, "ep-query")
        ep = Endpoint("ok-query")
        try:
            res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url",
                      f"{ep.url}?key={SECRET}", "--model", "m", "--chapters", "code",
                      "--force", "write", cwd=tmp)
        finally:
            ep.close()
        describe(c, res, t0)
        good = [p for p in ep.paths if p == f"/v1/chat/completions?key={SECRET}"]
        c.ok = c.rc == 0 and bool(good) and len(good) == len(ep.paths) \
            and SECRET not in res.stderr + res.stdout
        if not c.ok:
            c.lost.append(f"paths: {sorted(set(ep.paths))[:3]}")

    @case("write: every chapter fails", "endpoint",
          "exit 3 (partial article), the article written with the transcript standing in")
    def _(c, t0):
        wd = fresh(base, tmp, "ep-prose-fails")
        ep = Endpoint("prose fails", same_url=True)
        try:
            res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url", ep.url,
                      "--model", "m-fault", "--chapters", "code", "--llm-retries", "0",
                      cwd=tmp)  # another model: no reply comes from the per-call cache
        finally:
            ep.close()
        describe(c, res, t0)
        c.message = (res.stderr.strip().splitlines() or [""])[-1][:300]
        c.ok = c.rc == 3 and not c.traceback and "partial article" in res.stderr \
            and (wd / "article.md").exists()

    @case("usage: invalid --lang", "usage", "exit 2, one line naming the tag")
    def _(c, t0):
        res = cli("run", str(video), "--lang", "xx-invalid", cwd=tmp)
        describe(c, res, t0)
        c.ok = c.rc == 2 and c.one_line and "xx-invalid" in c.message

    for mode in ("background", "timeout"):
        @case(f"terminal: the whole run as a {mode} job under a pty", "terminal",
              "finishes (exit 0); no process stopped for reading or setting the terminal")
        def _(c, t0, mode=mode):
            from tests.test_hygiene import under_pty

            wd = tmp / f"pty-{mode}"
            ep = Endpoint("ok")
            try:
                r = under_pty(tmp, mode, [sys.executable, str(ROOT / "cli.py"), "run",
                                          str(video), "--workdir", str(wd), "--llm-base-url",
                                          ep.url, "--model", "m", "--chapters", "code",
                                          "--ocr", "none"], f"pty-{mode}")
            finally:
                ep.close()
            c.rc, c.wall_s = r["rc"], round(time.monotonic() - t0, 1)
            c.message = f"stopped: {r['stopped']}" if r["stopped"] else "no process stopped"
            c.one_line = True
            c.ok = c.rc == 0 and not r["stopped"]

    @case("review: title with escape sequences in the banner", "security",
          "the banner shows the title's text, no escape sequence reaches the terminal")
    def _(c, t0):
        wd = fresh(base, tmp, "review-esc")
        src = json.loads((wd / "source.json").read_text())
        src["title"] = "\x1b[31mRed\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ talk"
        (wd / "source.json").write_text(json.dumps(src))
        out, rc = review_session(wd, tmp, lambda base_url, token: None)
        c.rc, c.message = rc, out.strip().splitlines()[0][:200] if out.strip() else ""
        c.one_line = "Traceback" not in out
        c.ok = rc == 0 and "\x1b" not in out and "Red link talk" in out

    @case("review: a save on a full disk", "disk",
          "the save is answered 507 with one line; Ctrl-C then exits 1 saying it was not saved")
    def _(c, t0):
        mnt = tmp / "review-small"
        mnt.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            c.message = f"(cannot mount a tmpfs here: {r.stderr.strip()})"
            return
        try:
            from tests.fixtures.render import synthetic_workdir

            ws = synthetic_workdir(mnt / "w")
            answers: list = []

            def fill_then_save(base_url: str, token: str) -> None:
                with open(mnt / "filler", "wb") as fh:  # the disk fills up while editing
                    try:
                        while True:
                            fh.write(b"\0" * 65536)
                            fh.flush()
                    except OSError:
                        pass
                answers.append(review_put(base_url, token, "/api/v/w/sections/0",
                                          {"rev": 0, "title": "An edit on a full disk"}))

            out, rc = review_session(ws.root, tmp, fill_then_save)
            status, body = answers[0] if answers else (None, "")
            c.rc = rc
            c.message = f"PUT {status}: {str(body)[:120]} | exit: {out.strip().splitlines()[-1][:150]}"
            c.traceback = "Traceback" in out + str(body)
            c.one_line = not c.traceback
            c.ok = status == 507 and rc == 1 and "NOT saved" in out and not c.traceback
        finally:
            subprocess.run(["umount", str(mnt)], capture_output=True)

    @case("batch: the plan for an endpoint on this machine", "usage",
          "the plan does not call a loopback endpoint 'the local model'")
    def _(c, t0):
        listing = tmp / "plan-list.txt"
        listing.write_text(f"{video}\n")
        res = cli("batch", str(listing), "--dry-run", "--out", str(tmp / "plan-out"),
                  "--llm-base-url", "http://127.0.0.1:9/v1", "--model", "m", cwd=tmp,
                  env={"COLUMNS": "200"})
        describe(c, res, t0)
        out = res.stdout + res.stderr
        c.message = next((ln.strip() for ln in out.splitlines() if "LLM estimate" in ln), "")
        c.one_line = not c.traceback
        c.ok = res.returncode == 0 and "an endpoint on this machine" in out \
            and "local model" not in out

    @case("secret: key in the base URL", "security", "the key never printed or stored")
    def _(c, t0):
        wd = fresh(base, tmp, "url-secret")
        res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url",
                  f"http://user:{SECRET}@127.0.0.1:9/v1?key={SECRET}", "--model", "m",
                  "--llm-retries", "0", cwd=tmp)
        describe(c, res, t0)
        stored = [str(p.relative_to(wd)) for p in wd.rglob("*") if p.is_file()
                  and p.stat().st_size < 5_000_000 and SECRET.encode() in p.read_bytes()]
        c.ok = c.rc == 1 and c.one_line and SECRET not in res.stderr + res.stdout and not stored
        if stored:
            c.left_behind.append(f"secret stored in {stored}")

    @case("security: script in title, transcript and LLM reply", "security",
          "article.html runs no outside script; article.md has no raw HTML or js: link")
    def _(c, t0):
        wd = fresh(base, tmp, "xss")
        tr = json.loads((wd / "transcript.json").read_text())
        tr["segments"][0]["text"] += " " + XSS
        (wd / "transcript.json").write_text(json.dumps(tr))
        ep = Endpoint("xss")
        try:
            res = cli("run", str(video), "--workdir", str(wd), "-q", "--llm-base-url", ep.url,
                      "--model", "m", "--chapters", "code", "--title", f"Talk {XSS}", cwd=tmp)
        finally:
            ep.close()
        describe(c, res, t0)
        md = (wd / "article.md").read_text() if (wd / "article.md").exists() else ""
        html = (wd / "article.html").read_text() if (wd / "article.html").exists() else ""
        # markup only counts where it is live: an escaped "&lt;img onerror=…" is text
        raw = [m for m in ("<script>window", "<img src=x onerror", "](javascript:",
                           "](jav&#x61;script:") if m in md]
        scripts = len(re.findall(r"<script\b", html))
        pwned = chromium_pwned(wd / "article.html")
        c.ok = c.rc == 0 and not raw and scripts <= 2 and pwned is None
        if raw or pwned is not None:
            c.left_behind.append(f"raw markup {raw}, window.__pwned={pwned}")

    for stage, sig in (("transcribe", signal.SIGINT), ("scenes", signal.SIGTERM),
                       ("transcribe", signal.SIGKILL), ("write", signal.SIGINT)):
        @case(f"signal: {sig.name} during {stage}", "signal",
              "stops promptly (130/143; -9 for SIGKILL); the next run resumes, redoing no "
              "finished stage")
        def _(c, t0, stage=stage, sig=sig):
            wd = tmp / f"sig-{stage}-{sig.name}"
            if stage == "write":
                shutil.copytree(base, wd)
            ep = Endpoint("drip")  # slow replies: the write stage is still running when hit
            args = ["run", str(video), "--workdir", str(wd), "-q", "--llm-base-url", ep.url,
                    "--model", "m", "--chapters", "code"]
            log = wd / ".v2a" / "stages.log"
            # the copied base folder's own log lists its stages as ran: only this run counts
            n_start = len(log.read_text().splitlines()) if log.exists() else 0
            p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=tmp,
                                 stderr=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and p.poll() is None:
                ran = "\n".join(log.read_text().splitlines()[n_start:]) if log.exists() else ""
                started = {"transcribe": '"stage": "screen", "action": "ran"',
                           "scenes": '"stage": "audio", "action": "ran"',
                           "write": '"stage": "outline", "action": "ran"'}[stage]
                if started in ran or (stage == "write" and ep.calls >= 6):
                    break
                time.sleep(0.2)
            time.sleep(1.0)
            finished_before = {json.loads(ln)["stage"] for ln in
                               log.read_text().splitlines()[n_start:]
                               if '"ran"' in ln} if log.exists() else set()
            p.send_signal(sig)
            t_sig = time.monotonic()
            try:
                _, err = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            took = time.monotonic() - t_sig
            c.rc = p.returncode
            c.traceback = "Traceback" in err
            c.message = (err.strip().splitlines() or [""])[-1][:300]
            c.one_line = not c.traceback
            n0 = len(log.read_text().splitlines()) if log.exists() else 0
            again = cli(*args, cwd=tmp, timeout=900)
            ep.close()
            new = [json.loads(ln) for ln in log.read_text().splitlines()[n0:]] \
                if log.exists() else []
            c.lost = sorted({e["stage"] for e in new if e["action"] == "ran"
                             and e["stage"] in finished_before})  # finished, yet redone
            expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[sig]
            c.ok = (c.rc == expected and not c.traceback and took < 15 and again.returncode == 0
                    and not leftovers(wd) and not c.lost)
            c.wall_s = round(time.monotonic() - t0, 1)
            if took >= 15:
                c.lost.append(f"took {took:.0f} s to stop")
            if leftovers(wd):
                c.left_behind += leftovers(wd)

    @case("concurrency: two runs on one folder", "concurrency",
          "the second is refused in one line; the first finishes")
    def _(c, t0):
        wd = fresh(base, tmp, "twice")
        ep = Endpoint("drip")
        args = ["run", str(video), "--workdir", str(wd), "-q", "--llm-base-url", ep.url,
                "--model", "m", "--chapters", "code"]
        first = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=tmp,
                                 stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        res = cli(*args, cwd=tmp)
        first.communicate(timeout=900)
        ep.close()
        describe(c, res, t0)
        c.ok = c.rc == 1 and c.one_line and "another v2a run" in c.message \
            and first.returncode == 0

    @case("disk: full during the first stages", "disk",
          "one line saying the disk is full; no half-written files")
    def _(c, t0):
        mnt = tmp / "small"
        mnt.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            c.message = f"(cannot mount a tmpfs here: {r.stderr.strip()})"
            return
        try:
            res = cli("run", str(video), "--workdir", str(mnt / "w"), "-q", "--llm-base-url",
                      "http://127.0.0.1:9/v1", "--model", "m", cwd=tmp)
            describe(c, res, t0)
            c.left_behind = leftovers(mnt)
            c.ok = c.rc == 1 and c.one_line and "no space left" in c.message.lower() \
                and not c.left_behind
        finally:
            subprocess.run(["umount", str(mnt)], capture_output=True)

    @case("llm server: killed while writing", "endpoint",
          "reported within seconds with its signal and what to try")
    def _(c, t0):
        wd = fresh(base, tmp, "server-killed")
        p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run", str(video),
                              "--workdir", str(wd), "-q", "--llm-retries", "4"], cwd=tmp,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not server_pids(tmp) and p.poll() is None:
            time.sleep(0.5)
        time.sleep(15)  # let it answer a call or two
        killed = time.monotonic()
        for pid in server_pids(tmp):
            os.kill(pid, signal.SIGKILL)
        _, err = p.communicate(timeout=600)
        took = time.monotonic() - killed
        c.rc, c.traceback = p.returncode, "Traceback" in err
        c.message = (err.strip().splitlines() or [""])[-1][:300]
        c.one_line = not c.traceback
        c.ok = c.rc == 1 and "SIGKILL" in c.message and took < 30
        c.wall_s = round(time.monotonic() - t0, 1)

    shutil.rmtree(tmp, ignore_errors=True)
    return cases


def review_session(wd: Path, tmp: Path, during) -> tuple[str, int]:
    """``v2a review`` on ``wd`` as a user runs it; ``during(base_url, token)`` runs while it
    serves, then Ctrl-C. Returns (everything it printed, exit code)."""
    token = "battery-token-1234"
    p = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "review", str(wd),
                          "--no-browser", "--port", "0", "--token", token],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp,
                         env={**os.environ, "TERM": "xterm", "COLUMNS": "200"})
    out = b""
    try:
        deadline = time.monotonic() + 60
        assert p.stdout is not None
        while b"Ctrl-C stops" not in out and time.monotonic() < deadline and p.poll() is None:
            out += os.read(p.stdout.fileno(), 4096)
        m = re.search(rb"(http://[0-9.]+:\d+)/", out)
        if m:
            during(m.group(1).decode(), token)
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=30)
        out += rest
    finally:
        if p.poll() is None:
            p.kill()
    return out.decode("utf-8", "replace"), p.returncode


def review_put(base_url: str, token: str, path: str, body: dict) -> tuple[int, object]:
    import urllib.error
    import urllib.request

    from v2a.review.guard import csrf_for

    req = urllib.request.Request(base_url + path, data=json.dumps(body).encode(), method="PUT",
                                 headers={"Authorization": f"token {token}",
                                          "X-V2A-CSRF": csrf_for(token),
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read().decode("utf-8", "replace")
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def run_fuzzers() -> dict:
    """The two fuzz test files, as CI runs them; returns examples run and the outcome."""
    counts = Path(tempfile.mkstemp(prefix="v2a-fuzz-", suffix=".jsonl")[1])
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_fuzz_llm.py", "tests/test_fuzz_review.py"],
                         capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "V2A_FUZZ_COUNTS": str(counts)})
    total: dict[str, int] = {}
    for line in counts.read_text().splitlines():
        for k, v in json.loads(line).items():
            total[k] = total.get(k, 0) + v
    counts.unlink()
    return {"command": "pytest tests/test_fuzz_llm.py tests/test_fuzz_review.py",
            "passed": res.returncode == 0, "wall_s": round(time.monotonic() - t0, 1),
            "examples": total,
            "examples_total": sum(v for k, v in total.items() if "requests" not in k),
            "summary": (res.stdout.strip().splitlines() or [""])[-1]}


def chromium_pwned(page: Path):
    """window.__pwned after loading the page in headless Chromium (None: no script ran)."""
    if not page.exists() or not Path("/usr/bin/chromium").exists():
        return "no page or no chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                              args=["--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking"])
        try:
            pg = b.new_page()
            pg.goto(page.as_uri())
            pg.wait_for_load_state("load")
            return pg.evaluate("window.__pwned")
        finally:
            b.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="case names to run")
    ap.add_argument("--no-fuzz", action="store_true", help="skip the fuzz test files")
    args = ap.parse_args()
    cases = run_battery(set(args.only) if args.only else None)
    fuzz = None if args.no_fuzz else run_fuzzers()
    if fuzz:
        print(f"{'ok ' if fuzz['passed'] else 'BAD'} fuzzers: {fuzz['examples_total']} examples "
              f"in {fuzz['wall_s']} s ({fuzz['summary']})", flush=True)
    res = {"command": "python -m bench.reliability", "when": time.strftime("%Y-%m-%d %H:%M"),
           "cases": len(cases), "ok": sum(c.ok for c in cases), "fuzz": fuzz,
           "results": [asdict(c) for c in cases]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "reliability-partial.json" if args.only else "reliability.json"  # keep the full run
    (RESULTS / name).write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(f"{res['ok']}/{res['cases']} cases as expected → bench/results/{name}")


if __name__ == "__main__":
    main()
