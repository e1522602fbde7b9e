"""Serving the review app with uvicorn on a socket bound first (so the URL is known before it
starts, and port 0 picks a free port), in the foreground (``v2a review``) or a thread (tests,
benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from ..errors import UsageError
from .app import create_app
from .guard import new_token
from .hub import ReviewHub

DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on ``host``: ``port``, or the default one, or (when that is taken)
    any free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    tries = [port] if port is not None else [DEFAULT_PORT, 0]
    last: OSError | None = None
    for p in tries:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), p))
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise UsageError(f"cannot listen on {host}:{port}: {last}; choose another --port")


@dataclass
class Served:
    url: str  # the full URL with the token
    base: str  # http://host:port
    token: str
    server: uvicorn.Server
    sock: socket.socket
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self.sock.close()


def prepare(hub: ReviewHub, host: str = "127.0.0.1", port: int | None = None,
            token: str | None = None) -> Served:
    token = token or new_token()
    sock = bind(host, port)
    real_port = sock.getsockname()[1]
    extra = () if is_loopback(host) else (host, socket.gethostname())
    app = create_app(hub, token, real_port, hosts=extra)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    base = f"http://{shown}:{real_port}"
    return Served(url=f"{base}/?token={token}", base=base, token=token, server=server, sock=sock)


def serve_forever(s: Served, ready: Callable[[], None] | None = None) -> None:
    """Serve until Ctrl-C. ``ready`` runs once the app listens, and so once uvicorn's own
    Ctrl-C handler is in place: "Ctrl-C stops the app" said earlier, on a loaded machine, could
    be answered by a Ctrl-C that races the server's start."""
    if ready is None:
        s.server.run(sockets=[s.sock])
        return

    async def main() -> None:
        task = asyncio.ensure_future(s.server.serve(sockets=[s.sock]))
        while not s.server.started and not task.done():
            await asyncio.sleep(0.02)
        if s.server.started:
            ready()
        await task

    asyncio.run(main())


@contextlib.contextmanager
def serve_in_thread(hub: ReviewHub, host: str = "127.0.0.1", port: int | None = 0,
                    token: str | None = None) -> Iterator[Served]:
    """The app on a free loopback port in a daemon thread, stopped on exit (tests, benchmarks)."""
    s = prepare(hub, host, port, token)
    s.thread = threading.Thread(target=serve_forever, args=(s,), daemon=True,
                                name="v2a-review-server")
    s.thread.start()
    deadline = time.monotonic() + 15
    while not s.server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield s
    finally:
        s.stop()
