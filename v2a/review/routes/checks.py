"""The doubts (``v2a check``) for the page's walk, and the editor's decision on each."""

from __future__ import annotations

from fastapi import APIRouter, Body

from ...checks.command import run_checks
from ...edits.store import ReviewStore
from ...errors import V2AError
from .deps import Hub, text

router = APIRouter(prefix="/api/v/{vid}/checks")

RESOLUTIONS = ("fixed", "correct", "ignore")


@router.get("")
def checks(vid: str, hub: Hub):
    """checks.json, built now from the folder's artifacts (a second model's reading only when
    ``v2a check`` left one), with the editor's decisions."""
    return run_checks(hub.session(vid).ws.root).model_dump()


@router.post("/{doubt}")
def resolve(vid: str, doubt: str, hub: Hub, body: dict = Body(...)):
    """Record ``fixed``, ``correct`` or ``ignore`` for one doubt (null: open again); kept in
    review.json across re-runs, by the doubt's stable id."""
    value = text(body, "resolution", None)
    if value is not None and value not in RESOLUTIONS:
        raise V2AError(f"resolution must be one of {', '.join(RESOLUTIONS)} (or null)")
    with ReviewStore(hub.session(vid).ws).change() as review:
        if value is None:
            review.doubts.pop(doubt, None)
        else:
            review.doubts[doubt] = value
    return {"id": doubt, "resolution": value}
