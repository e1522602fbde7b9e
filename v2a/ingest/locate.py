"""Which work folder belongs to a source — found again on re-runs without touching the network.

``<out_root>/.sources.json`` maps each input (a local file's resolved path, or the URL as typed)
to its folder name. Only a source never seen before costs a yt-dlp metadata request.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

from ..config import Config
from ..errors import InputError
from ..workspace import slugify, source_slug, write_json
from .local import local_id
from .ytdlp import extract, is_url

INDEX = ".sources.json"
_DOMAIN = re.compile(r"^(?:www\.)?[\w-]+(?:\.[a-z]{2,})+/", re.I)  # youtube.com/watch?v=...
_lock = threading.Lock()  # batch runs locate several sources from threads


def source_key(src: str) -> str:
    """The index key: URLs as given, local files by resolved absolute path."""
    return src.strip() if is_url(src.strip()) else str(Path(src).expanduser().resolve())


def local_path(src: str) -> Path:
    """The media file for a local input, or a one-line error saying why there is none."""
    p = Path(src).expanduser()
    if not p.exists():
        hint = " (URLs need http:// or https://)" if _DOMAIN.match(src) else ""
        raise InputError(f"file not found: {src}{hint}")
    if p.is_dir():
        raise InputError(f"{src} is a folder, not a media file")
    return p.resolve()


def _read_index(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}  # a damaged index only costs a metadata lookup
    return {k: v for k, v in data.items() if isinstance(v, str) and v == slugify(v, 200)} \
        if isinstance(data, dict) else {}


def _new_slug(src: str, config: Config) -> str:
    if not is_url(src):
        p = local_path(src)
        return source_slug(p.stem, local_id(p))
    info = extract(src, config)
    if info.get("_type") == "playlist":
        n = len(info.get("entries") or [])
        raise InputError(f"{src} is a playlist ({n} entries); use `v2a batch {src}` to process it")
    return source_slug(info.get("title") or info.get("id") or "video", info.get("id") or "video")


def locate_workspace(src: str, config: Config) -> Path:
    """The work folder for ``src``: ``config.workdir``, or the indexed/new ``out_root/<slug>``."""
    src = src.strip()
    if not src:
        raise InputError("no source given")
    if not is_url(src):
        local_path(src)  # fail early and clearly on a missing file
    if config.workdir:
        return Path(config.workdir)
    root = Path(config.out_root)
    index_path = root / INDEX
    key = source_key(src)
    with _lock:
        slug = _read_index(index_path).get(key)
    if slug:
        return root / slug
    slug = _new_slug(src, config)  # may hit the network: outside the lock
    with _lock:
        index = _read_index(index_path)  # re-read: another thread may have added entries
        index[key] = slug
        root.mkdir(parents=True, exist_ok=True)
        write_json(index_path, dict(sorted(index.items())))
    return root / slug
