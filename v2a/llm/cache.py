"""Per-call LLM cache: one JSON file per (model, prompt template hash, inputs) under .v2a/llm/.

The raw reply is cached (validation happens after), so a re-run replays exactly the same
repairs and fallbacks without a single call, and an unchanged re-run never starts a server.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ..workspace import sha256_json, write_json


class LLMCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(material: dict) -> str:
        return sha256_json(material)

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> dict | None:
        p = self._path(key)
        try:
            entry = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError):
            with self._lock:
                self.misses += 1
            return None  # absent or damaged: just call again
        with self._lock:
            self.hits += 1
        return entry

    def put(self, key: str, entry: dict) -> None:
        write_json(self._path(key), entry)

    def drop(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
