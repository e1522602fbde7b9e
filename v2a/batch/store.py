"""Artifacts on storage every node sees, through fsspec: a shared path or file:// URL, or an
object store (s3://bucket/prefix, gs://, az://, with that protocol's fsspec package installed).

A node never works in the store directly: ``Mirror`` copies one video's folder onto the node's
scratch disk, the stages run there, and what changed goes back after every finished stage —
artifacts first, stage records last, so the store never holds a record whose artifacts are not
there yet. A killed worker therefore loses at most the stage it was in.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from ..errors import UsageError
from ..llm.cache import LLMCache
from ..stages import big_files

# moved only when a stage that reads them has to run (the llm phase takes audio.wav for the
# checks' second listen, never the video); the stages' big artifacts (``Artifact(role="big")``)
# are moved the same way
BIG_DIRS = ("media/",)
RECORDS = ".v2a/stages/"

Snapshot = dict[str, tuple[int, int]]  # path relative to the folder -> (size, mtime_ns)


def is_big(rel: str) -> bool:
    return rel in big_files() or rel.startswith(BIG_DIRS)


def store_url(value: str | None, default: Path) -> str:
    """``--store`` as an fsspec URL: a plain path becomes file://; None means ``default``."""
    if not value:
        return Path(default).resolve().as_uri()
    if "://" not in value:
        return Path(value).expanduser().resolve().as_uri()
    return value.rstrip("/")


def is_local_url(url: str) -> bool:
    return urlsplit(url).scheme in ("file", "local", "")


def snapshot(root: Path) -> Snapshot:
    out: Snapshot = {}
    if not root.exists():
        return out
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if f.startswith(".") and f.endswith(".tmp"):
                continue  # an atomic write in progress
            st = p.stat()
            out[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


class ArtifactStore:
    """The batch's folder in the store (``url``); paths below it are POSIX-relative."""

    def __init__(self, url: str):
        try:
            import fsspec
        except ImportError:
            raise UsageError("--store needs fsspec: pip install 'v2a[ray]'") from None
        self.url = url.rstrip("/")
        try:
            self.fs, self.base = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as exc:
            raise UsageError(f"--store {url}: {exc}") from None
        self.base = self.base.rstrip("/")
        self.local = is_local_url(self.url)

    def path(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    def files(self, rel: str) -> list[str]:
        """Files under ``rel``, relative to it (none when it does not exist)."""
        top = self.path(rel)
        try:
            found = self.fs.find(top, withdirs=False)
        except FileNotFoundError:
            return []
        top = self.fs._strip_protocol(top).rstrip("/")
        return sorted(PurePosixPath(self.fs._strip_protocol(f)).relative_to(top).as_posix()
                      for f in found)

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self.path(rel)))

    def get(self, rel: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        self.fs.get_file(self.path(rel), str(local))

    def put(self, local: Path, rel: str) -> None:
        """Upload one file; on a shared file system via a temporary name and a rename, so a
        reader never sees half a file (an object store's PUT is atomic already)."""
        target = self.path(rel)
        self.fs.makedirs(self.fs._parent(target), exist_ok=True)
        if self.local:
            tmp = f"{self.fs._parent(target)}/.{PurePosixPath(target).name}.{uuid.uuid4().hex}.tmp"
            self.fs.put_file(str(local), tmp)
            os.replace(self.fs._strip_protocol(tmp), self.fs._strip_protocol(target))
        else:
            self.fs.put_file(str(local), target)

    def remove(self, rel: str) -> None:
        try:
            self.fs.rm_file(self.path(rel))
        except FileNotFoundError:
            pass


class Mirror:
    """One video's folder: ``rel`` in the store, ``local`` on this node's scratch disk."""

    def __init__(self, store: ArtifactStore, rel: str, local: Path):
        self.store, self.rel, self.local = store, rel.strip("/"), Path(local)
        self._known: Snapshot = {}  # what the store holds of the local files, as of last sync
        self.remote: set[str] = set()  # every file the store held at the last pull

    def pull(self, big: bool = False, also: Collection[str] = ()) -> int:
        """Copy the store's files here (``big``: media and audio.wav too; ``also``: these big
        files); returns the count."""
        n = 0
        names = self.store.files(self.rel)
        self.remote = set(names)
        for name in names:
            if (is_big(name) and not big and name not in also) or name in self._known:
                continue
            if name.endswith(".tmp") and PurePosixPath(name).name.startswith("."):
                continue  # someone else's upload in progress
            dst = self.local / name
            self.store.get(f"{self.rel}/{name}", dst)
            st = dst.stat()
            self._known[name] = (st.st_size, st.st_mtime_ns)
            n += 1
        return n

    def push(self) -> int:
        """Write back what changed here since the last sync; returns the files written."""
        now = snapshot(self.local)
        for name in [n for n in self._known if n not in now]:
            self.store.remove(f"{self.rel}/{name}")  # e.g. a record dropped for a re-run
            del self._known[name]
        changed = [n for n in now if self._known.get(n) != now[n]]
        changed.sort(key=lambda n: n.startswith(RECORDS))  # records after their artifacts
        for name in changed:
            self.store.put(self.local / name, f"{self.rel}/{name}")
            self._known[name] = now[name]
        return len(changed)

    def push_file(self, path: Path) -> None:
        """Write one file back now (an LLM reply the moment it arrives)."""
        name = Path(path).relative_to(self.local).as_posix()
        st = Path(path).stat()
        self.store.put(Path(path), f"{self.rel}/{name}")
        self._known[name] = (st.st_size, st.st_mtime_ns)


class MirroredLLMCache(LLMCache):
    """The per-call LLM cache whose every new reply is written to the store at once: a worker
    killed halfway through a chapter batch loses no call that finished."""

    def __init__(self, root: Path, mirror: Mirror):
        super().__init__(root)
        self.mirror = mirror
        self.puts = 0  # replies that came from the endpoint (calls paid for) in this phase

    def put(self, key: str, entry: dict) -> None:
        super().put(key, entry)
        with self._lock:
            self.puts += 1
        self.mirror.push_file(self._path(key))
