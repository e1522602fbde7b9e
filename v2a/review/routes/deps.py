"""What every router takes from the app (FastAPI dependencies on ``app.state``) and the checks
on the free-form JSON bodies the page sends."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Depends, Request

from ...errors import V2AError
from ..guard import Access
from ..hub import ReviewHub
from ..page import PageBuilder


def get_hub(request: Request) -> ReviewHub:
    hub: ReviewHub = request.app.state.hub
    return hub


def get_access(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


Hub = Annotated[ReviewHub, Depends(get_hub)]
"""The work folders this app serves; ``hub.session(vid)`` is one video's ``ReviewSession``
(an unknown ``vid`` is a 404)."""

AccessOf = Annotated[Access, Depends(get_access)]
"""This server's token, CSRF value and cookie."""


def section_reply(hub: ReviewHub, vid: str, key: str) -> dict:
    """A section as the page redraws it after a change: its HTML and its review state."""
    html, state = PageBuilder(hub.session(vid), vid).render_section(key)
    return {"html": html, "section": state}


def number(body: dict[str, Any], name: str, kind: type, default: Any) -> Any:
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


def text(body: dict[str, Any], name: str, default: Any) -> Any:
    """A text field of a request body (null clears it); any other type is a 400."""
    v = body.get(name, default)
    if v is default or v is None or isinstance(v, str):
        return v
    raise V2AError(f"{name} must be text")


def rev(body: dict[str, Any]) -> int:
    """The revision of the section a change was made on (a stale one is a 409 later)."""
    try:
        return int(body["rev"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise V2AError("a change must say which revision of the section it was made on") from None
