"""A local OpenAI-compatible model server as a child process: start, wait, stop, explain.

A *kind* of server (xllamacpp, llama-cpp-python, llama-server...) only says how to launch
itself; this module owns the process: it binds loopback only, guards it with a random API key,
never orphans it, and when it dies says why — the signal or exit code, the telling lines of
its log, and what to try instead.

No orphan process: the server runs in its own process group (stopped as a group), is stopped on
close, at exit and on SIGTERM/SIGHUP, and asks the kernel to SIGTERM it if v2a dies (Linux
``PR_SET_PDEATHSIG``, set by a tiny launcher before ``exec``).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import LLMError

# Runs in the child before exec: die with the parent (Linux), and bail out if the parent is
# already gone (it could die between fork and prctl).
_LAUNCHER = (
    "import ctypes, os, signal, sys\n"
    "try:\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"
    "except Exception:\n"
    "    pass\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)

# PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, so every server is
# spawned from this one long-lived thread rather than from whichever worker needed it first.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v2a-llm-spawn")

_LIVE: set[LocalServer] = set()
_LIVE_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False


class ServerUnavailable(LLMError):
    """This kind of server cannot run here (not installed, or the CPU cannot run its build)."""


@dataclass
class Launch:
    """How to start one server: argv, extra environment, and how to know it is ready."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_file: Path | None = None  # the child writes {"url": ...} here when it serves
    port: int | None = None  # else: the port is fixed by the parent, ready when /health is 200
    ready_path: str = "/health"


class ServerKind:
    """One way of serving a GGUF over an OpenAI-compatible API. Subclass and register."""

    name: str = "?"
    description: str = ""
    structured: str = "json_schema"  # the response_format the server enforces (openai_backend)
    install: str = ""  # how to get it, for messages

    def unavailable(self) -> str | None:
        """Why this kind cannot run on this machine, or None when it can (cheap, no launch)."""
        return None

    def launch(self, model: Path, alias: str, *, ctx: int, parallel: int, threads: int,
               api_key: str, workdir: Path) -> Launch:
        raise NotImplementedError


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signal_name(returncode: int) -> str | None:
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


_SIGNAL_MEANING = {
    "SIGILL": "illegal instruction: the build uses an instruction this CPU lacks",
    "SIGSEGV": "segmentation fault in native code",
    "SIGBUS": "bus error in native code (a truncated or damaged model file?)",
    "SIGABRT": "aborted by an assertion in native code",
    "SIGKILL": "killed (out of memory, or by another process)",
    "SIGTERM": "terminated by another process",
    "SIGFPE": "arithmetic fault in native code",
}
# log lines worth showing: errors, assertions, what the kernel of the failure said
_TELLING = re.compile(r"error|failed|exception|abort|assert|what\(\)|unable|cannot|invalid|"
                      r"lacks|not (?:found|supported)|out of memory|terminate", re.IGNORECASE)


def telling_lines(log_text: str, n: int = 2) -> list[str]:
    """The last ``n`` lines of a server log that say what went wrong (else its last lines)."""
    lines = [" ".join(ln.split()) for ln in log_text.splitlines() if ln.strip()]
    picked = [ln for ln in lines if _TELLING.search(ln)]
    return [ln[:240] for ln in (picked or lines)[-n:]]


def _tail(path: Path | None, max_bytes: int = 64_000) -> str:
    if path is None:
        return ""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - max_bytes))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


