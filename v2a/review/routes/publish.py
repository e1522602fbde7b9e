"""Publishing: the reviewed article rendered in every configured format."""

from __future__ import annotations

from fastapi import APIRouter, Body

from .deps import Hub

router = APIRouter()


@router.post("/api/v/{vid}/publish")
def publish(vid: str, hub: Hub, body: dict = Body(default_factory=dict)):
    files = hub.session(vid).publish(force=bool(body.get("force")))
    return {"files": [str(p) for p in files]}
