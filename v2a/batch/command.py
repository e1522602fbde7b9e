"""``v2a batch SRC``: plan, run (overlapped, failure-isolated, resumable), build the site, report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..commandline import with_config
from ..config import Config
from ..errors import UsageError
from ..links import fmt_time
from ..progress import console, reporter
from ..progress import plain as escape  # no markup, no terminal control codes
from ..registry import BATCH_ENGINES
from ..workspace import BATCH_FILE
from .plan import BatchPlan, Estimate, estimate, list_playlist, make_plan
from .runner import article_files
from .state import BatchState, EntryState, StateStore

PlaylistSrc = Annotated[str, typer.Argument(
    help="Playlist or channel URL, RSS/podcast feed, HTML page of <video> tags, or a text file "
         "with one URL or path per line.", show_default=False)]
B = "Batch"


@with_config("batch")
def batch(
    src: PlaylistSrc,
    config: Config,
    limit: Annotated[Optional[int], typer.Option(
        "--limit", min=1, rich_help_panel=B,
        help="Process at most this many entries (after --match/--since).")] = None,
    since: Annotated[Optional[str], typer.Option(
        "--since", rich_help_panel=B,
        help="Only entries uploaded on or after this date (YYYYMMDD).")] = None,
    match: Annotated[Optional[str], typer.Option(
        "--match", rich_help_panel=B, help="Only entries whose title matches this regular "
                                           "expression (case-insensitive).")] = None,
    media_workers: Annotated[Optional[int], typer.Option(
        "--media-workers", min=1, rich_help_panel=B, show_default=False,
        help="Videos transcribed/scene-cut at once. Default: 1 (local); with --engine ray, as "
             "many media workers as the cluster's CPUs allow (--media-cpus each).")] = None,
    llm_workers: Annotated[int, typer.Option(
        "--llm-workers", min=1, rich_help_panel=B,
        help="Videos whose article is written at once (1 suits the embedded CPU model; more "
             "for a remote endpoint).")] = 1,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", rich_help_panel=B, help="Show the plan and stop.")] = False,
    book: Annotated[bool, typer.Option(
        "--book", rich_help_panel=B,
        help="Also make the book of the batch in OUT/<playlist>/book/ (parts, contents, "
             "glossary, index, cross-references) in the --format formats; `v2a book FOLDER` "
             "brings it up to date later.")] = False,
) -> None:
    """A whole playlist/channel/feed: one article per video plus a searchable site.

    Shows the plan (count, length, LLM estimate), then overlaps downloads/ASR with LLM writing.
    A broken entry is recorded and the rest go on; running the same command again resumes:
    finished videos are kept, failed ones retried. Exit code 1 if any entry failed.

    Output in OUT/<playlist>/: videos/<video>/ (one work folder each), batch.json (state) and
    site/index.html (MkDocs Material: table of contents + full-text search).

    On a Ray cluster (pip install 'v2a[ray]'):
    v2a batch FEED --engine ray --address auto --store s3://bucket/v2a
    """
    cfg = config
    from .plan import parse_match, parse_since

    if cfg.batch_engine == "local" and (cfg.ray_address or cfg.store):
        raise UsageError("--address and --store are for --engine ray (the local engine works "
                         "in OUT)")

    parse_since(since), parse_match(match)  # a typo should fail before a slow listing
    with console.status(f"listing {escape(src)} …"):
        playlist = list_playlist(src, cfg)
    plan = make_plan(playlist, limit=limit, since=since, match=match,
                     max_duration=cfg.max_minutes * 60 if cfg.max_minutes else None)
    root = Path(cfg.out_root) / plan.root_slug
    store = StateStore.open(root / BATCH_FILE, BatchState(
        input=src, playlist_id=playlist.id, title=playlist.title, url=playlist.url),
        readonly=dry_run)
    store.merge(plan.selected)
    keys = [e.key for e in plan.selected]
    print_plan(plan, store, keys, estimate([store.state.entries[k] for k in keys
                                            if store.state.entries[k].status != "done"], cfg), root)
    if dry_run:
        return

    runner = BATCH_ENGINES.get(cfg.batch_engine)(store, root, cfg, media_workers=media_workers,
                                                 llm_workers=llm_workers)
    with reporter(cfg.quiet) as prog:
        runner.progress = prog
        runner.run(keys)
    store.state.ran_on = ran_on(cfg, runner, media_workers, llm_workers)
    store.save()
    site_line = _build_site(root, store.state)
    failed = print_summary(store, keys, article_files(cfg)[:1])
    console.print(f"ran on: {escape(describe_ran_on(store.state.ran_on))}")
    console.print(site_line)
    if book:
        console.print(_build_book(root, cfg))
    console.print(f"batch state: {root / BATCH_FILE}")
    if failed:
        raise typer.Exit(code=1)


def ran_on(cfg: Config, runner, media_workers: int | None, llm_workers: int) -> dict:
    """What ran the batch, for its output and batch.json: the engine and, for Ray, the cluster
    (its address, live nodes, CPUs, GPUs, workers) as the engine found it."""
    facts: dict = {"engine": cfg.batch_engine}
    cluster = getattr(runner, "cluster", None)
    if cfg.batch_engine == "ray":
        # what was asked for; "address" (from the engine) is where Ray really was
        asked = cfg.ray_address or os.environ.get("RAY_ADDRESS")
        facts["started_for_this_batch"] = not asked
        facts["address"] = asked or "a one-machine Ray started for this batch"
    if isinstance(cluster, dict):
        facts.update(cluster)
    elif cfg.batch_engine == "local":
        facts.update(media_workers=media_workers or 1, llm_workers=llm_workers)
    return facts


def describe_ran_on(facts: dict | None) -> str:
    if not facts:
        return "?"
    if facts.get("engine") != "ray":
        return (f"{facts.get('engine')} engine on this machine ({facts.get('media_workers')} "
                f"media, {facts.get('llm_workers')} LLM workers)")
    if "nodes" not in facts:
        return f"Ray at {facts.get('address')} (nothing was left to run)"
    started = " (started for this batch)" if facts.get("started_for_this_batch") else ""
    return (f"Ray cluster at {facts.get('address')}{started}: {facts['nodes']} node(s), "
            f"{facts.get('cpus', 0):g} CPUs, {facts.get('gpus', 0)} GPUs; "
            f"{facts.get('media_workers')} media, {facts.get('llm_workers')} LLM workers")


def print_plan(plan: BatchPlan, store: StateStore, keys: list[str], est: Estimate,
               root: Path) -> None:
    entries = [store.state.entries[k] for k in keys]
    done = sum(e.status == "done" for e in entries)
    skipped = sum(e.status == "skipped" for e in entries)
    todo = len(entries) - done - skipped
    dur = sum(e.duration or 0 for e in entries if e.status != "skipped")
    unknown = sum(e.duration is None for e in entries if e.status != "skipped")
    console.print(f"[bold]{escape(plan.playlist.title)}[/]: {len(plan.playlist.entries)} entries "
                  f"listed, {len(entries)} selected"
                  + (f" ({plan.filtered_out} filtered out)" if plan.filtered_out else ""))
    length = fmt_time(dur) if dur else ""
    if unknown:
        length += f"{' + ' if dur else ''}{unknown} of unknown length"
    console.print(f"  to do {todo}, done already {done}, skipped {skipped}; length {length}")
    if est.prompt_tokens:
        tokens = f"~{est.prompt_tokens:,} prompt + {est.completion_tokens:,} completion tokens"
        if est.unknown_durations:
            tokens += f" (+ {est.unknown_durations} entries of unknown length)"
    else:
        tokens = "tokens unknown (the listing gives no durations)" if est.unknown_durations \
            else "nothing to write"
    if est.local:
        # local: the embedded model, or an endpoint on this machine (Ollama, a llama.cpp server)
        cost = "no cost (the embedded model)" if est.embedded else \
            "no cost (an endpoint on this machine)"
    elif est.cost_usd is not None:
        cost = f"~${est.cost_usd:.2f}" if est.cost_usd >= 0.1 else f"~${est.cost_usd:.4f}"
    else:
        cost = "price unknown"
    console.print(f"  LLM estimate ({escape(est.model)}): {tokens}, {cost}")
    for note in plan.notes:
        console.print(f"  [yellow]note:[/] {escape(note)}")
    shown = entries if len(entries) <= 20 else entries[:10]
    for e in shown:
        mark = {"done": "[cyan]done[/]", "skipped": "[yellow]skip[/]",
                "failed": "[red]retry[/]"}.get(e.status, "    ")
        length = fmt_time(e.duration) if e.duration else "?"
        console.print(f"  {mark} {e.index:>3}. {escape(e.title)} ({length})"
                      + (f" — {escape(e.reason)}" if e.status == "skipped" and e.reason else ""))
    if len(shown) < len(entries):
        console.print(f"  … and {len(entries) - len(shown)} more")
    console.print(f"  output: {root}")


def _build_book(root: Path, cfg: Config) -> str:
    from ..book.build import FILES, build_book
    from ..errors import V2AError

    try:
        r = build_book(root, [f for f in cfg.formats if f in FILES] or ["markdown"])
    except V2AError as exc:  # the articles are fine; the book can be made later
        return f"[yellow]book not built:[/] {escape(str(exc))}"
    return (f"book: {escape(str(r.folder))} ({r.parts} parts, {r.reread} read again; "
            f"{', '.join(r.outputs)})")


def _build_site(root: Path, state: BatchState) -> str:
    from .site import SiteError, build_site

    try:
        res = build_site(root, state)
    except SiteError as exc:
        return f"[yellow]site not built:[/] {escape(str(exc))}"
    return (f"site: {res.index} ({len(res.pages)} articles; for search serve it: "
            f"python -m http.server -d {res.index.parent})")


def print_summary(store: StateStore, keys: list[str], article: tuple[str, ...] = ()) -> int:
    """Done/skipped/failed table for this run's selection; returns the number failed.
    ``article``: the file a done video's row names (the first output format's)."""
    entries: list[EntryState] = [store.state.entries[k] for k in keys]
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("#", "status", "video", "time", "detail"):
        table.add_column(col, overflow="fold", justify="right" if col in ("#", "time") else "left")
    colors = {"done": "green", "skipped": "yellow", "failed": "red", "pending": "white"}
    for e in entries:
        detail = e.reason or (f"{e.workdir}/{article[0]}" if e.status == "done" and article
                              else "")
        if e.status == "failed" and e.phase:
            detail = f"{e.phase}: {detail}"
        table.add_row(str(e.index), f"[{colors.get(e.status, 'white')}]{e.status}[/]",
                      escape(e.title), f"{e.wall_s:.0f}s" if e.wall_s else "-", escape(detail))
    console.print(table)
    counts = {s: sum(e.status == s for e in entries) for s in ("done", "skipped", "failed")}
    console.print(f"[bold]done {counts['done']}, skipped {counts['skipped']}, "
                  f"failed {counts['failed']}[/]")
    return counts["failed"]
