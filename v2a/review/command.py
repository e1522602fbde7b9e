"""``v2a review PATH`` (the web app for editors) and ``v2a publish WORKDIR`` (for scripts/CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..commandline import with_config
from ..config import Config, options
from ..errors import V2AError
from ..progress import console, plain
from ..stages import TRANSCRIPT
from ..workspace import Workspace

R = "Review"

Folder = Annotated[Path, typer.Argument(
    help="A video's work folder (outputs/<video>), a batch folder (with batch.json), or a "
         "folder of work folders (outputs/).", show_default=False)]


def _given(ctx: typer.Context, config: Config) -> dict:
    """The options typed on this command line (the rest come from the folder's last run)."""
    out = {}
    for name, _, _ in options():  # Config's fields and the engines' own options
        src = ctx.get_parameter_source(name)
        if src is not None and src.name not in ("DEFAULT", "DEFAULT_MAP"):
            out[name] = getattr(config, name)
    return out


def _config_for(given: dict):
    from ..pipeline import saved_config

    def config_for(ws: Workspace) -> Config:
        return saved_config(ws).model_copy(update={**given, "workdir": ws.root, "quiet": True})

    return config_for


@with_config("review")
def review(
    ctx: typer.Context,
    path: Folder,
    config: Config,
    port: Annotated[Optional[int], typer.Option(
        "--port", min=0, max=65535, rich_help_panel=R,
        help="Port to listen on (default 8765, or a free one when it is taken; 0: any free "
             "port).")] = None,
    host: Annotated[str, typer.Option(
        "--host", rich_help_panel=R,
        help="Address to listen on. Only this machine can connect by default; another address "
             "(e.g. 0.0.0.0) lets anyone on the network who has the URL edit the draft.")]
    = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", rich_help_panel=R, help="Print the URL; don't open a browser.")] = False,
    token: Annotated[Optional[str], typer.Option(
        "--token", envvar="V2A_REVIEW_TOKEN", rich_help_panel=R, show_default=False,
        help="The secret in the URL (default: a new random one each time).")] = None,
) -> None:
    """Review, fix and publish drafts in the browser: the article beside its video.

    Edit any section's title, prose and images; split or merge chapters; regenerate a section
    (one LLM call, shown as a diff to accept); fix misheard words in the transcript (everywhere,
    remembered in glossary.json); mark sections draft → reviewed → approved; leave comments at
    a time; publish. Edits are saved as you type into review.json, apart from the generated
    text: re-running `v2a run` never loses them.

    Model options default to those of the folder's last `v2a run`.

    Examples:

      v2a review outputs/my-lecture-abc123

      v2a review outputs/my-playlist --no-browser --port 8800
    """
    from ..llm.open import open_llm
    from .hub import open_hub
    from .server import is_loopback, prepare, serve_forever

    config_for = _config_for(_given(ctx, config))
    hub = open_hub(path, config_for)
    if not hub.batch:
        hub.session(next(iter(hub.videos))).artifacts()  # not written yet: say so, now
    videos = list(hub.videos.values())
    # one model for every video; it starts on the first regeneration only
    hub.llm_handle = handle = open_llm(config_for(videos[0].ws), lazy=True)
    title, batch = hub.title, hub.batch
    for v in videos:  # a damaged review.json must stop us before the browser opens
        if (v.ws.root / "review.json").exists():
            hub.session(v.vid).review()
    served = prepare(hub, host, port, token)
    # plain: the title is outside text, its escape sequences never reach the terminal
    what = f"{len(videos)} videos" if batch else plain(title)
    console.print(f"[bold]v2a review[/] of {what}: open\n\n    {served.url}\n", soft_wrap=True)
    if not is_loopback(host):
        console.print(f"[yellow]listening on {plain(host)}:[/] anyone who can reach this "
                      "machine and has the URL can edit these drafts.")
    def ready() -> None:
        console.print("Edits are saved as you type. Ctrl-C stops the app.")
        if not no_browser:
            import webbrowser

            webbrowser.open(served.url)

    try:  # Ctrl-C from here on (even before the server is up) is the normal end
        serve_forever(served, ready)
    except KeyboardInterrupt:
        pass
    finally:
        hub.close()
        handle.close()
        served.sock.close()
    goodbye(hub)


def goodbye(hub) -> None:
    """The last line of ``v2a review``. Ctrl-C is its normal end (exit 0), unless a change
    could not be written (a full disk): then that is said, and the exit code is 1."""
    if hub.unsaved:
        last = next(reversed(hub.unsaved.values())) or "a write failed"
        raise V2AError(f"review stopped; {len(hub.unsaved)} change(s) could NOT be saved "
                       f"(last: {last}) — they are not in review.json")
    console.print("review stopped; everything is saved in review.json.")


@with_config("publish")
def publish(
    ctx: typer.Context,
    workdir: Annotated[Path, typer.Argument(help="The video's work folder.", show_default=False)],
    config: Config,
    force: Annotated[bool, typer.Option(
        "--force", help="Publish even if some sections are not approved yet.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse while high-severity doubts (v2a check) are unresolved.")
    ] = False,
) -> None:
    """Write the final article.md/article.html with every editor's change (for scripts, CI).

    Refuses (exit code 1) while a section is not approved, unless --force. Reports the
    unresolved high-severity doubts (``v2a check``), and with --strict refuses while there are
    any. Uses the folder's last run's formats unless --format is given.
    """
    from ..checks.command import run_checks
    from .service import ReviewSession

    ws = Workspace(workdir)
    if not ws.source_json.exists():
        raise V2AError(f"{workdir} is not a work folder (no source.json): give outputs/<video>")
    high = run_checks(ws.root).unresolved("high") if ws.path(TRANSCRIPT.name).exists() else []
    if high and strict:
        raise V2AError(f"{len(high)} high-severity doubt(s) unresolved (first: {high[0].kind} "
                       f"{high[0].text!r} at {high[0].start:.0f} s); see `v2a check {workdir}`, "
                       "resolve them in `v2a review`, or publish without --strict")
    cfg = _config_for(_given(ctx, config))(ws)
    session = ReviewSession(ws, cfg)
    files = session.publish(force=force)
    ov = session.overlay()
    approved = sum(s.review.status == "approved" for s in ov.sections)
    edited = sum(s.review.edited for s in ov.sections)
    console.print(f"[green]published[/] {len(ov.sections)} sections ({approved} approved, "
                  f"{edited} edited by hand):")
    for f in files:
        console.print(f"  {f}", soft_wrap=True)
    if high:
        console.print(f"[yellow]{len(high)} high-severity doubt(s) unresolved[/] (see `v2a check "
                      f"{workdir}`; --strict refuses to publish while there are any)",
                      soft_wrap=True)
