"""The stage runner: caching, invalidation, resume, --force, run.json (graph: ``v2a.stages``).

A stage is a function ``run(ctx) -> StageResult`` in its own module (``v2a.stage``). Its key
hashes the stage's version, the config fields it declares, an optional extra fingerprint (e.g.
prompt templates) and the *output hashes* of the stages it depends on. So:

* an unchanged stage is skipped on re-run (logged as ``cached``);
* a changed config field re-runs that stage, and the stages after it re-run only if its output
  actually changed;
* a killed run resumes: finished stages have records, the interrupted one has none.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from . import __version__
from .config import Config, plugin_options
from .errors import V2AError
from .models import Draft, Outline, RunReport, StageReport, Usage
from .progress import NullProgress, Progress
from .stage import StageContext, StageResult
from .stages import CHAPTERS, OUTLINE, STAGES, StageSpec, listed_outputs, load, model_of, plan, target_stages
from .workspace import Workspace, read_model, sha256_file, sha256_json, write_json

__all__ = [
    "STAGES",
    "StageContext",
    "StageResult",
    "cached_key",
    "open_workspace",
    "plan",
    "run_pipeline",
    "run_stage",
    "saved_config",
    "stage_key",
]


def outputs(spec: StageSpec, config: Config) -> tuple[str, ...]:
    """The small artifacts a stage writes, hashed into its record (some depend on the config,
    e.g. output formats)."""
    names = spec.artifacts("hashed")
    if spec.outputs_from:
        return names + tuple(load(spec.outputs_from)(config))
    return names


def _output_hash(ctx: StageContext, spec: StageSpec, key: str) -> str:
    names = outputs(spec, ctx.config)
    if not names:
        return key  # big binary outputs (audio) are a pure function of the key
    return sha256_json([sha256_file(ctx.ws.path(o)) for o in names])


def stage_key(ctx: StageContext, spec: StageSpec) -> str:
    deps = {}
    for d in spec.deps:
        rec = ctx.ws.read_record(d)
        deps[d] = rec["output_hash"] if rec else None
    extra = load(spec.extra_key)(ctx) if spec.extra_key else None
    return sha256_json({
        "stage": spec.name, "version": spec.version,
        "config": ctx.config.stage_view(spec.name, spec.options),
        "deps": deps, "extra": extra,
    })


def is_fresh(ctx: StageContext, spec: StageSpec, key: str) -> bool:
    rec = ctx.ws.read_record(spec.name)
    if not rec or rec.get("key") != key:
        return False
    names = outputs(spec, ctx.config) + spec.artifacts("big")
    return all(ctx.ws.path(o).exists() for o in names)


def check_artifacts(ctx: StageContext, spec: StageSpec) -> None:
    for name in outputs(spec, ctx.config):
        model = model_of(name)
        if model is not None:
            read_model(ctx.ws.path(name), model)


def cached_key(ctx: StageContext, name: str, elsewhere: frozenset[str] = frozenset()) -> str | None:
    """The stage's key if ``run_stage`` would serve it from its record untouched (no --force,
    no hand edit), else None. ``elsewhere``: big files that exist, just not in this folder (a
    Ray batch's store), so a fully cached video need not move its media to find that out."""
    spec = STAGES[name]
    if name in ctx.config.force:
        return None
    key = stage_key(ctx, spec)
    rec = ctx.ws.read_record(name)
    if not rec or rec.get("key") != key:
        return None
    if not all(ctx.ws.path(o).exists() for o in outputs(spec, ctx.config)):
        return None
    if not all(ctx.ws.path(f).exists() or f in elsewhere for f in spec.artifacts("big")):
        return None
    return key if rec.get("output_hash") == _output_hash(ctx, spec, key) else None


def run_stage(ctx: StageContext, name: str) -> StageReport:
    spec = STAGES[name]
    if name in ctx.config.force and name not in ctx.forced:
        ctx.ws.drop_record(name)
        ctx.forced.add(name)  # --force re-runs once per invocation
    key = stage_key(ctx, spec)
    if is_fresh(ctx, spec, key):
        rec = ctx.ws.read_record(name) or {}
        current = _output_hash(ctx, spec, key)
        if rec.get("output_hash") != current:
            # An artifact edited by hand (an editor fixing outline.json, say) is kept, not
            # overwritten; recording its new hash makes the stages after it see the edit.
            # A damaged one is refused here, naming the file, the field and the fix.
            check_artifacts(ctx, spec)
            ctx.ws.write_record(name, {**rec, "output_hash": current})
            ctx.ws.log_stage(name, "cached", key=key, edited=True)
            return StageReport(name=name, status="cached", detail="artifact edited by hand")
        ctx.ws.log_stage(name, "cached", key=key)
        return StageReport(name=name, status="cached")
    ctx.ws.drop_record(name)  # an interrupted run must not leave a stale "done" behind
    t0 = time.perf_counter()
    try:
        result = load(spec.func)(ctx)
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
            "stage": name, "key": key, "output_hash": _output_hash(ctx, spec, key),
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


def open_workspace(src: str, config: Config, progress: Progress | None = None) -> StageContext:
    """Find (or create) the work folder for ``src`` without downloading anything yet."""
    from .ingest.locate import locate_workspace

    ws = Workspace(locate_workspace(src, config)).ensure()
    return StageContext(ws=ws, config=config, src=src, progress=progress or NullProgress())


OnStage = Callable[[str, StageReport | None], None]


def run_pipeline(src: str, config: Config, target: str = "run",
                 progress: Progress | None = None, ctx: StageContext | None = None, *,
                 stages: list[str] | None = None, on_stage: OnStage | None = None) -> RunReport:
    """Run ``target``'s stages for one source; always writes run.json, always closes services.

    ``stages``: exactly these (in graph order) instead of the target's plan; the ones they
    depend on must have run before (their records are read, not checked). ``on_stage(name,
    None)`` is called before each stage and ``on_stage(name, report)`` after it finished (a
    Ray batch saves each finished stage to shared storage there).
    """
    ctx = ctx or open_workspace(src, config, progress)
    if target == "run":
        save_config(ctx.ws, config)
    report = RunReport(source=src, workdir=str(ctx.ws.root), versions=versions(),
                       started_at=dt.datetime.now().isoformat(timespec="seconds"))
    lock = ctx.ws.lock()  # a second run on the same folder is refused, not interleaved
    order = ([n for n in STAGES if n in stages] if stages is not None
             else plan(target_stages(target)))
    try:
        for name in order:
            t0 = time.perf_counter()
            if on_stage is not None:
                on_stage(name, None)
            try:
                sr = run_stage(ctx, name)
            except V2AError as exc:
                report.stages.append(StageReport(name=name, status="failed",
                                                 wall_s=round(time.perf_counter() - t0, 3),
                                                 detail=str(exc)))
                report.ok, report.error = False, f"{name}: {exc}"
                raise
            except BaseException as exc:  # Ctrl-C, SIGTERM, a bug: the report says so
                report.stages.append(StageReport(name=name, status="interrupted",
                                                 wall_s=round(time.perf_counter() - t0, 3)))
                report.ok = False
                report.error = (f"{name}: interrupted" if isinstance(
                    exc, (KeyboardInterrupt, SystemExit)) else f"{name}: {type(exc).__name__}")
                raise
            report.stages.append(sr)
            if on_stage is not None:
                on_stage(name, sr)
    finally:
        ctx.close()
        lock.release()
        report.finished_at = dt.datetime.now().isoformat(timespec="seconds")
        report.usage = _collect_usage(ctx.ws, report.stages)
        names = [n for s in STAGES.specs() if s.outputs_from
                 for n in load(s.outputs_from)(config)] + listed_outputs()
        report.outputs = {n: str(ctx.ws.path(n)) for n in names if ctx.ws.path(n).exists()}
        write_json(ctx.ws.run_json, report)
    return report


def save_config(ws: Workspace, config: Config) -> None:
    """The options of this run, for the commands that work on the folder later (``v2a review``
    regenerates with the same model; ``v2a publish`` renders the same formats)."""
    data = config.model_dump(mode="json", exclude={"force", "quiet"})
    url = data.get("llm_base_url")
    if url:
        # a key in the URL (user:pass@, ?key=) must never reach the disk: such a URL is not
        # kept, and `v2a review` then needs --llm-base-url again
        parts = urlsplit(url)
        if parts.username or parts.password or parts.query:
            data["llm_base_url"] = None
    write_json(ws.config_path, data)


def saved_config(ws: Workspace) -> Config:
    """The options of the folder's last run (defaults where none was saved or one is invalid)."""
    import json

    try:
        data = json.loads(ws.config_path.read_text("utf-8"))
        names = {*Config.model_fields, *plugin_options()}  # an engine's own options too
        known = {k: v for k, v in data.items() if k in names}
        return Config(**known)
    except (OSError, ValueError):
        return Config()


def _collect_usage(ws: Workspace, stages: list[StageReport]) -> Usage:
    """LLM usage of this run: calls made by stages that ran; a cached stage's calls count as
    cached (so a re-run reports 0 calls, not the first run's)."""
    status = {s.name: s.status for s in stages}
    total = Usage()
    artifacts: tuple[tuple[str, str, type[Outline] | type[Draft]], ...] = (
        ("outline", OUTLINE.name, Outline), ("write", CHAPTERS.name, Draft))
    for stage, name, cls in artifacts:
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
