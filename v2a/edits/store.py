"""review.json on disk: read, changed under a lock, written atomically.

Every change is a transaction: take the folder's lock (a thread lock and an ``flock``, so two
app processes on one folder also serialise), read the file, change it, write it via a temp file
and a rename. A kill at any moment leaves the previous or the new file, never half of one. A
damaged review.json is never replaced: it holds human work, so the app refuses to start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import V2AError
from ..workspace import Workspace, read_model, write_json
from .models import Review, SectionReview

try:
    import fcntl
except ImportError:  # Windows: the thread lock alone (one app per folder)
    fcntl = None  # type: ignore[assignment]

FILENAME = "review.json"
_LOCKS: dict[Path, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class Conflict(V2AError):
    """A change made on an old revision of a section (another tab or window saved first)."""

    exit_code = 1

    def __init__(self, section: SectionReview, message: str = ""):
        super().__init__(message or f"section {section.key} was changed elsewhere (now at "
                                    f"revision {section.rev})")
        self.section = section


class SaveFailed(V2AError):
    """review.json could not be written (a full disk, a read-only folder): the change is not
    saved, and the editor must be told so, not shown a server error."""

    def __init__(self, path: Path, exc: OSError):
        why = "no space left on the device" if exc.errno in _FULL else (exc.strerror or str(exc))
        super().__init__(f"this change is NOT saved: cannot write {path.name} ({why}); it is "
                         "still on the page — free some space and save again")
        self.full = exc.errno in _FULL


_FULL = {errno.ENOSPC, errno.EDQUOT}


def review_path(ws: Workspace) -> Path:
    return ws.path(FILENAME)


def _thread_lock(path: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), threading.RLock())


def load(ws: Workspace) -> Review:
    """review.json, or an empty review when there is none yet."""
    p = review_path(ws)
    if not p.exists():
        return Review()
    try:
        return read_model(p, Review)
    except (ValueError, OSError) as exc:
        raise V2AError(f"{p} is damaged ({str(exc).splitlines()[0]}); it holds the editor's "
                       "work, so it is left as it is — fix or move it away") from None


class ReviewStore:
    """The review of one work folder."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.path = review_path(ws)
        self._lock = _thread_lock(self.path)

    def load(self) -> Review:
        with self._locked():
            return load(self.ws)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            if fcntl is None:
                yield
                return
            self.ws.meta.mkdir(parents=True, exist_ok=True)
            with open(self.ws.meta / "review.lock", "a+") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def change(self) -> Iterator[Review]:
        """Read, let the caller change, write atomically; nothing is written on an exception."""
        with self._locked():
            review = load(self.ws)
            yield review
            review.updated_at = now()
            try:
                write_json(self.path, review)
            except OSError as exc:  # the previous review.json is intact (atomic write)
                raise SaveFailed(self.path, exc) from None
