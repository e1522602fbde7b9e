"""The work folder of one video: artifact paths, atomic writes, stage records and the stage log.

Layout of ``outputs/<slug>/``::

    source.json  media/  audio.wav  transcript.json|.srt|.vtt  scenes.json  keyframes/
    outline.json  chapters.json  article.md  article.html  run.json
    .v2a/stages/<stage>.json   cache record per stage (input hash, output hash, wall time)
    .v2a/stages.log            one JSON line per stage decision (ran / cached) — the audit trail
    .v2a/llm/<key>.json        per-call LLM cache
    .v2a/config.json           the options of the last run
    review.json                the editor's layer (v2a review): never written by a run
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)

_SLUG_BAD = re.compile(r"[^a-z0-9]+")
_UMASK = os.umask(0)
os.umask(_UMASK)


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII, lowercase, dash-separated; never empty, never '.'/'..', never a path."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_BAD.sub("-", norm).strip("-")[:max_len].strip("-")
    return slug or "video"


def source_slug(title: str, ident: str) -> str:
    """Folder name for a source: readable title plus a stable id so two 'Lecture 1's don't clash."""
    return f"{slugify(title, 48)}-{slugify(ident, 24)}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_json(obj) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode())


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file + rename so a kill never leaves a half-written artifact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600 files; artifacts are meant to be served and shared like any file
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj) -> None:
    if isinstance(obj, BaseModel):
        text = obj.model_dump_json(indent=2)
    else:
        text = json.dumps(obj, indent=2, ensure_ascii=False, default=str)
    atomic_write_text(path, text + "\n")


def read_model(path: Path, cls: type[T]) -> T:
    return cls.model_validate_json(path.read_text("utf-8"))


class Workspace:
    """One video's work folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.meta = self.root / ".v2a"

    # artifact paths ---------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def source_json(self) -> Path:
        return self.root / "source.json"

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    @property
    def keyframes_dir(self) -> Path:
        return self.root / "keyframes"

    @property
    def llm_cache_dir(self) -> Path:
        return self.meta / "llm"

    @property
    def config_path(self) -> Path:
        """The options of the last run (``v2a review``/``publish`` reuse them)."""
        return self.meta / "config.json"

    def ensure(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.meta / "stages").mkdir(parents=True, exist_ok=True)
        return self

    def resolve(self, rel: str | Path) -> Path:
        """Artifact paths are stored relative to the work folder; absolute ones pass through."""
        p = Path(rel)
        return p if p.is_absolute() else self.root / p

    # stage records ----------------------------------------------------------------------------
    def record_path(self, stage: str) -> Path:
        return self.meta / "stages" / f"{stage}.json"

    def read_record(self, stage: str) -> dict | None:
        p = self.record_path(stage)
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a damaged record just means "re-run this stage"

    def write_record(self, stage: str, record: dict) -> None:
        write_json(self.record_path(stage), record)

    def drop_record(self, stage: str) -> None:
        self.record_path(stage).unlink(missing_ok=True)

    def log_stage(self, stage: str, action: str, **extra) -> None:
        """Append to the stage log (the proof of what ran and what was served from cache)."""
        self.meta.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"t": time.time(), "stage": stage, "action": action, **extra})
        with open(self.meta / "stages.log", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def stage_log(self) -> list[dict]:
        p = self.meta / "stages.log"
        if not p.exists():
            return []
        return [json.loads(line) for line in p.read_text("utf-8").splitlines() if line.strip()]
