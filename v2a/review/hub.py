"""The work folders one review app serves: one video, every video of a batch, or a folder of
work folders — and one ``ReviewSession`` per video, opened on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..errors import V2AError
from ..llm.base import LLMHandleLike
from ..stages import OUTLINE, SOURCE
from ..workspace import BATCH_FILE, Workspace
from .service import NotFound, ReviewSession


@dataclass
class Video:
    vid: str
    ws: Workspace
    title: str
    batch_status: str | None = None  # the batch's word for it (done, failed, pending ...)


@dataclass
class ReviewHub:
    """The work folders one app serves (one video, or every video of a batch)."""

    title: str
    videos: dict[str, Video]
    config_for: Callable[[Workspace], Config]
    llm_handle: LLMHandleLike | None = None
    batch: bool = False
    root: Path | None = None  # the batch folder (with batch.json): the one that has a book
    # one build of the book at a time (a second click is told so, not queued)
    book_lock: threading.Lock = field(default_factory=threading.Lock)
    # changes that could not be written (path of the request → why), until one there succeeds:
    # `v2a review` must not say "everything is saved" on exit while this is not empty
    unsaved: dict[str, str] = field(default_factory=dict)
    _sessions: dict[str, ReviewSession] = field(default_factory=dict)

    def session(self, vid: str) -> ReviewSession:
        if vid not in self.videos:
            raise NotFound(f"no video {vid!r} here")
        if vid not in self._sessions:
            v = self.videos[vid]
            self._sessions[vid] = ReviewSession(v.ws, self.config_for(v.ws), self.llm_handle)
        return self._sessions[vid]

    def close(self) -> None:
        for s in self._sessions.values():
            s.close()


def open_hub(path: Path, config_for: Callable[[Workspace], Config],
             llm_handle: LLMHandleLike | None = None) -> ReviewHub:
    """The hub for a work folder, a batch root or a folder of work folders."""
    title, videos, batch = discover(path)
    root = Path(path) if (Path(path) / BATCH_FILE).exists() else None
    return ReviewHub(title=title, videos={v.vid: v for v in videos}, config_for=config_for,
                     llm_handle=llm_handle, batch=batch, root=root)


def discover(path: Path) -> tuple[str, list[Video], bool]:
    """What ``path`` is: a work folder, a batch root (batch.json) or a folder of work folders.
    Returns (title, videos, is_batch)."""
    from ..models import Source
    from ..workspace import read_model, slugify

    path = Path(path)
    if not path.is_dir():
        raise V2AError(f"{path} is not a folder: give a work folder (outputs/<video>) or a "
                       "batch folder")

    def title_of(ws: Workspace) -> str:
        try:
            return read_model(ws.source_json, Source).title
        except (OSError, ValueError):
            return ws.root.name

    def unique(name: str, seen: set[str]) -> str:
        base = slugify(name) or "video"
        vid, n = base, 1
        while vid in seen:
            n += 1
            vid = f"{base}-{n}"
        seen.add(vid)
        return vid

    seen: set[str] = set()
    if (path / SOURCE.name).exists() or (path / OUTLINE.name).exists():
        ws = Workspace(path)
        return title_of(ws), [Video(unique(path.name, seen), ws, title_of(ws))], False
    if (path / BATCH_FILE).exists():
        from ..batch.state import BatchState

        try:
            state = read_model(path / BATCH_FILE, BatchState)
        except ValueError as exc:
            raise V2AError(f"{path / BATCH_FILE} is damaged: {exc}") from None
        videos = [Video(unique(Path(e.workdir).name, seen), Workspace(path / e.workdir),
                        e.article_title or e.title, e.status) for e in state.ordered()]
        return state.title, videos, True
    folders = sorted(p for p in path.iterdir() if (p / SOURCE.name).exists())
    if not folders:
        raise V2AError(f"{path} holds no work folder (no source.json): run `v2a run` first, or "
                       "give the folder of one video")
    videos = [Video(unique(p.name, seen), Workspace(p), title_of(Workspace(p))) for p in folders]
    return path.name, videos, True
