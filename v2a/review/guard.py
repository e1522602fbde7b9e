"""Who may call the review app, and how it answers when a request fails.

Safe by default, like Jupyter: it listens on 127.0.0.1, every request needs the random token
from the printed URL (traded on first use for an HttpOnly, SameSite=Strict cookie), requests
for another Host are refused (DNS rebinding), and every change needs the page's CSRF header,
which another site can neither read nor send without a CORS preflight that is never granted.
Pages allow only this app's own script and styles (Content-Security-Policy). A failure is one
line (a page or ``{"error": …}``), never a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..edits.store import Conflict, SaveFailed
from ..errors import V2AError
from ..progress import console, plain
from .page import env
from .service import NotFound

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "x-v2a-csrf"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_for(token: str) -> str:
    """The page's CSRF value: derived from the token (one-way), stable across restarts."""
    return hmac.new(token.encode(), b"v2a-review-csrf", hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Access:
    """One server's secrets and names: its token, the page's CSRF value, its cookie, and the
    ``host:port`` values it answers to."""

    token: str
    port: int
    csrf: str
    cookie: str
    allowed: frozenset[str]

    @classmethod
    def of(cls, token: str, port: int, hosts: tuple[str, ...] = ()) -> Access:
        """``hosts``: names the app may be reached by besides the loopback ones."""
        return cls(token=token, port=port, csrf=csrf_for(token),
                   cookie=f"v2a-review-{port}",  # cookies ignore ports: one per server
                   allowed=frozenset(f"{h}:{port}"
                                     for h in ("127.0.0.1", "localhost", "[::1]", *hosts)))


async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """The HTTP middleware: Host, token and CSRF checks; the security headers; and the changes
    that could not be written, kept on the hub for the exit banner."""
    access: Access = request.app.state.access
    host = request.headers.get("host", "")
    if host not in access.allowed:
        return refuse(403, f"this app answers on 127.0.0.1:{access.port} only, not {host!r}")
    given = request.query_params.get("token") or request.cookies.get(access.cookie) or \
        request.headers.get("authorization", "").removeprefix("token ").strip()
    if not given or not hmac.compare_digest(given.encode(), access.token.encode()):
        return refuse(403, "this review needs its token: open the URL that `v2a review` "
                           "printed (it ends in ?token=…)")
    if request.method not in SAFE_METHODS:
        origin = request.headers.get("origin")
        site = request.headers.get("sec-fetch-site")
        sent = request.headers.get(CSRF_HEADER, "")
        if (origin is not None and origin != f"http://{host}") or \
                site not in (None, "same-origin", "none") or \
                not hmac.compare_digest(sent.encode(), access.csrf.encode()):
            return refuse(403, "refused a change that did not come from the review page")
    if "token" in request.query_params and request.method == "GET":
        # trade the token in the URL for a cookie, and drop it from the address bar
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        url = request.url.path + (f"?{urlencode(rest)}" if rest else "")
        response: Response = RedirectResponse(url, status_code=303)
        response.set_cookie(access.cookie, access.token, httponly=True, samesite="strict",
                            path="/")
    else:
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - a bug: one line, never a traceback page
            response = failed(request, 500, f"the review app failed on this request "
                                            f"({type(exc).__name__}: {first_line(exc)})")
            console.print(f"[red]review:[/] {plain(request.method)} "
                          f"{plain(request.url.path)}: {plain(first_line(exc))}",
                          soft_wrap=True, markup=True)
        if request.method not in SAFE_METHODS:
            unsaved = request.app.state.hub.unsaved
            if response.status_code >= 500:
                unsaved[request.url.path] = getattr(request.state, "why", "")
            elif response.status_code < 400:
                unsaved.pop(request.url.path, None)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def on_os_error(request: Request, exc: OSError) -> Response:
    """A write the disk refused (full, read-only): said in one line, never a traceback."""
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    why = "no space left on the device" if full else (exc.strerror or type(exc).__name__)
    where = f" ({Path(exc.filename).name})" if exc.filename else ""
    return failed(request, 507 if full else 500,
                  f"this change is NOT saved: {why}{where}; free some space and save again")


async def on_error(request: Request, exc: V2AError) -> Response:
    """What an editor action refused: 400, 404 (``NotFound``), 409 (``Conflict``, with the
    section's current revision) or 507 (``SaveFailed`` on a full disk)."""
    if isinstance(exc, SaveFailed):
        return failed(request, 507 if exc.full else 500, str(exc))
    status = 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 400
    if not request.url.path.startswith("/api/"):
        return refuse(status, str(exc))  # a page: say it as a page
    if isinstance(exc, Conflict):
        return JSONResponse({"error": str(exc), "rev": exc.section.rev}, status_code=409)
    return JSONResponse({"error": str(exc)}, status_code=status)


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def failed(request: Request, status: int, message: str) -> Response:
    """A request the server could not complete: the reason, kept for the exit banner."""
    request.state.why = message
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    return refuse(status, message)


def refuse(status: int, message: str) -> Response:
    page = env().get_template("refused.html.j2").render(message=message)
    return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": CSP})
