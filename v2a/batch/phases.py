"""One phase of one video, as a cluster worker runs it: copy the folder from the store onto
scratch, run the phase's stages (each one written back the moment it finishes), clean up.

Phases split a video by what limits it: ``download`` (ingest: the network), ``media``
(audio, scenes, screen, transcribe: CPU or GPU) and ``llm`` (outline, write, render: the LLM
endpoint); each stage declares its phase (``StageSpec.phase``), so a plugin's stage runs in
its own. Nothing here imports Ray; ``ray_runner`` decides where each phase runs.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import glossary
from ..config import Config, default_cache_dir
from ..errors import DownloadError, V2AError
from ..llm.retry import retrying
from ..pipeline import cached_key, run_pipeline
from ..progress import NullProgress
from ..stage import StageContext
from ..stages import big_inputs, phases
from ..workspace import Workspace, atomic_write_text
from .store import ArtifactStore, Mirror, MirroredLLMCache, is_big

# a download that failed like this is tried again with backoff (yt-dlp's own retries cover
# dropped connections mid-file, not a server that answers 429/5xx to the first request)
DOWNLOAD_RETRIES = 4
_TRANSIENT = re.compile(r"\b(429|50[0-4])\b|too many requests|connection (reset|aborted|refused)"
                        r"|timed out|temporar(y|ily)", re.IGNORECASE)


def transient(exc: BaseException) -> bool:
    return isinstance(exc, DownloadError) and bool(_TRANSIENT.search(str(exc)))


# (video key, stage or "", what happened) -> the live view; "" before the phase's first stage
Report = Callable[[str, str, str], None]


@dataclass
class VideoJob:
    key: str
    url: str
    rel: str  # the video's folder in the store, e.g. videos/<slug>
    store_url: str
    config: Config  # the batch's config for this video (title from the feed, etc.)


@dataclass
class PhaseResult:
    key: str
    phase: str
    ok: bool
    reason: str | None = None
    stage: str | None = None  # where it failed
    wall_s: float = 0.0
    stages: dict[str, str] = field(default_factory=dict)  # stage -> ran/cached
    llm_calls: int = 0
    node: str = ""
    pid: int = 0


def node_config(config: Config, workdir: Path | None,
                asr_threads: int | None = None) -> Config:
    """The batch's config on this node: its own model cache and Whisper threads (the CPUs
    reserved for this worker) unless the config set them for all, and its work folder."""
    update: dict[str, object] = {"workdir": workdir}
    if "cache_dir" not in config.model_fields_set:
        update["cache_dir"] = default_cache_dir()
    if asr_threads and "asr_threads" not in config.model_fields_set:
        update["asr_threads"] = asr_threads
    return config.model_copy(update=update)


def cached_keys(ctx: StageContext, names: tuple[str, ...],
                elsewhere: frozenset[str]) -> list[str] | None:
    """Each stage's key if every one of ``names`` is served from its record, else None."""
    keys = []
    for name in names:
        key = cached_key(ctx, name, elsewhere)
        if key is None:
            return None
        keys.append(key)
    return keys


def run_phase(job: VideoJob, phase: str, *, llm=None, report: Report | None = None,
              scratch: str | None = None, asr_threads: int | None = None) -> PhaseResult:
    """Run ``phase`` of ``job`` on this node. A user-facing error (404, bad media, an endpoint
    that refuses) is a failed result, not an exception: Ray only retries what killed a worker."""
    t0 = time.perf_counter()
    res = PhaseResult(job.key, phase, ok=False, node=socket.gethostname(), pid=os.getpid())
    note = report or (lambda key, stage, what: None)
    tmp = Path(tempfile.mkdtemp(prefix="v2a-", dir=scratch))
    # the batch's layout (videos/<slug>), so the batch glossary is found beside it
    ws = Workspace(tmp / "videos" / PurePosixPath(job.rel).name)
    artifacts = ArtifactStore(job.store_url)
    mirror = Mirror(artifacts, job.rel, ws.root)
    names = phases()[phase]
    ctx: StageContext | None = None
    try:
        note(job.key, "", "sync")
        mirror.pull(big=False, also=big_inputs(names) if phase != "media" else ())
        if artifacts.exists(glossary.FILENAME):  # the batch's terms: transcripts and prompts
            artifacts.get(glossary.FILENAME, tmp / glossary.FILENAME)
        cfg = node_config(job.config, ws.root, asr_threads)
        ctx = StageContext(ws=ws.ensure(), config=cfg, src=job.url, progress=NullProgress())
        if phase == "media":
            big = frozenset(n for n in mirror.remote if is_big(n))
            keys = cached_keys(ctx, names, big)
            if keys is not None:
                # all cached: say so as run_stage would, without moving the media here
                for name, key in zip(names, keys):
                    note(job.key, name, "start")
                    ws.log_stage(name, "cached", key=key)
                    res.stages[name] = "cached"
                    note(job.key, name, "cached")
                res.ok = True
                return res
            mirror.pull(big=True)
        if llm is not None:
            ctx.llm_handle = llm
            ctx.llm_cache = MirroredLLMCache(ws.llm_cache_dir, mirror)

        def on_stage(name: str, sr) -> None:
            if sr is None:
                note(job.key, name, "start")
                return
            res.stages[name] = sr.status
            mirror.push()  # a finished stage is never lost, whatever happens next
            note(job.key, name, sr.status)

        tries = DOWNLOAD_RETRIES if phase == "download" else 0
        for attempt in retrying(tries, transient):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    note(job.key, names[0], "retry")
                run_pipeline(job.url, cfg, ctx=ctx, stages=list(names), on_stage=on_stage)
        res.ok = True
    except V2AError as exc:
        res.reason, res.stage = str(exc), _current(ws, names)
    except Exception as exc:  # noqa: BLE001 - a bug on one video must not end the batch
        atomic_write_text(ws.meta / "batch-error.txt", traceback.format_exc())
        res.reason = (f"internal error ({type(exc).__name__}: {exc}); traceback in "
                      f"{job.rel}/.v2a/batch-error.txt")
        res.stage = _current(ws, names)
    finally:
        if ctx is not None and isinstance(ctx.llm_cache, MirroredLLMCache):
            res.llm_calls = ctx.llm_cache.puts
        try:
            mirror.push()  # the stage log, run.json, a failure's traceback
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        res.wall_s = round(time.perf_counter() - t0, 2)
    return res


def _current(ws: Workspace, names: tuple[str, ...]) -> str | None:
    """The first stage of the phase without a record: where it stopped."""
    return next((n for n in names if ws.read_record(n) is None), None)
