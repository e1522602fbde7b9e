"""The stage graph and its runner: caching, invalidation, resume, --force, run.json.

A stage is a function ``run(ctx) -> StageResult | str | None`` in its own module. Its cache key
hashes the stage's version, the config fields it declares, an optional extra fingerprint (e.g.
prompt templates) and the *output hashes* of the stages it depends on. So:

* an unchanged stage is skipped on re-run (logged as ``cached``);
* a changed config field re-runs that stage, and the stages after it re-run only if its output
  actually changed;
* a killed run resumes: finished stages have records, the interrupted one has none.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__
from .config import Config
from .errors import V2AError
from .models import RunReport, Source, StageReport, Usage
from .progress import NullProgress, Progress
from .workspace import Workspace, read_model, sha256_file, sha256_json, write_json


@dataclass
class StageResult:
    detail: str | None = None
    complete: bool = True  # False: artifacts written but the stage must run again next time
    usage: Usage | None = None


@dataclass(frozen=True)
class StageSpec:
    name: str
    func: str  # "module:function", imported lazily so `v2a --help` stays fast
    deps: tuple[str, ...] = ()
    config: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()  # small artifacts hashed into the record (existence checked)
    files: tuple[str, ...] = ()  # big outputs: existence checked, not hashed (a function of key)
    extra_key: str | None = None  # "module:function(ctx) -> jsonable" e.g. prompt hashes
    version: int = 1
    help: str = ""

    def load(self, attr: str) -> Callable:
        mod, fn = attr.split(":")
        return getattr(importlib.import_module(mod), fn)


LLM_FIELDS = ("llm_base_url", "llm_model", "llm_provider", "local_model", "temperature")

STAGES: dict[str, StageSpec] = {
    s.name: s
    for s in [
        StageSpec("ingest", "v2a.ingest.stage:run", (), ("max_duration", "title"), ("source.json",),
                  extra_key="v2a.ingest.stage:fingerprint",
                  help="resolve the source, download it, record metadata"),
        StageSpec("audio", "v2a.audio:run", ("ingest",), (), (), files=("audio.wav",),
                  help="16 kHz mono WAV for ASR"),
        StageSpec("transcribe", "v2a.transcribe.stage:run", ("ingest", "audio"),
                  ("asr", "auto_captions", "sub_langs", "asr_backend", "whisper_model",
                   "language", "beam_size", "vad"), ("transcript.json",),
                  help="subtitles or Whisper → transcript.json/.srt/.vtt"),
        StageSpec("scenes", "v2a.scenes.stage:run", ("ingest",),
                  ("scene_threshold", "scene_min_len", "scene_downscale_width",
                   "dedupe_distance"), ("scenes.json",), version=3,
                  help="slide/scene cuts and one keyframe per scene"),
        StageSpec("outline", "v2a.write.outline:run", ("ingest", "transcribe", "scenes"),
                  LLM_FIELDS + ("use_platform_chapters", "outline_boundaries"),
                  ("outline.json",), version=2,
                  extra_key="v2a.llm.prompts:fingerprint",
                  help="LLM chapters with start times"),
        StageSpec("write", "v2a.write.chapters:run", ("outline", "transcribe"),
                  LLM_FIELDS + ("lang",), ("chapters.json",),
                  extra_key="v2a.llm.prompts:fingerprint",
                  help="one LLM call per chapter, in parallel"),
        StageSpec("render", "v2a.render.stage:run",
                  ("ingest", "transcribe", "scenes", "outline", "write"),
                  ("self_contained",), ("article.md", "article.html"),
                  extra_key="v2a.render.stage:fingerprint",
                  help="Markdown + HTML article"),
    ]
}

TARGETS = {
    "transcribe": ["transcribe"],
    "scenes": ["scenes"],
    "media": ["transcribe", "scenes"],  # batch: the CPU-bound half, overlapped with LLM work
    "run": ["transcribe", "scenes", "outline", "write", "render"],
}


def plan(targets: list[str]) -> list[str]:
    """Targets plus their dependencies, in the declared (topological) order."""
    need: set[str] = set()

    def visit(name: str) -> None:
        if name not in need:
            need.add(name)
            for d in STAGES[name].deps:
                visit(d)

    for t in targets:
        visit(t)
    return [n for n in STAGES if n in need]


@dataclass
class Context:
    """What a stage sees: the work folder, the config, progress, and shared services."""

    ws: Workspace
    config: Config
    src: str
    progress: Progress = field(default_factory=NullProgress)
    services: dict = field(default_factory=dict)  # e.g. the LLM client, shared across stages
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def source(self) -> Source:
        if "source" not in self.services:
            self.services["source"] = read_model(self.ws.source_json, Source)
        return self.services["source"]

    def close(self) -> None:
        while self.closers:
            try:
                self.closers.pop()()
            except Exception:  # noqa: BLE001 - closing must never mask the real error
                pass


def _output_hash(ws: Workspace, spec: StageSpec, key: str) -> str:
    if not spec.outputs:
        return key  # big binary outputs (audio) are a pure function of the key
    return sha256_json([sha256_file(ws.path(o)) for o in spec.outputs])


def stage_key(ctx: Context, spec: StageSpec) -> str:
    deps = {}
    for d in spec.deps:
        rec = ctx.ws.read_record(d)
        deps[d] = rec["output_hash"] if rec else None
    extra = spec.load(spec.extra_key)(ctx) if spec.extra_key else None
    return sha256_json({
        "stage": spec.name, "version": spec.version, "config": ctx.config.stage_view(spec.config),
        "deps": deps, "extra": extra,
    })


def is_fresh(ctx: Context, spec: StageSpec, key: str) -> bool:
    rec = ctx.ws.read_record(spec.name)
    if not rec or rec.get("key") != key:
        return False
    return all(ctx.ws.path(o).exists() for o in spec.outputs + spec.files)


def run_stage(ctx: Context, name: str) -> StageReport:
    spec = STAGES[name]
    if name in ctx.config.force and not ctx.services.get(f"forced:{name}"):
        ctx.ws.drop_record(name)
        ctx.services[f"forced:{name}"] = True  # --force re-runs once per invocation
    key = stage_key(ctx, spec)
    if is_fresh(ctx, spec, key):
        rec = ctx.ws.read_record(name) or {}
        current = _output_hash(ctx.ws, spec, key)
        if rec.get("output_hash") != current:
            # An artifact edited by hand (an editor fixing outline.json, say) is kept, not
            # overwritten; recording its new hash makes the stages after it see the edit.
            ctx.ws.write_record(name, {**rec, "output_hash": current})
            ctx.ws.log_stage(name, "cached", key=key, edited=True)
            return StageReport(name=name, status="cached", detail="artifact edited by hand")
        ctx.ws.log_stage(name, "cached", key=key)
        return StageReport(name=name, status="cached")
    ctx.ws.drop_record(name)  # an interrupted run must not leave a stale "done" behind
    t0 = time.perf_counter()
    try:
        result = spec.load(spec.func)(ctx)
    except V2AError:
        ctx.ws.log_stage(name, "failed", key=key)
        raise
    wall = time.perf_counter() - t0
    if not isinstance(result, StageResult):
        result = StageResult(detail=result)
    if result.complete:
        # ingest may have changed its own key inputs (e.g. learned the media file); recompute
        key = stage_key(ctx, spec) if name == "ingest" else key
        ctx.ws.write_record(name, {
            "stage": name, "key": key, "output_hash": _output_hash(ctx.ws, spec, key),
            "wall_s": round(wall, 3), "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
            "v2a": __version__,
        })
    ctx.ws.log_stage(name, "ran" if result.complete else "incomplete", key=key, wall_s=round(wall, 3))
    return StageReport(name=name, status="ran", wall_s=round(wall, 3), detail=result.detail)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"v2a": __version__}
    for pkg in ("yt-dlp", "faster-whisper", "ctranslate2", "scenedetect-headless", "openai",
                "xllamacpp", "llama_cpp_python"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def open_workspace(src: str, config: Config, progress: Progress | None = None) -> Context:
    """Find (or create) the work folder for ``src`` without downloading anything yet."""
    from .ingest.locate import locate_workspace

    ws = Workspace(locate_workspace(src, config)).ensure()
    return Context(ws=ws, config=config, src=src, progress=progress or NullProgress())


def run_pipeline(src: str, config: Config, target: str = "run",
                 progress: Progress | None = None, ctx: Context | None = None) -> RunReport:
    """Run ``target``'s stages for one source; always writes run.json, always closes services."""
    ctx = ctx or open_workspace(src, config, progress)
    report = RunReport(source=src, workdir=str(ctx.ws.root), versions=versions(),
                       started_at=dt.datetime.now().isoformat(timespec="seconds"))
    try:
        for name in plan(TARGETS[target]):
            t0 = time.perf_counter()
            try:
                sr = run_stage(ctx, name)
            except V2AError as exc:
                report.stages.append(StageReport(name=name, status="failed",
                                                 wall_s=round(time.perf_counter() - t0, 3),
                                                 detail=str(exc)))
                report.ok, report.error = False, f"{name}: {exc}"
                raise
            report.stages.append(sr)
    finally:
        ctx.close()
        report.finished_at = dt.datetime.now().isoformat(timespec="seconds")
        report.usage = _collect_usage(ctx.ws, report.stages)
        report.outputs = {n: str(ctx.ws.path(n)) for n in
                          ("article.md", "article.html", "transcript.json", "transcript.srt",
                           "transcript.vtt", "scenes.json", "outline.json", "chapters.json")
                          if ctx.ws.path(n).exists()}
        write_json(ctx.ws.path("run.json"), report)
    return report


def _collect_usage(ws: Workspace, stages: list[StageReport]) -> Usage:
    """LLM usage of this run: calls made by stages that ran; a cached stage's calls count as
    cached (so a re-run reports 0 calls, not the first run's)."""
    from .models import Draft, Outline

    status = {s.name: s.status for s in stages}
    total = Usage()
    for stage, name, cls in (("outline", "outline.json", Outline), ("write", "chapters.json", Draft)):
        p = ws.path(name)
        if stage not in status or not p.exists():
            continue
        try:
            u = read_model(p, cls).usage
        except Exception:  # noqa: BLE001 - a report must not fail on an odd artifact
            continue
        if status[stage] != "ran":
            u = Usage(cached_calls=u.calls + u.cached_calls)
        total = total.add(u)
    return total


def workdir_for(path: Path) -> Workspace:
    return Workspace(path)
