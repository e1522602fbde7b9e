"""Peak memory of a process tree, sampled from /proc (VmHWM is each process's own high-water mark,
so sampling every few hundred ms still catches the true peak of every process seen)."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _status(pid: int) -> tuple[str, int]:
    name, hwm = "?", 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Name:"):
                name = line.split()[1]
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="ignore")
    except OSError:
        return name, hwm
    return (name + " " + cmd), hwm


class TreeMonitor:
    """Tracks the peak RSS of a root process and of each descendant, by role."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.peaks: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        while not self._stop.is_set():
            stack = [self.pid]
            while stack:
                p = stack.pop()
                name, hwm = _status(p)
                if hwm:
                    self.peaks[p] = (name, max(hwm, self.peaks.get(p, ("", 0))[1]))
                stack += _children(p)
            self._stop.wait(self.interval)

    def peak(self, pid: int | None = None) -> int:
        return self.peaks.get(pid or self.pid, ("", 0))[1]

    def peak_matching(self, needle: str) -> int:
        return max((h for n, h in self.peaks.values() if needle in n), default=0)

    def summary(self) -> dict:
        llm = max(self.peak_matching(n) for n in ("xllamacpp_child", "llama_cpp.server",
                                                   "llama-server"))
        return {"v2a_peak_rss_mb": round(self.peak() / 2**20, 1),
                "llm_server_peak_rss_mb": round(llm / 2**20, 1) if llm else None,
                "processes": len(self.peaks)}


def self_pid() -> int:
    return os.getpid()
