"""Generated lectures shared by the benchmarks (cached: 60 minutes takes a few minutes)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

CACHE = Path(__file__).resolve().parent / ".cache"


def lecture(minutes: float) -> Path:
    """A generated lecture of about ``minutes``, with its ``.script.json`` ground truth."""
    from v2a.samples import make_lecture

    path = CACHE / f"lecture-{int(minutes)}m.mp4"
    if not path.exists() or not path.with_suffix(".script.json").exists():
        Console().print(f"generating a {minutes:g}-minute lecture → {path}")
        make_lecture(path, minutes=minutes)
    return path
