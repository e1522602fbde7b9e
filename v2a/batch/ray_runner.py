"""``v2a batch --engine ray``: the same batch on a Ray cluster (imported only for that engine).

Each video goes through three phases, each a Ray task routed by what limits it:

* ``download`` (ingest) — a task that reserves no CPU: it waits on the network;
* ``media`` (audio, transcribe, scenes) — a call on a ``MediaWorker`` actor that reserves
  ``--media-cpus`` CPUs (and a GPU when the cluster has GPUs), so Whisper loads once per actor;
* ``llm`` (outline, write, render) — a task that reserves no CPU and sends every LLM call through
  one ``LLMGateway`` actor, whose concurrency (``--llm-workers`` x ``--llm-concurrency``) caps the
  requests in flight to the endpoint across the whole cluster (with the embedded model, the
  gateway is the one process that runs its server).

The driver (this process) keeps at most ``--max-in-flight`` videos between download and done,
so downloads cannot fill the disks, and feeds the same live view and batch.json as the local
engine from a small ``StatusBoard`` actor the workers report to. Artifacts live in the store
(``v2a.batch.store``); Ray re-runs a phase whose worker died (``--task-retries``), and the phase
resumes from the store after its last finished stage.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError

from .. import glossary
from ..config import Config
from ..errors import LLMError, UsageError, V2AError
from ..llm.base import BaseLLM, Completion
from ..progress import NullProgress
from ..workspace import BATCH_FILE
from .phases import PhaseResult, Report, VideoJob, node_config, run_phase
from .runner import article_files, article_title
from .state import EntryState, StateStore, now
from .store import ArtifactStore, Mirror, is_local_url, store_url

_POLL = 0.25  # seconds between looks at finished tasks and the status board

# --------------------------------------------------------------------------------------------
# on the workers


class StatusBoard:
    """Which stage each video is in, as the workers report it (the driver polls it)."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def note(self, key: str, stage: str, what: str, pid: int, node: str) -> None:
        self.events.append({"t": time.time(), "key": key, "stage": stage, "what": what,
                            "pid": pid, "node": node})

    def since(self, n: int) -> list[dict]:
        return self.events[n:]


def _reporter(board) -> Report:
    pid, node = os.getpid(), ray.get_runtime_context().get_node_id()
    return lambda key, stage, what: board.note.remote(key, stage, what, pid, node)


def _scratch() -> str | None:
    return os.environ.get("V2A_SCRATCH") or None  # default: the node's temp folder


@ray.remote(num_cpus=0)
def download_phase(job: VideoJob, board) -> PhaseResult:
    return run_phase(job, "download", report=_reporter(board), scratch=_scratch())


class MediaWorker:
    """Runs the media phase; one per reserved slot, so the Whisper model stays loaded."""

    def run(self, job: VideoJob, board) -> PhaseResult:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU") or 1
        return run_phase(job, "media", report=_reporter(board), scratch=_scratch(),
                         asr_threads=max(1, int(cpus)))

    def pid(self) -> int:
        return os.getpid()


class LLMGateway:
    """The one way out to the LLM: its ``max_concurrency`` is the cluster-wide cap on requests
    in flight; with the embedded model it runs the server (started on the first cache miss)."""

    def __init__(self, config: Config) -> None:
        from ..llm.open import open_llm

        self.handle = open_llm(node_config(config, None), lazy=True)

    def raw(self, messages: list[dict], schema, max_tokens: int,
            temperature: float) -> Completion:
        return self.handle.llm.raw(messages, schema=schema, max_tokens=max_tokens,
                                   temperature=temperature)

    def close(self) -> None:
        self.handle.close()


class GatewayLLM(BaseLLM):
    """An ``LLMHandleLike`` for a worker's stages: each call goes through the gateway."""

    def __init__(self, gateway, model_name: str, cache_id: str):
        self.gateway, self.model_name, self.cache_id = gateway, model_name, cache_id

    @property
    def llm(self) -> BaseLLM:
        return self

    def close(self) -> None:
        pass  # the driver owns the gateway

    def raw(self, messages, *, schema, max_tokens, temperature) -> Completion:
        try:
            return ray.get(self.gateway.raw.remote(messages, schema, max_tokens, temperature))
        except RayTaskError as exc:
            if isinstance(exc.cause, V2AError):
                raise exc.cause from None  # e.g. the endpoint refused: one line in the report
            raise LLMError(f"LLM gateway failed: {exc.cause or exc}") from None
        except RayError as exc:  # the gateway is gone for good (restarts used up)
            raise LLMError(f"LLM gateway lost: {type(exc).__name__}") from None


