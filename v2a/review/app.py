"""The review web app (FastAPI): pages, files and a small JSON API over ``ReviewSession``.

Safe by default, like Jupyter: it listens on 127.0.0.1, every request needs the random token
from the printed URL (traded on first use for an HttpOnly, SameSite=Strict cookie), requests
for another Host are refused (DNS rebinding), and every change needs the page's CSRF header,
which another site can neither read nor send without a CORS preflight that is never granted.
Pages allow only this app's own script and styles (Content-Security-Policy).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Body, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from ..config import Config
from ..edits.store import Conflict, SaveFailed
from ..errors import V2AError
from ..llm.base import LLMHandleLike
from ..progress import console, plain
from ..workspace import Workspace
from .page import STATIC, PageBuilder, env, media_file
from .service import UNSET, NotFound, ReviewSession

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


@dataclass
class Video:
    vid: str
    ws: Workspace
    title: str
    batch_status: str | None = None  # the batch's word for it (done, failed, pending ...)


@dataclass
class ReviewHub:
    """The work folders one app serves (one video, or every video of a batch)."""

    title: str
    videos: dict[str, Video]
    config_for: Callable[[Workspace], Config]
    llm_handle: LLMHandleLike | None = None
    batch: bool = False
    # changes that could not be written (path of the request → why), until one there succeeds:
    # `v2a review` must not say "everything is saved" on exit while this is not empty
    unsaved: dict[str, str] = field(default_factory=dict)
    _sessions: dict[str, ReviewSession] = field(default_factory=dict)

    def session(self, vid: str) -> ReviewSession:
        if vid not in self.videos:
            raise NotFound(f"no video {vid!r} here")
        if vid not in self._sessions:
            v = self.videos[vid]
            self._sessions[vid] = ReviewSession(v.ws, self.config_for(v.ws), self.llm_handle)
        return self._sessions[vid]

    def close(self) -> None:
        for s in self._sessions.values():
            s.close()


def create_app(hub: ReviewHub, token: str, port: int, hosts: tuple[str, ...] = ()) -> FastAPI:
    """The app for ``hub``; ``hosts``: names it may be reached by besides the loopback ones."""
    app = FastAPI(title="v2a review", docs_url=None, redoc_url=None, openapi_url=None)
    csrf = csrf_for(token)
    cookie = f"v2a-review-{port}"  # cookies ignore ports: one per server
    allowed = {f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]", *hosts)}

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = request.headers.get("host", "")
        if host not in allowed:
            return _refuse(403, f"this app answers on 127.0.0.1:{port} only, not {host!r}")
        given = request.query_params.get("token") or request.cookies.get(cookie) or \
            request.headers.get("authorization", "").removeprefix("token ").strip()
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            return _refuse(403, "this review needs its token: open the URL that `v2a review` "
                                "printed (it ends in ?token=…)")
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("origin")
            site = request.headers.get("sec-fetch-site")
            sent = request.headers.get(CSRF_HEADER, "")
            if (origin is not None and origin != f"http://{host}") or \
                    site not in (None, "same-origin", "none") or \
                    not hmac.compare_digest(sent.encode(), csrf.encode()):
                return _refuse(403, "refused a change that did not come from the review page")
        if "token" in request.query_params and request.method == "GET":
            # trade the token in the URL for a cookie, and drop it from the address bar
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            url = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(url, status_code=303)
            response.set_cookie(cookie, token, httponly=True, samesite="strict", path="/")
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # noqa: BLE001 - a bug: one line, never a traceback page
                response = _failed(request, 500, f"the review app failed on this request "
                                                 f"({type(exc).__name__}: {_first_line(exc)})")
                console.print(f"[red]review:[/] {plain(request.method)} "
                              f"{plain(request.url.path)}: {plain(_first_line(exc))}",
                              soft_wrap=True, markup=True)
            if request.method not in SAFE_METHODS:
                if response.status_code >= 500:
                    hub.unsaved[request.url.path] = getattr(request.state, "why", "")
                elif response.status_code < 400:
                    hub.unsaved.pop(request.url.path, None)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError):
        """A write the disk refused (full, read-only): said in one line, never a traceback."""
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        why = "no space left on the device" if full else (exc.strerror or type(exc).__name__)
        where = f" ({Path(exc.filename).name})" if exc.filename else ""
        return _failed(request, 507 if full else 500,
                       f"this change is NOT saved: {why}{where}; free some space and save again")

    @app.exception_handler(V2AError)
    async def _error(request: Request, exc: V2AError):
        if isinstance(exc, SaveFailed):
            return _failed(request, 507 if exc.full else 500, str(exc))
        status = 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 400
        if not request.url.path.startswith("/api/"):
            return _refuse(status, str(exc))  # a page: say it as a page
        if isinstance(exc, Conflict):
            return JSONResponse({"error": str(exc), "rev": exc.section.rev}, status_code=409)
        return JSONResponse({"error": str(exc)}, status_code=status)

    # --- pages and files ---------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def index():
        if not hub.batch and len(hub.videos) == 1:
            return RedirectResponse(f"/v/{next(iter(hub.videos))}/", status_code=303)
        return HTMLResponse(env().get_template("index.html.j2").render(
            title=hub.title, rows=[_row(hub, v) for v in hub.videos.values()]))

    @app.get("/v/{vid}/", response_class=HTMLResponse)
    def page(vid: str):
        return HTMLResponse(PageBuilder(hub.session(vid), vid).render_page(
            csrf, home=hub.batch or len(hub.videos) > 1))

    @app.get("/v/{vid}/media")
    def media(vid: str):
        p = media_file(hub.session(vid))
        if p is None:
            raise NotFound("the media file is not on this machine")
        return FileResponse(p, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/v/{vid}/file/{rel:path}")
    def file(vid: str, rel: str):
        """Keyframes (only files inside the work folder's keyframes/ are served)."""
        ws = hub.session(vid).ws
        base = ws.keyframes_dir.resolve()
        p = (ws.root / rel).resolve()
        if not p.is_relative_to(base) or not p.is_file():
            raise NotFound(f"no file {rel}")
        return FileResponse(p, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/static/{name}")
    def static(name: str):
        p = STATIC / name
        if name not in ("review.js", "review.css") or not p.is_file():
            raise NotFound(name)
        return FileResponse(p, headers={"Cache-Control": "no-cache"})

    # --- the API --------------------------------------------------------------------------------
    def section_reply(vid: str, key: str) -> dict:
        html, state = PageBuilder(hub.session(vid), vid).render_section(key)
        return {"html": html, "section": state}

    @app.get("/api/v/{vid}/sections/{key}")
    def get_section(vid: str, key: str):
        return section_reply(vid, key)

    @app.put("/api/v/{vid}/sections/{key}")
    def save(vid: str, key: str, body: dict = Body(...)):
        editor = body.get("editor")
        images = body.get("images", UNSET)
        if images is not UNSET and images is not None and (
                not isinstance(images, list) or not all(isinstance(i, str) for i in images)):
            raise V2AError("images must be a list of keyframe file names")
        hub.session(vid).save(key, _rev(body), title=_text(body, "title", UNSET),
                              markdown=_text(body, "markdown", UNSET), images=images,
                              editor=str(editor)[:40] if editor else None)
        return section_reply(vid, key)

    @app.post("/api/v/{vid}/sections/{key}/{action}")
    def act(vid: str, key: str, action: str, body: dict = Body(default_factory=dict)):
        s = hub.session(vid)
        if action == "status":
            s.set_status(key, _rev(body), str(body.get("status")))
        elif action == "restore":
            s.restore(key, _rev(body), _number(body, "n", int, 0))
        elif action == "keep-edit":
            s.keep_edit(key, _rev(body))
        elif action == "take-generated":
            s.take_generated(key, _rev(body))
        elif action == "dismiss-stale":
            s.dismiss_stale(key, _rev(body))
        elif action == "regenerate":
            s.regenerate(key, str(body.get("instruction") or ""))
        elif action == "accept":
            s.accept(key, _rev(body), str(body.get("id")))
        elif action == "discard":
            s.discard(key, str(body.get("id")))
        elif action == "comment":
            s.comment(key, _number(body, "time", float, 0.0), str(body.get("text") or ""))
        elif action == "resolve":
            s.resolve_comment(key, str(body.get("id")), bool(body.get("done", True)))
        elif action == "split":
            return {"keys": s.split(key, _rev(body), _number(body, "segment", int, -1),
                                    str(body.get("title") or ""))}
        elif action == "merge":
            return {"keys": s.merge(key, _rev(body))}
        else:
            raise NotFound(f"no action {action!r}")
        return section_reply(vid, key)

    @app.get("/api/v/{vid}/sections/{key}/history")
    def history(vid: str, key: str):
        rec = hub.session(vid).review().sections.get(key)
        return {"versions": [v.model_dump() for v in reversed(rec.history)] if rec else []}

    @app.post("/api/v/{vid}/preview")
    def preview(vid: str, body: dict = Body(...)):
        from ..render.sanitize import md_prose, prose_html

        hub.session(vid)
        return {"html": str(prose_html(md_prose(str(body.get("markdown") or ""))))}

    @app.post("/api/v/{vid}/transcript/replace")
    def replace(vid: str, body: dict = Body(...)):
        return hub.session(vid).replace_everywhere(
            str(body.get("find") or ""), str(body.get("replace") or ""),
            remember=bool(body.get("remember", True)))

    @app.post("/api/v/{vid}/transcript/{segment}")
    def fix(vid: str, segment: int, body: dict = Body(...)):
        return hub.session(vid).fix_line(segment, str(body.get("text") or ""))

    @app.post("/api/v/{vid}/publish")
    def publish(vid: str, body: dict = Body(default_factory=dict)):
        files = hub.session(vid).publish(force=bool(body.get("force")))
        return {"files": [str(p) for p in files]}

    return app


def _number(body: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    """A number field of a request body; a wrong one is a 400 naming it, not a server error."""
    v = body.get(name)
    if v is None:
        return default
    try:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ValueError
        out = kind(v)
    except (TypeError, ValueError, OverflowError):
        raise V2AError(f"{name} must be a number") from None
    if isinstance(out, float) and not math.isfinite(out):
        raise V2AError(f"{name} must be a finite number")
    return out


def _text(body: dict[str, Any], name: str, default: Any) -> Any:
    """A text field of a request body (null clears it); any other type is a 400."""
    v = body.get(name, default)
    if v is default or v is None or isinstance(v, str):
        return v
    raise V2AError(f"{name} must be text")


def _rev(body: dict[str, Any]) -> int:
    try:
        return int(body["rev"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise V2AError("a change must say which revision of the section it was made on") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _failed(request: Request, status: int, message: str) -> Response:
    """A request the server could not complete: the reason, kept for the exit banner."""
    request.state.why = message
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    return _refuse(status, message)


def _refuse(status: int, message: str) -> Response:
    page = env().get_template("refused.html.j2").render(message=message)
    return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": CSP})


def _row(hub: ReviewHub, v: Video) -> dict:
    """One line of the batch index: how far the review of that video is."""
    row = {"vid": v.vid, "title": v.title, "sections": 0, "approved": 0, "reviewed": 0,
           "draft": 0, "edited": 0, "ready": False, "state": "missing",
           "label": v.batch_status or "not written"}
    try:
        ov = hub.session(v.vid).overlay()
    except V2AError:
        return row
    st = [s.review.status for s in ov.sections]
    row.update(sections=len(st), approved=st.count("approved"), reviewed=st.count("reviewed"),
               draft=st.count("draft"), edited=sum(s.review.edited for s in ov.sections),
               ready=True)
    published = hub.session(v.vid).review().published_at
    if st and st.count("approved") == len(st):
        row.update(state="approved", label="published" if published else "approved")
    elif st.count("draft") == len(st):
        row.update(state="draft", label="to review")
    else:
        row.update(state="reviewed", label="in review")
    return row


def open_hub(path: Path, config_for: Callable[[Workspace], Config],
             llm_handle: LLMHandleLike | None = None) -> ReviewHub:
    """The hub for a work folder, a batch root or a folder of work folders."""
    title, videos, batch = discover(path)
    return ReviewHub(title=title, videos={v.vid: v for v in videos}, config_for=config_for,
                     llm_handle=llm_handle, batch=batch)


def discover(path: Path) -> tuple[str, list[Video], bool]:
    """What ``path`` is: a work folder, a batch root (batch.json) or a folder of work folders.
    Returns (title, videos, is_batch)."""
    from ..models import Source
    from ..workspace import read_model, slugify

    path = Path(path)
    if not path.is_dir():
        raise V2AError(f"{path} is not a folder: give a work folder (outputs/<video>) or a "
                       "batch folder")

    def title_of(ws: Workspace) -> str:
        try:
            return read_model(ws.source_json, Source).title
        except (OSError, ValueError):
            return ws.root.name

    def unique(name: str, seen: set[str]) -> str:
        base = slugify(name) or "video"
        vid, n = base, 1
        while vid in seen:
            n += 1
            vid = f"{base}-{n}"
        seen.add(vid)
        return vid

    seen: set[str] = set()
    if (path / "source.json").exists() or (path / "outline.json").exists():
        ws = Workspace(path)
        return title_of(ws), [Video(unique(path.name, seen), ws, title_of(ws))], False
    if (path / "batch.json").exists():
        from ..batch.state import BatchState

        try:
            state = read_model(path / "batch.json", BatchState)
        except ValueError as exc:
            raise V2AError(f"{path / 'batch.json'} is damaged: {exc}") from None
        videos = [Video(unique(Path(e.workdir).name, seen), Workspace(path / e.workdir),
                        e.article_title or e.title, e.status) for e in state.ordered()]
        return state.title, videos, True
    folders = sorted(p for p in path.iterdir() if (p / "source.json").exists())
    if not folders:
        raise V2AError(f"{path} holds no work folder (no source.json): run `v2a run` first, or "
                       "give the folder of one video")
    videos = [Video(unique(p.name, seen), Workspace(p), title_of(Workspace(p))) for p in folders]
    return path.name, videos, True
