"""The book of the batch: its page (outline across videos, each part's review state, glossary
and index), building or publishing it, and its files to download."""

from __future__ import annotations

from fastapi import APIRouter, Body
from fastapi.responses import FileResponse, HTMLResponse

from .. import book as B
from ..page import env
from .deps import AccessOf, Hub

router = APIRouter()


@router.get("/book/", response_class=HTMLResponse)
def page(hub: Hub, access: AccessOf):
    return HTMLResponse(env().get_template("book.html.j2").render(
        csrf=access.csrf, b=B.view(hub)))


@router.get("/api/book")
def state(hub: Hub):
    """The book page's content as JSON (for scripts)."""
    out = B.view(hub)
    out["videos"] = [{**v.__dict__, "published": v.published, "href": v.href}
                     for v in out["videos"]]
    return out


@router.post("/api/book/build")
def build(hub: Hub, body: dict = Body(default_factory=dict)):
    """Build the book from every video's current (edited) text."""
    return B.build(hub, body.get("formats"))


@router.post("/api/book/publish")
def publish(hub: Hub, body: dict = Body(default_factory=dict)):
    """Publish the book: every video published first, unless ``force``."""
    return B.build(hub, body.get("formats"), publish=True, force=bool(body.get("force")))


@router.get("/book/file/{fmt}")
def download(fmt: str, hub: Hub):
    path, name = B.download(hub, fmt)
    return FileResponse(path, filename=name, headers={"Cache-Control": "no-store"})