@ray.remote(num_cpus=0)
def llm_phase(job: VideoJob, board, gateway, model_name: str, cache_id: str) -> PhaseResult:
    return run_phase(job, "llm", llm=GatewayLLM(gateway, model_name, cache_id),
                     report=_reporter(board), scratch=_scratch())


# --------------------------------------------------------------------------------------------
# on the driver


@dataclass
class _Video:
    entry: EntryState
    job: VideoJob
    label: str
    phase: str = "queued"
    stage: str = ""
    wall: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    llm_calls: int = 0
    bar: Any = None  # the live view's bar while running
    bar_cm: Any = None


def connect(address: str | None) -> bool:
    """Join the cluster at ``address`` (or $RAY_ADDRESS), or start a one-machine Ray for this
    batch. Returns whether this process started or joined it (and so must leave it)."""
    if ray.is_initialized():
        return False  # e.g. a driver started by `ray job submit` that set Ray up itself
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and address != "auto":
        _reachable(address)
    kw: dict[str, Any] = dict(logging_level=logging.ERROR, log_to_driver=False,
                              configure_logging=True)
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(include_dashboard=False, **kw)
    except ConnectionError as exc:
        raise UsageError(f"--address {address}: no Ray cluster there ({exc})") from None
    except (RuntimeError, ValueError) as exc:  # e.g. token auth without a token
        raise UsageError(f"cannot join the Ray cluster at {address or 'a new local one'}: "
                         f"{str(exc).splitlines()[0]}") from None
    return True


