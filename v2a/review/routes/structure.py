"""The editor's cuts of the outline: split a section at a transcript line, merge it into the one
before. Both answer with the section keys after the cut (the page reloads)."""

from __future__ import annotations

from fastapi import APIRouter, Body

from .deps import Hub, number, rev

router = APIRouter(prefix="/api/v/{vid}/sections/{key}")


@router.post("/split")
def split(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    return {"keys": hub.session(vid).split(key, rev(body), number(body, "segment", int, -1),
                                           str(body.get("title") or ""))}


@router.post("/merge")
def merge(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    return {"keys": hub.session(vid).merge(key, rev(body))}
