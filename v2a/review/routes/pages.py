"""The pages: the index of videos (a batch), one video's review page, and the page's script
and styles."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from ...errors import V2AError
from ..hub import ReviewHub, Video
from ..page import STATIC, PageBuilder, env
from ..service import NotFound
from .deps import AccessOf, Hub

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(hub: Hub):
    if not hub.batch and len(hub.videos) == 1:
        return RedirectResponse(f"/v/{next(iter(hub.videos))}/", status_code=303)
    return HTMLResponse(env().get_template("index.html.j2").render(
        title=hub.title, rows=[row(hub, v) for v in hub.videos.values()],
        book=hub.root is not None))


@router.get("/v/{vid}/", response_class=HTMLResponse)
def page(vid: str, hub: Hub, access: AccessOf):
    return HTMLResponse(PageBuilder(hub.session(vid), vid).render_page(
        access.csrf, home=hub.batch or len(hub.videos) > 1))


@router.get("/static/{name}")
def static(name: str):
    p = STATIC / name
    if name not in ("review.js", "review.css", "doubts.js", "book.js", "book.css") or \
            not p.is_file():
        raise NotFound(name)
    return FileResponse(p, headers={"Cache-Control": "no-cache"})


def row(hub: ReviewHub, v: Video) -> dict:
    """One line of the batch index: how far the review of that video is."""
    out = {"vid": v.vid, "title": v.title, "sections": 0, "approved": 0, "reviewed": 0,
           "draft": 0, "edited": 0, "ready": False, "state": "missing",
           "label": v.batch_status or "not written"}
    try:
        ov = hub.session(v.vid).overlay()
    except V2AError:
        return out
    st = [s.review.status for s in ov.sections]
    out.update(sections=len(st), approved=st.count("approved"), reviewed=st.count("reviewed"),
               draft=st.count("draft"), edited=sum(s.review.edited for s in ov.sections),
               ready=True)
    published = hub.session(v.vid).review().published_at
    if st and st.count("approved") == len(st):
        out.update(state="approved", label="published" if published else "approved")
    elif st.count("draft") == len(st):
        out.update(state="draft", label="to review")
    else:
        out.update(state="reviewed", label="in review")
    return out
