"""Progress reporting: rich bars on a terminal, silence when quiet. Stages only see ``Progress``."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as RichProgress,
)

console = Console(stderr=True, highlight=False)


class Task(Protocol):
    def update(self, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None: ...

    def advance(self, amount: float = 1.0) -> None: ...


class Progress(Protocol):
    def task(self, description: str,
             total: float | None = None) -> contextlib.AbstractContextManager[Task]: ...

    def log(self, message: str) -> None: ...


class _NullTask:
    def update(self, completed=None, total=None, description=None) -> None:
        pass

    def advance(self, amount: float = 1.0) -> None:
        pass


class NullProgress:
    """For --quiet, tests and library use."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Task]:
        yield _NullTask()

    def log(self, message: str) -> None:
        pass


class _RichTask:
    def __init__(self, progress: RichProgress, task_id):
        self._p, self._id = progress, task_id

    def update(self, completed=None, total=None, description=None) -> None:
        kw = {}
        if completed is not None:
            kw["completed"] = completed
        if total is not None:
            kw["total"] = total
        if description is not None:
            kw["description"] = description
        self._p.update(self._id, **kw)

    def advance(self, amount: float = 1.0) -> None:
        self._p.advance(self._id, amount)


class RichProgressReporter:
    """One live rich display shared by every stage (and every video in a batch; thread-safe)."""

    def __init__(self, prefix: str = "", console_: Console | None = None,
                 progress: RichProgress | None = None):
        self.console = console_ or console
        self.prefix = prefix
        self._own = progress is None
        self._progress = progress or RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._lock = threading.Lock()
        self._active = 0

    def child(self, prefix: str) -> RichProgressReporter:
        """A reporter that shares this display, labelling its bars (one per batch video)."""
        return RichProgressReporter(prefix=prefix, console_=self.console, progress=self._progress)

    @property
    def rich(self) -> RichProgress:
        return self._progress

    def __enter__(self):
        if self._own:
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._own:
            self._progress.stop()

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Task]:
        label = f"{self.prefix}{description}"
        task_id = self._progress.add_task(label, total=total)
        try:
            yield _RichTask(self._progress, task_id)
            t = self._progress.tasks[[t.id for t in self._progress.tasks].index(task_id)]
            if t.total is not None:
                self._progress.update(task_id, completed=t.total)
        finally:
            if not self._own:
                # in batch mode finished bars would pile up; the overall bar tells the story
                self._progress.remove_task(task_id)

    def log(self, message: str) -> None:
        self._progress.console.log(f"{self.prefix}{message}")


def reporter(quiet: bool) -> NullProgress | RichProgressReporter:
    """Bars on the terminal, or silence with --quiet."""
    return NullProgress() if quiet else RichProgressReporter()


# whole escape sequences first (OSC: titles, OSC-8 links; CSI: colours, cursor), then any other
# control character: with the single characters first, "ESC[31m" left "[31m" behind
_CONTROL = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]"
                      r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    """Outside text (titles, messages) made safe for the terminal: no Rich markup, no control
    or escape sequences."""
    from rich.markup import escape

    return escape(_CONTROL.sub("", str(text)))
