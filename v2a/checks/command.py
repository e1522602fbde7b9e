"""``v2a check WORKDIR``: the doubts about an article, likeliest real errors first."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import V2AError
from ..links import fmt_time
from ..stages import TRANSCRIPT
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


def run_checks(root: Path, listen: bool | None = None, threshold: float | None = None,
               threads: int = 2) -> Checks:
    """Build, write and return one folder's checks (``listen``: a second model hears the
    speech again, when the folder has its audio; None: only the reading cached before)."""
    from . import doubts as d
    from .build import build, write

    ws = Workspace(root)
    checks = build(ws, d.UNSURE if threshold is None else threshold,
                   listen=listen, threads=threads)
    write(ws, checks)
    return checks


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
    if limit and len(checks.doubts) > limit:
        console.print(f"… and {len(checks.doubts) - limit} more in checks.json (--limit 0: all)")


def check(
    workdir: Folder,
    as_json: Annotated[bool, typer.Option("--json", help="Print checks.json (machines).")] = False,
    listen: Annotated[bool, typer.Option(
        "--listen/--no-listen", help="A second Whisper model hears the speech again (base for a "
        "tiny.en transcript) and the words it hears otherwise are doubts: about half the "
        "audio's length on 2 cores the first time (cached in .v2a/second_opinion.json), and "
        "what makes the doubts precise; --no-listen: word probabilities alone.")] = True,
    threshold: Annotated[float, typer.Option(
        help="How suspicious a word must be to be a doubt (0..1; lower: more doubts).")] = 0.5,
    limit: Annotated[int, typer.Option(help="Rows shown (0: all).")] = 30,
    resolve: Annotated[list[str] | None, typer.Option(
        "--resolve", metavar="ID=fixed|correct|ignore",
        help="Record an editor's decision on a doubt in review.json (kept across re-runs).")
    ] = None,
) -> None:
    """Doubts about the article: words the recogniser was unsure of, words that conflict with
    the screen, numbers and names the speaker did not say, claims without support, speech no
    paragraph covers, code the frames disagree on, chapters that needed retries.

    Writes checks.json into the work folder. Exits 1 while high-severity doubts are unresolved
    (resolve them in `v2a review`).
    """
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
        checks = run_checks(workdir, listen, threshold)
        bad = len(checks.unresolved("high"))
        if as_json:
            sys.stdout.write(checks.model_dump_json(indent=1) + "\n")
        else:
            print_table(checks, limit)
    else:
        rows: list[dict] = []
        for f in folders:
            try:
                checks = run_checks(f, listen, threshold)
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
