"""Generated lectures shared by the benchmarks (cached: 60 minutes takes a few minutes)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rich.console import Console

CACHE = Path(__file__).resolve().parent / ".cache"


def lecture(minutes: float) -> Path:
    """A generated talk of about ``minutes``, with its ``.script.json`` ground truth.

    Spoken from the Python Language Reference (``bench.long_talk``): an hour that never repeats
    itself, with topic changes that no pause or screen marks. The file name carries a hash of
    the script, so a change to the generator never reuses a talk made by the old one.
    """
    from .long_talk import make_long_talk, talk_data

    digest = hashlib.sha256(json.dumps(talk_data(minutes), sort_keys=True).encode()).hexdigest()
    path = CACHE / f"talk-{int(minutes)}m-{digest[:8]}.mp4"
    if not path.exists() or not path.with_suffix(".script.json").exists():
        Console().print(f"generating a {minutes:g}-minute talk → {path}")
        make_long_talk(path, minutes=minutes)
    return path
