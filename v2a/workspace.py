"""The work folder of one video: artifact paths, atomic writes, stage records and the stage log.

Layout of ``outputs/<slug>/``::

    source.json  media/  audio.wav  transcript.json|.srt|.vtt  scenes.json  keyframes/
    outline.json  chapters.json  article.md  article.html  run.json
    .v2a/stages/<stage>.json   cache record per stage (input hash, output hash, wall time)
    .v2a/stages.log            one JSON line per stage decision (ran / cached) — the audit trail
    .v2a/llm/<key>.json        per-call LLM cache
    .v2a/config.json           the options of the last run
    review.json                the editor's layer (v2a review): never written by a run
    checks.json                the doubts about the article (the checks stage; v2a check)
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
from typing import TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import V2AError
from .stages import SOURCE, Artifact, producer

BATCH_FILE = "batch.json"  # a batch's state, in the batch folder beside videos/

T = TypeVar("T", bound=BaseModel)
A = TypeVar("A", bound=BaseModel)

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


class ArtifactError(V2AError):
    """An artifact that cannot be read: not JSON, or not the shape its stage writes."""


def read_model(path: Path, cls: type[T]) -> T:
    """Load a JSON artifact; a damaged or hand-broken one is one line naming the file, the
    field and the fix, never a traceback."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise ArtifactError(f"{path} is not UTF-8 text; {_fix(path)}") from None
    try:
        return cls.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        if err["type"] == "json_invalid":
            detail = str((err.get("ctx") or {}).get("error", err["msg"]))
            raise ArtifactError(f"{path} is not valid JSON ({detail}); {_fix(path)}") from None
        got = f" (got {_short(err['input'])})" if "input" in err else ""
        raise ArtifactError(f"{path}: {where or 'the file'}: {err['msg']}{got}; "
                            f"{_fix(path)}") from None


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _fix(path: Path) -> str:
    stage = producer(path.name)  # a damaged artifact names the stage that can rebuild it
    hint = f"re-run with --force {stage} to rebuild it" if stage else "delete it to rebuild it"
    return f"fix it by hand or {hint}"


class RunLock:
    """An exclusive advisory lock (flock) on a file; the kernel drops it if the holder dies."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: TextIO | None = None

    def acquire(self) -> RunLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise V2AError(f"another v2a run (pid {holder}) is working in {self.path.parent.parent}"
                           "; wait for it to finish or stop it, then run again") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            import fcntl

            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


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
        return self.root / SOURCE.name

    def read(self, artifact: Artifact[A]) -> A:
        """A stage's artifact, validated against its model (one clear line if damaged)."""
        assert artifact.model is not None, f"{artifact.name} has no model"
        return read_model(self.path(artifact.name), artifact.model)

    def write(self, artifact: Artifact[A], value: A) -> None:
        write_json(self.path(artifact.name), value)

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
    def run_json(self) -> Path:
        """What the last run did (``RunReport``)."""
        return self.root / "run.json"

    @property
    def checks_json(self) -> Path:
        """The doubts (``v2a.models.Checks``): the checks stage's artifact (``CHECKS``), which
        ``v2a check`` runs on its own."""
        return self.root / "checks.json"

    @property
    def config_path(self) -> Path:
        """The options of the last run (``v2a review``/``publish`` reuse them)."""
        return self.meta / "config.json"

    def ensure(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.meta / "stages").mkdir(parents=True, exist_ok=True)
        return self

    def lock(self) -> RunLock:
        """Hold the folder for one run: a second v2a on it gets one clear line, not a race."""
        return RunLock(self.meta / "run.lock").acquire()

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
