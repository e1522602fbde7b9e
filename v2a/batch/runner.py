"""Run many videos with media work and LLM work overlapping, one failure never stopping the rest.

Each video goes through two phases: *media* (ingest, audio, transcribe, scenes — the pipeline's
"media" target) on ``media_workers`` threads, then *llm* (outline, write, render — the "run"
target, whose media stages are served from the stage cache) on ``llm_workers`` threads. So video
2 downloads and transcribes while video 1's chapters are being written. A small hand-off queue
keeps the media side from running far ahead of the LLM (which would only compete for the CPU).

Threads are enough: the heavy work happens in ffmpeg/CTranslate2/OpenCV (GIL released) and in
the LLM server's own process. Workers are daemon threads so Ctrl-C never waits for a stage.
"""

from __future__ import annotations

import queue
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..errors import LLMError, V2AError
from ..hookspecs import hookimpl
from ..pipeline import outputs, run_pipeline
from ..progress import NullProgress, Task, plain
from ..stage import StageContext
from ..stages import STAGES
from ..workspace import Workspace, atomic_write_text
from .state import EntryState, StateStore, now

_POLL = 0.2  # seconds; how quickly workers and the main thread notice a stop


@dataclass
class _Job:
    key: str
    label: str  # "[2/5] "
    wall: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


def article_files(config: Config) -> tuple[str, ...]:
    """What the render stage writes for ``config``'s formats (the renderers' files): a video
    is done while they are all there."""
    return outputs(STAGES["render"], config)


def article_title(workdir: Path, config: Config) -> str | None:
    """The article's title as every format shows it (its H1), for the site's table of contents."""
    from ..render.stage import load_article

    try:
        return load_article(StageContext(ws=Workspace(workdir), config=config, src="")).title
    except (V2AError, OSError, ValueError):
        return None


