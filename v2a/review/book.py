"""The book of the batch a hub serves, as the editors see it: its outline across the videos
(parts = videos, their chapters, the shared glossary and index, each linked to the review page
of the chapter), the review state of each video, and building or publishing it.

The book is always made from each video's current text: the generated draft with every edit of
``review.json`` applied (``v2a/book`` reads the article the render stage would publish), so no
edit is lost. Publishing asks more, as ``v2a publish`` does for one video: every part published
(in the app or with ``v2a publish``) and not edited since, and every video of the batch in the
book; otherwise it refuses, saying which, unless the editor publishes anyway. A build or a
forced publication says the same plainly, in the reply and on the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..book.build import FILES, Assembled, assemble, missing, write_formats
from ..checks.models import Checks
from ..edits.store import now
from ..errors import UsageError, V2AError
from ..links import fmt_time
from ..stages import CHAPTERS, OUTLINE
from ..workspace import Workspace, read_model, slugify, write_json
from .hub import ReviewHub, Video
from .service import NotFound

DOWNLOADS = ("markdown", "html", "epub", "pdf", "docx")  # the files an editor downloads
LABELS = {"markdown": "Markdown", "html": "HTML", "epub": "EPUB", "pdf": "PDF", "docx": "Word"}
EXT = {"markdown": "md", "html": "html", "epub": "epub", "pdf": "pdf", "docx": "docx"}


@dataclass
class VideoState:
    """One video of the batch as the book sees it."""

    vid: str
    title: str
    part: int | None = None  # its number in the book; None: not in it (not finished)
    batch_status: str | None = None
    sections: int = 0
    approved: int = 0
    edited: int = 0
    published_at: str | None = None
    edited_since: int = 0  # chapters changed after it was published
    rerun_since: bool = False  # its outline or text was generated again after it was published
    doubts: int | None = None  # open doubts of checks.json (None: never checked)
    chapters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def href(self) -> str:
        return f"/v/{quote(self.vid, safe='')}/"

    @property
    def published(self) -> str:
        """published, changed (edited since) or unpublished."""
        if self.published_at is None:
            return "unpublished"
        return "changed" if self.edited_since or self.rerun_since else "published"

    def problem(self) -> str | None:
        """What keeps this video from a strict publication of the book, said plainly."""
        name = f"“{self.title}”"
        if self.part is None:
            return (f"{name} is not in the book: the video is not finished "
                    f"({self.batch_status or 'not written'})")
        where = f"part {self.part}, {name}"
        if self.published == "unpublished":
            return (f"{where} is not published ({self.approved}/{self.sections} chapters "
                    f"approved, {self.edited} edited)")
        if self.edited_since:
            return (f"{where} was edited after it was published ({self.edited_since} "
                    f"chapters since {self.published_at})")
        if self.rerun_since:
            return (f"{where} was generated again after it was published "
                    f"({self.published_at}): publish it again")
        if self.approved < self.sections:  # published anyway: the book asks for approval
            return (f"{where} has {self.sections - self.approved} of {self.sections} chapters "
                    "not approved")
        return None


AS_IS = ("a part that is not published goes in as it stands: the generated text with the "
         "edits made so far")


def need_root(hub: ReviewHub) -> Path:
    if hub.root is None:
        raise NotFound("no book here: the book is made of a batch folder (one with batch.json); "
                       "run v2a review on the batch folder")
    return hub.root


def video_state(hub: ReviewHub, v: Video) -> VideoState:
    """Review state of one video, from its session (the same overlay the review page shows)."""
    out = VideoState(vid=v.vid, title=v.title, batch_status=v.batch_status)
    session = hub.session(v.vid)
    try:
        ov = session.overlay()
        review = session.review()
    except V2AError:
        return out  # not written yet: nothing to review
    out.sections = len(ov.sections)
    out.approved = sum(s.review.status == "approved" for s in ov.sections)
    out.edited = sum(s.review.edited for s in ov.sections)
    out.published_at = review.published_at
    if review.published_at:
        out.edited_since = sum(1 for r in review.sections.values()
                               if r.updated_at and r.updated_at > review.published_at)
        out.rerun_since = regenerated_since(session.ws, review.published_at)
    path = session.ws.checks_json
    if path.exists():
        try:
            checks = read_model(path, Checks)
            out.doubts = sum(1 for d in checks.doubts
                             if d.resolved is None and d.id not in review.doubts)
        except (OSError, ValueError):
            out.doubts = None
    return out


def regenerated_since(ws: Workspace, at: str) -> bool:
    """Whether the outline or the chapters were written after ``at`` (a pipeline re-run, or
    the editor's split or merge): what was published is not what the book would take."""
    try:
        stamp = dt.datetime.fromisoformat(at).timestamp() + 1  # ``at`` is cut to the second
    except ValueError:
        return False
    return any(p.exists() and p.stat().st_mtime > stamp
               for p in (ws.path(OUTLINE.name), ws.path(CHAPTERS.name)))


def states(hub: ReviewHub, a: Assembled) -> list[VideoState]:
    """Every video of the batch, in playlist order, with its part and chapters if in the book."""
    by_folder = {(a.root / p.folder).resolve(): (n, p) for n, p in enumerate(a.book.parts, 1)}
    out = []
    for v in hub.videos.values():
        st = video_state(hub, v)
        hit = by_folder.get(v.ws.root.resolve())
        if hit is not None:
            n, part = hit
            st.part = n
            st.chapters = [{"number": s.number, "title": s.title, "start": s.start,
                            "time": fmt_time(s.start), "status": s.review,
                            "href": st.href + (f"#s-{quote(s.key, safe='')}" if s.key else "")}
                           for s in part.sections]
        out.append(st)
    return out


def view(hub: ReviewHub) -> dict[str, Any]:
    """The book as it would be built now, the state of its files and of each video."""
    root = need_root(hub)
    try:
        a = assemble(root, summaries="kept")
    except V2AError as exc:  # no finished video yet: the page says so
        return {"title": hub.title, "error": str(exc), "videos": [], "files": files(None, root),
                "problems": [], "glossary": [], "index": [], "state": None}
    videos = states(hub, a)
    href = {st.part: st for st in videos if st.part is not None}

    def place(pl: Any) -> dict[str, Any]:
        st = href[pl.part]
        ch = st.chapters[pl.chapter - 1] if pl.chapter <= len(st.chapters) else None
        return {"label": f"{pl.part}.{pl.chapter} {fmt_time(pl.second)}", "defined": pl.defined,
                "href": ch["href"] if ch else st.href, "part": pl.part}

    s = a.state
    made = [f for f in DOWNLOADS if (root / "book" / FILES[f]).is_file()]
    return {
        "title": a.book.title, "error": None, "parts": len(a.book.parts), "videos": videos,
        "summaries": {st.part: a.book.summaries[a.book.parts[st.part - 1].key][1]
                      for st in videos if st.part is not None},
        "glossary": [{"term": e.term, "sentence": e.home.sentence, "where": place(e.home)}
                     for e in a.book.glossary],
        "index": [{"term": e.term, "places": [place(pl) for pl in e.places]}
                  for e in a.book.index],
        "crossrefs": sum(map(len, a.book.xrefs.values())),
        "problems": [p for st in videos if (p := st.problem())],
        "files": files(a, root),
        "state": {"built_at": s.built_at, "notes": s.notes, "published_at": s.published_at,
                  "published": s.published is not None and s.published == a.digest,
                  "built": bool(made), "current": all(a.up_to_date(f) for f in made)},
    }


def files(a: Assembled | None, root: Path) -> list[dict[str, Any]]:
    """Each downloadable format: whether this machine can make it, whether it is made, and
    whether it holds the book as it is now."""
    out = []
    for f in DOWNLOADS:
        path = root / "book" / FILES[f]
        out.append({"format": f, "label": LABELS[f], "ext": EXT[f], "missing": missing(f),
                    "exists": path.is_file(), "current": a is not None and a.up_to_date(f),
                    "href": f"/book/file/{f}"})
    return out


def book_formats(asked: Any) -> list[str]:
    """The formats a build request asks for (default: every one this machine can make)."""
    if asked is None:
        return [f for f in DOWNLOADS if missing(f) is None]
    if not isinstance(asked, list) or not all(isinstance(f, str) for f in asked):
        raise UsageError("formats must be a list of format names")
    out = []
    for f in dict.fromkeys(asked):
        if f not in DOWNLOADS:
            raise UsageError(f"the book has no format {f!r} here; one of: {', '.join(DOWNLOADS)}")
        why = missing(f)
        if why:
            raise UsageError(f"{LABELS[f]} cannot be made on this machine: {why}")
        out.append(f)
    if not out:
        raise UsageError("choose at least one format")
    return out


def build(hub: ReviewHub, formats: Any = None, publish: bool = False,
          force: bool = False) -> dict[str, Any]:
    """Build the book from every video's current text; ``publish``: refuse while a video is not
    published (or edited since, or not in the book) unless ``force``, and record the book as
    published. One build at a time."""
    root = need_root(hub)
    fmts = book_formats(formats)
    if not hub.book_lock.acquire(blocking=False):
        raise V2AError("the book is being built already; wait for that build to finish")
    try:
        a = assemble(root, summaries="kept")
        sts = states(hub, a)
        problems = [p for st in sts if (p := st.problem())]
        loose = any(st.part is not None and st.published != "published" for st in sts)
        if publish and problems and not force:
            raise V2AError("book not published: " + "; ".join(problems)
                           + " (publish those videos first, or publish the book anyway)")
        r = write_formats(a, fmts)
        a.state.built_at = now()
        a.state.notes = problems + ([AS_IS] if loose else [])
        if publish:
            a.state.published_at = a.state.built_at
            a.state.published = a.digest
        write_json(a.state_path, a.state)
    finally:
        hub.book_lock.release()
    return {"published": publish, "parts": r.parts, "written": r.written,
            "files": {f: f"/book/file/{f}" for f in r.outputs}, "notes": a.state.notes,
            "index_terms": r.index_terms, "crossrefs": r.crossrefs, "timings": r.timings}


def download(hub: ReviewHub, fmt: str) -> tuple[Path, str]:
    """The file of one format and the name to save it as."""
    root = need_root(hub)
    if fmt not in DOWNLOADS:
        raise NotFound(f"no book format {fmt!r}")
    path = root / "book" / FILES[fmt]
    if not path.is_file():
        raise NotFound(f"the book has no {LABELS[fmt]} file yet: build it first")
    return path, f"{slugify(hub.title) or 'book'}.{EXT[fmt]}"