class LocalServer:
    """One running server process serving one GGUF under ``alias``."""

    def __init__(self, kind: ServerKind, model_path: Path, alias: str, *, n_ctx: int = 8192,
                 threads: int | None = None, parallel: int = 1, log_dir: Path,
                 ready_timeout: float = 300.0, alternatives: tuple[str, ...] = ()):
        self.kind, self.model_path, self.alias = kind, Path(model_path), alias
        self.alternatives = alternatives  # other kinds that can run here, for the hints
        self.n_ctx, self.parallel = n_ctx, max(1, parallel)
        self.threads = threads or os.cpu_count() or 2
        self.log_dir, self.ready_timeout = Path(log_dir), ready_timeout
        self.api_key = secrets.token_urlsafe(24)  # loopback is shared with other local users
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None
        self.log_path: Path | None = None
        self.started_s: float | None = None  # time to ready
        self.returncode: int | None = None  # set once the process is known to have ended

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> LocalServer:
        why = self.kind.unavailable()
        if why:
            raise ServerUnavailable(f"local server {self.kind.name} cannot run here: {why}")
        install_handlers()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        _prune_logs(self.log_dir)
        for _attempt in range(3):  # a fixed free port can be taken between probe and bind
            stamp = f"{self.kind.name}-{os.getpid()}-{secrets.token_hex(3)}"
            self.log_path = self.log_dir / f"{stamp}.log"
            launch = self.kind.launch(self.model_path, self.alias, ctx=self.n_ctx,
                                      parallel=self.parallel, threads=self.threads,
                                      api_key=self.api_key, workdir=self.log_dir)
            env = {**os.environ, **launch.env}
            t0 = time.perf_counter()
            with open(self.log_path, "wb") as log:
                argv = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *launch.argv]
                self.proc = _SPAWNER.submit(
                    subprocess.Popen, argv, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env, start_new_session=True).result()
            with _LIVE_LOCK:
                _LIVE.add(self)
            if self._wait_ready(launch):
                self.started_s = time.perf_counter() - t0
                return self
            retry = "address already in use" in _tail(self.log_path).lower()
            message = self.failure(starting=True)
            self.stop()
            if not (retry and launch.port):
                break
        raise LLMError(message)

    def _wait_ready(self, launch: Launch) -> bool:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            if launch.ready_file is not None:
                try:
                    self.url = json.loads(launch.ready_file.read_text("utf-8"))["url"].rstrip("/")
                    launch.ready_file.unlink(missing_ok=True)
                    return True
                except (OSError, ValueError, KeyError):
                    pass
            else:
                self.url = f"http://127.0.0.1:{launch.port}"
                try:
                    with urllib.request.urlopen(self.url + launch.ready_path, timeout=2) as r:
                        if r.status == 200:
                            return True
                except (urllib.error.URLError, OSError, ValueError):
                    pass  # not listening yet, or 503 while loading the model
            time.sleep(0.2)
        self.timed_out = True
        return False

    @property
    def alive(self) -> bool:
        if self.proc is None:
            return False
        rc = self.proc.poll()
        if rc is not None:
            self.returncode = rc
            return False
        return True

    def failure(self, starting: bool = False) -> str:
        """One line: what happened to the server, what its log says, and what to try."""
        what = "did not start" if starting else "stopped while answering"
        rc = self.proc.poll() if self.proc else self.returncode
        if rc is None and getattr(self, "timed_out", False):
            how = f"not ready after {self.ready_timeout:.0f} s"
        elif rc is None:
            how = "is not answering"
        elif signal_name(rc):
            sig = signal_name(rc)
            how = f"killed by {sig} ({_SIGNAL_MEANING.get(sig or '', 'a signal')})"
        else:
            how = f"exit code {rc}"
        said = telling_lines(_tail(self.log_path))
        log = f"; log says: {' | '.join(said)}" if said else ""
        return (f"the embedded model server ({self.kind.name}) {what}: {how}{log}. "
                f"Try: {self.hints(rc)} (full log: {self.log_path})")

    def hints(self, rc: int | None) -> str:
        tries = []
        others = [k for k in self.alternatives if k != self.kind.name]
        if others:
            tries.append(f"--local-server {others[0]}")
        elif self.kind.name != "llama-cpp-python":
            tries.append("--local-server llama-cpp-python (pip install 'v2a[llama-cpp-python]', "
                         "built for this CPU)")
        if rc is not None and signal_name(rc) == "SIGKILL":
            tries.append("a smaller model (--local-model qwen2.5-coder-0.5b) or a smaller "
                         "--local-ctx")
        else:
            tries.append("another model (--local-model qwen2.5-coder-0.5b or a .gguf path)")
        tries.append("an endpoint (--llm-base-url URL --model NAME)")
        return "; ".join(tries)

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if proc is None:
            return
        if proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)  # the whole group: no worker left behind
                except ProcessLookupError:
                    break
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.returncode = proc.poll()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _prune_logs(log_dir: Path, keep: int = 20) -> None:
    logs = sorted(log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[:-keep]:
        old.unlink(missing_ok=True)


def stop_all() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for s in servers:
        s.stop()


def install_handlers() -> None:
    """atexit + SIGTERM/SIGHUP stop the servers (Ctrl-C unwinds through the callers' finally)."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit + pdeathsig remain
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(sig)

        def handler(signum, frame, _previous=previous):
            stop_all()
            if callable(_previous):
                _previous(signum, frame)
            else:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        signal.signal(sig, handler)
