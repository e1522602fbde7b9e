"""Fixes to the transcript: one line, or a term everywhere (optionally kept in the glossary)."""

from __future__ import annotations

from fastapi import APIRouter, Body

from .deps import Hub

router = APIRouter(prefix="/api/v/{vid}/transcript")


@router.post("/replace")  # before "/{segment}", which would take "replace" for a segment
def replace(vid: str, hub: Hub, body: dict = Body(...)):
    return hub.session(vid).replace_everywhere(
        str(body.get("find") or ""), str(body.get("replace") or ""),
        remember=bool(body.get("remember", True)))


@router.post("/{segment}")
def fix(vid: str, segment: int, hub: Hub, body: dict = Body(...)):
    return hub.session(vid).fix_line(segment, str(body.get("text") or ""))