class BatchRunner:
    def __init__(self, store: StateStore, root: Path, config: Config, *,
                 media_workers: int | None = 1, llm_workers: int = 1, progress=None,
                 open_llm=None, overlap: bool = True):
        self.store, self.root, self.config = store, Path(root), config
        self._open_llm = open_llm  # None: v2a.llm.open.open_llm, lazy (embedded server)
        self.overlap = overlap  # False: one video at a time, start to finish (the benchmark's baseline)
        self.media_workers, self.llm_workers = max(1, media_workers or 1), max(1, llm_workers)
        self.progress = progress or NullProgress()
        self.stop = threading.Event()
        self._media_q: queue.Queue[_Job] = queue.Queue()
        # hand-off of media-complete videos; bounded = back-pressure on the media side
        self._llm_q: queue.Queue[_Job] = queue.Queue(maxsize=self.llm_workers + 1)
        self._left = 0
        self._cv = threading.Condition()
        self._llm = None
        self._llm_error: V2AError | None = None
        self._llm_lock = threading.Lock()
        self._overall: Task | None = None

    # ---- what to run --------------------------------------------------------------------------
    def todo(self, keys: set[str] | None = None) -> list[EntryState]:
        """Pending and failed entries, plus 'done' ones whose article has since disappeared."""
        names = article_files(self.config)
        return self.store.state.todo(
            lambda rel: all((self.root / rel / n).exists() for n in names), keys)

    def video_config(self, e: EntryState) -> Config:
        update: dict[str, object] = {"workdir": self.root / e.workdir,
                                     "out_root": self.root / "videos"}
        if e.title and not re.search(r"://|[/\\]", e.title):
            # a feed item's or playlist entry's human title beats what the download reports
            # (a generic extractor names a bare media URL after its file)
            update["title"] = e.title
        return self.config.model_copy(update=update)

    # ---- main ---------------------------------------------------------------------------------
    def run(self, keys: list[str] | None = None) -> list[EntryState]:
        """Process ``todo(keys)``; returns those entries. Ctrl-C leaves them resumable."""
        jobs = self.todo(set(keys) if keys is not None else None)
        n = len(jobs)
        if not n:
            return []
        self._left = n
        for i, e in enumerate(jobs, 1):
            self._media_q.put(_Job(key=e.key, label=f"[{i}/{n}] "))
        if self.overlap:
            threads = [threading.Thread(target=self._media_worker, daemon=True, name=f"media-{i}")
                       for i in range(self.media_workers)]
            threads += [threading.Thread(target=self._llm_worker, daemon=True, name=f"llm-{i}")
                        for i in range(self.llm_workers)]
        else:
            threads = [threading.Thread(target=self._serial_worker, daemon=True, name="serial")]
        self._open_shared_llm()
        try:
            with self.progress.task("batch", total=n) as overall:
                self._overall = overall
                for t in threads:
                    t.start()
                with self._cv:
                    while self._left > 0:
                        self._cv.wait(_POLL)  # timed, so Ctrl-C reaches this thread
                        if not any(t.is_alive() for t in threads):
                            break  # a worker died outside a video (e.g. disk full): stop
        except BaseException:
            self.stop.set()
            self._close_llm()  # stops in-flight LLM calls too; their results are discarded
            for e in self.store.state.entries.values():
                if e.status == "running":
                    self.store.update(e.key, status="pending", phase=None)
            raise
        finally:
            self._close_llm()
        return [self.store.state.entries[e.key] for e in jobs]

    # ---- workers ------------------------------------------------------------------------------
    def _next_media_job(self) -> tuple[_Job, EntryState] | None:
        try:
            job = self._media_q.get_nowait()
        except queue.Empty:
            return None
        e = self.store.update(job.key, status="running", phase="media", reason=None,
                              attempts=self.store.state.entries[job.key].attempts + 1,
                              started_at=now(), finished_at=None)
        return job, e

    def _serial_worker(self) -> None:
        while not self.stop.is_set() and (nxt := self._next_media_job()):
            job, e = nxt
            if self._phase(job, e, "media"):
                self._llm_phase(job)

    def _media_worker(self) -> None:
        while not self.stop.is_set() and (nxt := self._next_media_job()):
            job, e = nxt
            if self._phase(job, e, "media"):
                self.store.update(job.key, phase="waiting")  # media done, queued for the LLM
                while not self.stop.is_set():
                    try:
                        self._llm_q.put(job, timeout=_POLL)
                        break
                    except queue.Full:
                        continue

    def _llm_worker(self) -> None:
        while not self.stop.is_set():
            try:
                job = self._llm_q.get(timeout=_POLL)
            except queue.Empty:
                with self._cv:
                    if self._left == 0:
                        return
                continue
            self._llm_phase(job)

    def _llm_phase(self, job: _Job) -> None:
        e = self.store.update(job.key, phase="llm")
        if self._phase(job, e, "llm"):
            self._finish(job, status="done",
                         article_title=article_title(self.root / e.workdir, self.video_config(e)))

    def _phase(self, job: _Job, e: EntryState, phase: str) -> bool:
        """Run one phase of one video; record a failure and return False if it fails."""
        cfg = self.video_config(e)
        child = self.progress.child(job.label) if hasattr(self.progress, "child") else self.progress
        assert cfg.workdir is not None
        ctx = StageContext(ws=Workspace(cfg.workdir).ensure(), config=cfg, src=e.url,
                           progress=child)
        t0 = time.perf_counter()
        job.timings[phase] = 0.0
        try:
            if phase == "llm":
                ctx.llm_handle = self._llm_handle()
            with child.task(f"{plain(_short(e.title))} · {phase}", total=None):
                run_pipeline(e.url, cfg, target="media" if phase == "media" else "run",
                             progress=child, ctx=ctx)
        except V2AError as exc:
            self._clock(job, phase, t0)
            self._fail(job, phase, str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a bug on one video must not end the batch
            self._clock(job, phase, t0)
            atomic_write_text(ctx.ws.meta / "batch-error.txt", traceback.format_exc())
            self._fail(job, phase, f"internal error ({type(exc).__name__}: {exc}); "
                                   f"traceback in {e.workdir}/.v2a/batch-error.txt")
            return False
        self._clock(job, phase, t0)
        return True

    @staticmethod
    def _clock(job: _Job, phase: str, t0: float) -> None:
        dt_ = time.perf_counter() - t0
        job.wall += dt_
        job.timings[phase] = round(dt_, 2)

    def _fail(self, job: _Job, phase: str, reason: str) -> None:
        if self.stop.is_set():
            return  # most likely caused by the interrupt itself: leave it for the next run
        title = self.store.state.entries[job.key].title
        self.progress.log(f"[red]failed[/] {plain(title)}: {plain(reason)}")
        self._finish(job, status="failed", phase=phase, reason=reason)

    def _finish(self, job: _Job, **fields) -> None:
        if self.stop.is_set() and fields.get("status") != "done":
            return
        fields.setdefault("phase", None)
        self.store.update(job.key, finished_at=now(), wall_s=round(job.wall, 2),
                          timings=dict(job.timings), **fields)
        if self._overall is not None:
            self._overall.advance(1)
        with self._cv:
            self._left -= 1
            self._cv.notify_all()

    # ---- the shared LLM ------------------------------------------------------------------------
    def _open_shared_llm(self) -> None:
        """One LLM handle for the whole batch, opened from the main thread.

        The default is the client's lazy handle: the embedded server starts on the first call
        that misses a work folder's LLM cache (so a fully cached resume never starts it), and
        opening from the main thread lets it install its SIGTERM handler. An endpoint that
        cannot be used (e.g. no API key) is recorded once and fails each video's LLM phase.
        """
        if self._open_llm is None:
            from ..llm.open import open_llm

            # a child reporter removes its bars when done (e.g. "starting local model")
            prog = self.progress.child("") if hasattr(self.progress, "child") else self.progress
            self._open_llm = lambda cfg: open_llm(cfg, prog, lazy=True)
        try:
            self._llm = self._open_llm(self.config)
        except V2AError as exc:
            self._llm_error = exc

    def _llm_handle(self):
        if self._llm_error is not None:
            raise self._llm_error
        if self._llm is None:  # closed: the batch is stopping; never let a stage open its own
            raise LLMError("the batch is stopping")
        return self._llm

    def _close_llm(self) -> None:
        with self._llm_lock:
            if self._llm is not None:
                try:
                    self._llm.close()
                finally:
                    self._llm = None


def _short(title: str, n: int = 32) -> str:
    return title if len(title) <= n else title[: n - 1] + "…"


@hookimpl
def register_batch_engines(register):
    # threads on this machine: media work of one video overlaps the LLM work of another
    register("local", BatchRunner)
