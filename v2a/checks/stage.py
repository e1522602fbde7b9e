"""The checks stage: ``checks.json`` after the article is written (``v2a run``; ``v2a check``
runs it alone).

Its artifact is a function of the pipeline's artifacts and its options (``--second-listen``,
``--listen-budget``, ``--doubt-threshold``): the editor's decisions on doubts stay in
review.json, laid over it by whoever shows the doubts (``build.with_decisions``). Its key also
hashes the artifacts as they are on disk, so a transcript line fixed in ``v2a review`` (which no
stage has recorded yet) is checked again.
"""

from __future__ import annotations

from ..config import Config
from ..errors import ModelError
from ..stage import StageContext, StageResult
from ..stages import CHAPTERS, OUTLINE, SCREEN, TRANSCRIPT
from ..workspace import sha256_file
from .build import build, write

READ = (TRANSCRIPT, SCREEN, OUTLINE, CHAPTERS)


def fingerprint(ctx: StageContext) -> dict[str, str | None]:
    """The artifacts the checks read, as they are now."""
    return {a.name: sha256_file(ctx.ws.path(a.name)) if ctx.ws.path(a.name).exists() else None
            for a in READ}


def checks_of(ctx: StageContext) -> StageResult:
    """Build and write the folder's checks with the config's options."""
    from ..transcribe.faster import FasterWhisperOptions, pick_device

    cfg: Config = ctx.config
    notes: list[str] = []
    try:
        checks = build(ctx.ws, cfg.doubt_threshold, listen=cfg.second_listen,
                       threads=cfg.asr_threads, budget=cfg.listen_budget,
                       device=pick_device(cfg.options_of(FasterWhisperOptions).asr_device),
                       cache_dir=cfg.cache_dir, decisions=False)
    except ModelError as exc:
        # no second model here (not installed, offline): the doubts without it, said so
        notes.append(f"no second listen: {exc}")
        checks = build(ctx.ws, cfg.doubt_threshold, listen="off", decisions=False)
    checks.notes += notes
    write(ctx.ws, checks)
    high = sum(x.severity == "high" for x in checks.doubts)
    heard = checks.timings.get("listen_audio_s")
    return StageResult(detail=f"{len(checks.doubts)} doubts ({high} high)"
                       + (f"; heard {heard:.0f} s again" if heard else ""))


def run(ctx: StageContext) -> StageResult:
    return checks_of(ctx)