def _reachable(address: str) -> None:
    """Ray retries an unreachable GCS for minutes; a wrong --address should be one quick line."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--address {address}: want auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise UsageError(f"--address {address}: no Ray cluster answers there "
                         f"({exc.strerror or exc})") from None


class RayBatchRunner:
    """Same contract as the local ``BatchRunner``: ``run(keys)`` processes the pending/failed
    entries of ``store`` and records each outcome; ``progress`` is the live view."""

    def __init__(self, store: StateStore, root: Path, config: Config, *,
                 media_workers: int | None = None, llm_workers: int = 1, progress=None):
        self.store, self.root, self.config = store, Path(root), config
        self.media_workers, self.llm_workers = media_workers, max(1, llm_workers)
        self.progress = progress or NullProgress()
        self.artifacts_url = self._artifacts_url()
        self.artifacts = ArtifactStore(self.artifacts_url)
        self.watch = None  # tests: called with each status event on the driver
        self.cluster: dict[str, Any] = {}  # what the run used (for the report and the bench)
        self._gateway: Any = None
        self.calls: dict[str, int] = {}  # LLM calls paid for, per video, in this run

    def _artifacts_url(self) -> str:
        if self.config.store:
            return f"{store_url(self.config.store, self.root)}/{self.root.name}"
        return store_url(None, self.root)

    @property
    def shared_is_local_root(self) -> bool:
        return is_local_url(self.artifacts_url) and Path(
            self.artifacts.base).resolve() == self.root.resolve()

    # ---- what to run --------------------------------------------------------------------------
    def todo(self, keys: set[str] | None = None) -> list[EntryState]:
        """Pending and failed entries, plus 'done' ones whose article has since disappeared."""
        names = article_files(self.config)
        return self.store.state.todo(
            lambda rel: all(self.artifacts.exists(f"{rel}/{n}") for n in names), keys)

    def video_config(self, e: EntryState) -> Config:
        update: dict[str, object] = {"workdir": None, "out_root": self.root / "videos"}
        if e.title and not re.search(r"://|[/\\]", e.title):
            update["title"] = e.title  # as the local engine: a feed's human title wins
        return self.config.model_copy(update=update)

    # ---- main ---------------------------------------------------------------------------------
    def run(self, keys: list[str] | None = None) -> list[EntryState]:
        entries = self.todo(set(keys) if keys is not None else None)
        if not entries:
            return []
        n = len(entries)
        videos = {e.key: _Video(e, VideoJob(e.key, e.url, e.workdir, self.artifacts_url,
                                            self.video_config(e)), f"[{i}/{n}] ")
                  for i, e in enumerate(entries, 1)}
        batch_terms = self.root / glossary.FILENAME
        if batch_terms.exists() and not self.shared_is_local_root:
            self.artifacts.put(batch_terms, glossary.FILENAME)  # the workers read it there
        owns = connect(self.config.ray_address)
        actors: list = []
        try:
            self._run(videos, actors)
        except BaseException:
            for v in videos.values():
                if self.store.state.entries[v.entry.key].status == "running":
                    self.store.update(v.entry.key, status="pending", phase=None)
            raise
        finally:
            for bar_video in videos.values():
                self._bar_off(bar_video)
            self._shutdown(actors, self._gateway, owns)
        return [self.store.state.entries[k] for k in videos]

    def _run(self, videos: dict[str, _Video], actors: list) -> None:
        from ..llm.open import describe

        target = describe(self.config)  # resolved here, so every node keys the cache alike
        res = ray.cluster_resources()
        gpus = int(res.get("GPU", 0))
        cpus = float(res.get("CPU", 0))
        media_cpus = self.config.media_cpus
        if cpus < media_cpus:
            raise UsageError(f"--media-cpus {media_cpus:g}: the Ray cluster has only {cpus:g} "
                             "CPUs")
        fit = max(1, int(cpus // media_cpus))
        if gpus:
            fit = min(fit, gpus)  # each media worker takes one GPU
        n_media = min(self.media_workers or fit, fit)
        if self.media_workers and self.media_workers > fit:
            # more would wait for resources that never come free, with videos queued on them
            self.progress.log(f"[yellow]note:[/] {fit} media workers fit this cluster "
                              f"({cpus:g} CPUs, {gpus} GPUs, --media-cpus {media_cpus:g}), "
                              f"not {self.media_workers}")
        in_flight = self.config.max_in_flight or 2 * n_media + self.llm_workers
        self.cluster = {"nodes": len([x for x in ray.nodes() if x.get("Alive")]), "cpus": cpus,
                        "gpus": gpus, "media_workers": n_media, "llm_workers": self.llm_workers,
                        "max_in_flight": in_flight, "store": self.artifacts_url,
                        "address": ray.get_runtime_context().gcs_address}
        retries = self.config.task_retries

        board = ray.remote(num_cpus=0)(StatusBoard).remote()
        actors.append(board)
        gateway = ray.remote(LLMGateway).options(
            num_cpus=0, max_concurrency=self.llm_workers * self.config.llm_concurrency,
            max_restarts=-1, max_task_retries=retries,
            runtime_env=self._llm_env()).remote(self.config)
        actors.append(gateway)
        self._gateway = gateway
        media_cls = ray.remote(MediaWorker).options(
            num_cpus=media_cpus, num_gpus=1 if gpus else 0, max_restarts=retries,
            max_task_retries=retries, scheduling_strategy="SPREAD")
        idle: list[Any] = [media_cls.remote() for _ in range(n_media)]
        actors.extend(idle)

        queued = deque(videos.values())
        want_media: deque[_Video] = deque()
        want_llm: deque[_Video] = deque()
        running: dict[Any, tuple[_Video, str, Any]] = {}  # ref -> (video, phase, actor)
        active = 0  # videos between their download's start and their end
        seen = 0  # status events consumed
        with self.progress.task("batch", total=len(videos)) as overall:
            while queued or want_media or want_llm or running:
                while queued and active < in_flight:
                    v = queued.popleft()
                    active += 1
                    self._start(v)
                    running[download_phase.options(max_retries=retries).remote(
                        v.job, board)] = (v, "download", None)
                while want_media and idle:
                    v, actor = want_media.popleft(), idle.pop()
                    self._phase(v, "media")
                    running[actor.run.remote(v.job, board)] = (v, "media", actor)
                llm_busy = sum(p == "llm" for _, p, _ in running.values())
                while want_llm and llm_busy < self.llm_workers:
                    v = want_llm.popleft()
                    self._phase(v, "llm")
                    running[llm_phase.options(max_retries=retries).remote(
                        v.job, board, gateway, target.model_name, target.cache_id)] = (
                        v, "llm", None)
                    llm_busy += 1
                if not running:
                    continue
                done, _ = ray.wait(list(running), num_returns=1, timeout=_POLL)
                seen = self._events(board, videos, seen)
                for ref in done:
                    v, phase, actor = running.pop(ref)
                    result = self._result(ref, v, phase)
                    if actor is not None:
                        idle.append(actor if result is not None or _alive(actor)
                                    else self._replace(media_cls, actors))
                    if result is None or not result.ok:
                        self._fail(v, phase, result)
                    elif phase == "download":
                        want_media.append(v)
                    elif phase == "media":
                        self.store.update(v.entry.key, phase="waiting")
                        want_llm.append(v)
                    else:
                        self._done(v)
                    if result is None or not result.ok or phase == "llm":
                        active -= 1
                        overall.advance(1)
            self._events(board, videos, seen)
        if not self.shared_is_local_root:
            with contextlib.suppress(OSError):
                self.artifacts.put(self.store.path, BATCH_FILE)  # the state, beside the work

    # ---- bookkeeping --------------------------------------------------------------------------
    def _llm_env(self) -> dict:
        """The gateway is the only process that needs the API key: it gets it, nobody else."""
        key = os.environ.get(self.config.api_key_env)
        return {"env_vars": {self.config.api_key_env: key}} if key else {}

    def _start(self, v: _Video) -> None:
        e = self.store.state.entries[v.entry.key]
        self.store.update(e.key, status="running", phase="download", reason=None,
                          attempts=e.attempts + 1, started_at=now(), finished_at=None)
        v.phase = "download"
        # a child reporter removes a video's bar when it ends, as in the local engine
        prog = self.progress.child("") if hasattr(self.progress, "child") else self.progress
        v.bar_cm = prog.task(f"{v.label}{_short(e.title)} · download", total=None)
        v.bar = v.bar_cm.__enter__()

    def _phase(self, v: _Video, phase: str) -> None:
        v.phase, v.stage = phase, ""
        self.store.update(v.entry.key, phase=phase)
        self._describe(v)

    def _describe(self, v: _Video) -> None:
        if v.bar is not None:
            where = f"{v.phase}: {v.stage}" if v.stage else v.phase
            v.bar.update(description=f"{v.label}{_short(v.entry.title)} · {where}")

    def _bar_off(self, v: _Video) -> None:
        if v.bar_cm is not None:
            cm, v.bar_cm, v.bar = v.bar_cm, None, None
            cm.__exit__(None, None, None)

    def _events(self, board, videos: dict[str, _Video], seen: int) -> int:
        try:
            events = ray.get(board.since.remote(seen), timeout=10)
        except RayError:
            return seen  # the live view may lag; the work does not depend on it
        for ev in events:
            v = videos.get(ev["key"])
            if v is not None and ev["stage"] and ev["what"] == "start":
                v.stage = ev["stage"]
                self._describe(v)
            if self.watch is not None:
                self.watch(ev)
        return seen + len(events)

    def _result(self, ref, v: _Video, phase: str) -> PhaseResult | None:
        try:
            result: PhaseResult = ray.get(ref)
        except RayError as exc:
            # retries used up: the worker kept dying (out of memory?) or its node is gone
            v.timings[phase] = 0.0
            reason = f"Ray gave up after {self.config.task_retries} retries: {_first_line(exc)}"
            self.store.update(v.entry.key, reason=reason)
            return None
        v.timings[phase] = result.wall_s
        v.wall += result.wall_s
        v.llm_calls += result.llm_calls
        self.calls[v.entry.key] = v.llm_calls
        return result

    def _fail(self, v: _Video, phase: str, result: PhaseResult | None) -> None:
        reason = result.reason if result is not None else self.store.state.entries[
            v.entry.key].reason
        where = (result.stage if result is not None else None) or phase
        self.progress.log(f"[red]failed[/] {v.entry.title}: {reason}")
        self._finish(v, status="failed", phase=where, reason=reason)

    def _done(self, v: _Video) -> None:
        local = self.root / v.entry.workdir
        if not self.shared_is_local_root:
            # the site and the report read the articles here; media stays in the store
            Mirror(self.artifacts, v.entry.workdir, local).pull(big=False)
        self._finish(v, status="done", phase=None,
                     article_title=article_title(local, v.job.config))

    def _finish(self, v: _Video, **fields) -> None:
        self._bar_off(v)
        self.store.update(v.entry.key, finished_at=now(), wall_s=round(v.wall, 2),
                          timings=dict(v.timings), **fields)

    @staticmethod
    def _replace(media_cls, actors: list):
        a = media_cls.remote()
        actors.append(a)
        return a

    @staticmethod
    def _shutdown(actors: list, gateway, owns: bool) -> None:
        if gateway is not None:  # stop the embedded server cleanly first
            with contextlib.suppress(RayError):
                ray.get(gateway.close.remote(), timeout=60)
        for a in actors:
            with contextlib.suppress(RayError, ValueError):
                ray.kill(a, no_restart=True)
        if owns:
            ray.shutdown()


def _alive(actor) -> bool:
    try:
        ray.get(actor.pid.remote(), timeout=30)
        return True
    except RayError:
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return next((x for x in text if x.strip()), type(exc).__name__)[:300]


def _short(title: str, n: int = 32) -> str:
    return title if len(title) <= n else title[: n - 1] + "…"

