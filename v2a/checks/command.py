"""``v2a check WORKDIR``: the doubts about an article, likeliest real errors first."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..commandline import with_config
from ..config import Config
from ..errors import V2AError
from ..links import fmt_time
from ..stages import CHECKS, TRANSCRIPT
from ..workspace import Workspace
from .models import Checks

Folder = Annotated[Path, typer.Argument(
    help="A video's work folder (outputs/<video>), or a batch folder / folder of work folders "
         "(one summary line per video).", show_default=False)]


def work_folders(root: Path) -> list[Path]:
    """The work folders under ``root`` (itself when it is one), each with a transcript."""
    if (root / TRANSCRIPT.name).exists():
        return [root]
    found = {p.parent for pattern in (f"*/{TRANSCRIPT.name}", f"*/*/{TRANSCRIPT.name}")
             for p in root.glob(pattern)}
    return sorted(found)


def run_checks(root: Path, config: Config | None = None) -> Checks:
    """One folder's checks, with the editor's decisions (review.json).

    With ``config``: the checks stage runs (served from its record when nothing it reads or
    its options changed; otherwise the second listen hears what its budget allows) and
    writes checks.json. Without (a page of ``v2a review``, ``v2a publish``): the stage's
    checks.json when it is current, else the checks built now from the artifacts with only
    what an earlier listen heard (nobody waits on Whisper), written nowhere."""
    from ..pipeline import cached_key, run_stage, saved_config
    from ..stage import StageContext
    from .build import build, with_decisions

    ws = Workspace(root)
    if config is not None:
        run_stage(StageContext(ws=ws.ensure(), config=config, src=""), "checks")
        return with_decisions(ws.read(CHECKS), root)
    cfg = saved_config(ws)
    if ws.checks_json.exists() and cached_key(StageContext(ws=ws, config=cfg, src=""),
                                              "checks") is not None:
        return with_decisions(ws.read(CHECKS), root)
    return with_decisions(build(ws, cfg.doubt_threshold, listen=None, decisions=False), root)


def _given(ctx: typer.Context, config: Config) -> dict:
    """The options typed on this command line (the rest come from the folder's last run)."""
    from ..config import options

    out = {}
    for name, _, _ in options():
        src = ctx.get_parameter_source(name)
        if src is not None and src.name not in ("DEFAULT", "DEFAULT_MAP"):
            out[name] = getattr(config, name)
    return out


def decide(root: Path, decisions: list[str]) -> None:
    """Store ``ID=fixed|correct|ignore`` decisions in the folder's review.json."""
    from ..edits.store import ReviewStore
    from ..errors import UsageError

    parsed = {}
    for item in decisions:
        key, _, value = item.partition("=")
        if value not in ("fixed", "correct", "ignore") or not key.strip():
            raise UsageError(f"--resolve {item!r}: give ID=fixed, ID=correct or ID=ignore")
        parsed[key.strip()] = value
    with ReviewStore(Workspace(root)).change() as review:
        review.doubts.update(parsed)  # type: ignore[arg-type]


def summary(checks: Checks) -> str:
    high = checks.unresolved("high")
    by = {s: sum(x.severity == s and x.resolved is None for x in checks.doubts)
          for s in ("high", "medium", "low")}
    cov = checks.coverage
    return (f"{len(checks.doubts)} doubts ({by['high']} high, {by['medium']} medium, "
            f"{by['low']} low unresolved); {len(high)} high to check; prose covers "
            f"{cov.share:.0%} of the speech")


def _out():
    """The report goes to stdout (it is the command's product; progress and errors: stderr)."""
    from rich.console import Console

    return Console(highlight=False)


def print_table(checks: Checks, limit: int) -> None:
    from rich.table import Table

    console = _out()
    t = Table(show_lines=False, title=summary(checks), title_justify="left")
    for c in ("#", "sev", "kind", "at", "text", "suggestion", "why"):
        t.add_column(c, overflow="fold")
    for k, x in enumerate(checks.doubts[:limit] if limit else checks.doubts, 1):
        sev = {"high": "[red]high[/]", "medium": "[yellow]medium[/]"}.get(x.severity, x.severity)
        if x.resolved:
            sev += f" ({x.resolved})"
        t.add_row(str(k), sev, x.kind, fmt_time(x.start), x.text[:80], x.suggestion or "",
                  x.evidence[:120])
    console.print(t)
    for note in checks.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    if limit and len(checks.doubts) > limit:
        console.print(f"… and {len(checks.doubts) - limit} more in checks.json (--limit 0: all)")


@with_config("check")
def check(
    ctx: typer.Context,
    workdir: Folder,
    config: Config,
    as_json: Annotated[bool, typer.Option("--json", help="Print checks.json (machines).")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown (0: all).")] = 30,
    resolve: Annotated[list[str] | None, typer.Option(
        "--resolve", metavar="ID=fixed|correct|ignore",
        help="Record an editor's decision on a doubt in review.json (kept across re-runs).")
    ] = None,
) -> None:
    """Doubts about the article: words the recogniser was unsure of, words that conflict with
    the screen, numbers and names the speaker did not say, claims without support, speech no
    paragraph covers, code the frames disagree on, chapters that needed retries.

    Runs the checks stage of `v2a run` on its own (cached while nothing it reads changed) with
    the options of the folder's last run, those given here overriding them. Writes checks.json
    into the work folder. Exits 1 while high-severity doubts are unresolved (resolve them in
    `v2a review`).
    """
    from ..pipeline import saved_config

    given = _given(ctx, config)

    def config_for(folder: Path) -> Config:
        return saved_config(Workspace(folder)).model_copy(
            update={**given, "workdir": folder, "quiet": True})

    if not workdir.is_dir():
        raise V2AError(f"{workdir} is not a folder")
    folders = work_folders(workdir)
    if not folders:
        raise V2AError(f"{workdir} has no transcript.json (nor work folders with one): run "
                       "`v2a run` first")
    if resolve:
        decide(workdir, resolve)
    bad = 0
    console = _out()
    if len(folders) == 1 and folders[0] == workdir:
        checks = run_checks(workdir, config_for(workdir))
        bad = len(checks.unresolved("high"))
        if as_json:
            sys.stdout.write(checks.model_dump_json(indent=1) + "\n")
        else:
            print_table(checks, limit)
    else:
        rows: list[dict] = []
        for f in folders:
            try:
                checks = run_checks(f, config_for(f))
            except V2AError as exc:
                rows.append({"workdir": str(f), "error": str(exc)})
                if not as_json:
                    console.print(f"{f.name}: [red]error[/] {exc}", soft_wrap=True)
                bad += 1
                continue
            high = len(checks.unresolved("high"))
            bad += high
            rows.append({"workdir": str(f), "doubts": len(checks.doubts), "high": high,
                         "coverage": checks.coverage.share})
            if not as_json:
                mark = "[red]✗[/]" if high else "[green]✓[/]"
                console.print(f"{mark} {f.name}: {summary(checks)}", soft_wrap=True)
        if as_json:
            sys.stdout.write(json.dumps(rows, indent=1) + "\n")
    if bad:
        raise typer.Exit(1)
