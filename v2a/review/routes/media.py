"""The video's media file and its keyframes (only files inside ``keyframes/`` are served)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ..page import media_file
from ..service import NotFound
from .deps import Hub

router = APIRouter()


@router.get("/v/{vid}/media")
def media(vid: str, hub: Hub):
    p = media_file(hub.session(vid))
    if p is None:
        raise NotFound("the media file is not on this machine")
    return FileResponse(p, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/v/{vid}/file/{rel:path}")
def file(vid: str, rel: str, hub: Hub):
    """Keyframes (only files inside the work folder's keyframes/ are served)."""
    ws = hub.session(vid).ws
    base = ws.keyframes_dir.resolve()
    p = (ws.root / rel).resolve()
    if not p.is_relative_to(base) or not p.is_file():
        raise NotFound(f"no file {rel}")
    return FileResponse(p, headers={"Cache-Control": "private, max-age=3600"})
