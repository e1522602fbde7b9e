"""batch.json: what happened to every entry of a batch, saved atomically after each change.

The file is the resume point. A second ``v2a batch`` keeps finished entries untouched, retries
failed ones, and treats an entry left ``running`` (Ctrl-C, kill -9) as not started — its work
folder's stage records decide how much is actually redone.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ..models import PlaylistEntry
from ..workspace import ArtifactError, read_model, write_json

Status = Literal["pending", "running", "done", "failed", "skipped"]


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class EntryState(BaseModel):
    key: str  # unique within the batch (the entry id, de-duplicated)
    index: int
    id: str
    title: str
    url: str
    duration: float | None = None
    upload_date: str | None = None
    workdir: str  # relative to the batch root
    status: Status = "pending"
    phase: str | None = None  # "media"/"waiting"/"llm" while running; where it failed otherwise
    reason: str | None = None  # why it failed or was skipped
    attempts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    wall_s: float | None = None
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per phase, last attempt
    article_title: str | None = None  # the article's own H1, for the site's table of contents


class BatchState(BaseModel):
    input: str
    playlist_id: str
    title: str
    url: str | None = None
    created_at: str = Field(default_factory=now)
    updated_at: str = Field(default_factory=now)
    entries: dict[str, EntryState] = Field(default_factory=dict)
    # where the last run ran: {"engine": "ray", "address": ..., "nodes": 3, "cpus": ...}
    ran_on: dict[str, object] | None = None

    def ordered(self) -> list[EntryState]:
        return sorted(self.entries.values(), key=lambda e: e.index)

    def todo(self, has_article: Callable[[str], bool],
             keys: set[str] | None = None) -> list[EntryState]:
        """Pending and failed entries, plus 'done' ones whose article has since disappeared
        (``has_article(workdir)`` looks where the engine keeps its artifacts)."""
        return [e for e in self.ordered() if (keys is None or e.key in keys) and (
            e.status in ("pending", "failed", "running")
            or (e.status == "done" and not has_article(e.workdir)))]

    def count(self, status: Status) -> int:
        return sum(1 for e in self.entries.values() if e.status == status)


class StateStore:
    """Thread-safe owner of one batch.json; every mutation is written before it returns."""

    def __init__(self, path: Path, state: BatchState, readonly: bool = False):
        self.path = Path(path)
        self.state = state
        self.readonly = readonly  # --dry-run: plan against the saved state, write nothing
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path, fresh: BatchState, readonly: bool = False) -> StateStore:
        """Load ``path`` if it exists (resetting interrupted entries), else start from ``fresh``."""
        path = Path(path)
        if path.exists():
            try:
                state = read_model(path, BatchState)
            except (ArtifactError, ValueError):
                # a damaged batch.json (hand-edited?) must not block the batch: the work
                # folders' stage caches still hold all finished work; the file is kept aside
                path.replace(path.with_name(path.name + ".damaged"))
                state = fresh
            for e in state.entries.values():
                if e.status == "running":
                    e.status, e.phase = "pending", None
        else:
            state = fresh
        store = cls(path, state, readonly)
        store.save()
        return store

    def save(self) -> None:
        if self.readonly:
            return
        with self._lock:
            self.state.updated_at = now()
            write_json(self.path, self.state)

    def merge(self, entries: list[EntryState]) -> None:
        """Add newly listed entries; refresh listing metadata of known ones, keep their outcome."""
        with self._lock:
            for new in entries:
                old = self.state.entries.get(new.key)
                if old is None:
                    self.state.entries[new.key] = new
                else:
                    old.index, old.title, old.url = new.index, new.title, new.url
                    old.duration = new.duration if new.duration is not None else old.duration
                    old.upload_date = new.upload_date or old.upload_date
                    if new.status == "skipped" and old.status != "done":
                        old.status, old.reason = "skipped", new.reason
                    elif old.status == "skipped" and new.status == "pending":
                        old.status, old.reason = "pending", None  # e.g. --max-duration raised
            self.save()

    def update(self, key: str, **fields) -> EntryState:
        with self._lock:
            entry = self.state.entries[key]
            for k, v in fields.items():
                setattr(entry, k, v)
            self.save()
            return entry


def entry_from_playlist(e: PlaylistEntry, key: str, workdir: str) -> EntryState:
    return EntryState(key=key, index=e.index, id=e.id, title=e.title, url=e.url,
                      duration=e.duration, upload_date=e.upload_date, workdir=workdir)
