"""One section of the draft: read it, save an edit, and the editor's actions on it (status,
versions, generated-vs-edited choices, regeneration, proposals, comments), each answered with
the section as the page redraws it."""

from __future__ import annotations

from fastapi import APIRouter, Body

from ...errors import V2AError
from ..service import UNSET, NotFound
from .deps import Hub, number, rev, section_reply, text

router = APIRouter(prefix="/api/v/{vid}")
SECTION = "/sections/{key}"


@router.get(SECTION)
def get_section(vid: str, key: str, hub: Hub):
    return section_reply(hub, vid, key)


@router.put(SECTION)
def save(vid: str, key: str, hub: Hub, body: dict = Body(...)):
    editor = body.get("editor")
    images = body.get("images", UNSET)
    if images is not UNSET and images is not None and (
            not isinstance(images, list) or not all(isinstance(i, str) for i in images)):
        raise V2AError("images must be a list of keyframe file names")
    hub.session(vid).save(key, rev(body), title=text(body, "title", UNSET),
                          markdown=text(body, "markdown", UNSET), images=images,
                          editor=str(editor)[:40] if editor else None)
    return section_reply(hub, vid, key)


@router.get(SECTION + "/history")
def history(vid: str, key: str, hub: Hub):
    rec = hub.session(vid).review().sections.get(key)
    return {"versions": [v.model_dump() for v in reversed(rec.history)] if rec else []}


@router.post("/preview")
def preview(vid: str, hub: Hub, body: dict = Body(...)):
    from ...render.sanitize import md_prose, prose_html

    hub.session(vid)
    return {"html": str(prose_html(md_prose(str(body.get("markdown") or ""))))}


# --- actions: POST /api/v/{vid}/sections/{key}/<action>, the section redrawn -----------------


@router.post(SECTION + "/status")
def status(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).set_status(key, rev(body), str(body.get("status")))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/restore")
def restore(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).restore(key, rev(body), number(body, "n", int, 0))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/keep-edit")
def keep_edit(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).keep_edit(key, rev(body))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/take-generated")
def take_generated(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).take_generated(key, rev(body))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/dismiss-stale")
def dismiss_stale(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).dismiss_stale(key, rev(body))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/regenerate")
def regenerate(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).regenerate(key, str(body.get("instruction") or ""))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/accept")
def accept(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).accept(key, rev(body), str(body.get("id")))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/discard")
def discard(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).discard(key, str(body.get("id")))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/comment")
def comment(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).comment(key, number(body, "time", float, 0.0), str(body.get("text") or ""))
    return section_reply(hub, vid, key)


@router.post(SECTION + "/resolve")
def resolve(vid: str, key: str, hub: Hub, body: dict = Body(default_factory=dict)):
    hub.session(vid).resolve_comment(key, str(body.get("id")), bool(body.get("done", True)))
    return section_reply(hub, vid, key)


unknown = APIRouter(prefix="/api/v/{vid}")
"""Included after every other router: an action no router has is a 404 that names it."""


@unknown.post(SECTION + "/{action}")
def unknown_action(vid: str, key: str, action: str, hub: Hub,
                   body: dict = Body(default_factory=dict)):
    hub.session(vid)
    raise NotFound(f"no action {action!r}")
