"""The ``v2a`` command line. Thin: parse flags into a Config, call the pipeline, report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import click
import typer

from . import __version__
from .config import Config
from .errors import V2AError
from .progress import console

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
        "Every stage writes JSON artifacts under outputs/<slug>/ and is cached: re-running does "
        "only the work whose inputs changed; an interrupted run resumes."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# ---- shared options (Annotated aliases keep each command's signature readable) ---------------
Src = Annotated[str, typer.Argument(help="Local file, media URL, or a URL yt-dlp supports.",
                                    show_default=False)]
Out = Annotated[Path, typer.Option("--out", "-o", help="Root folder for work folders.")]
Workdir = Annotated[Optional[Path], typer.Option(
    "--workdir", help="Use exactly this work folder instead of OUT/<slug>.")]
Asr = Annotated[Literal["auto", "always", "never"], typer.Option(
    "--asr", help="auto: reuse human subtitles when present, else Whisper. always: Whisper. "
                  "never: subtitles only (fails if none).")]
AutoCaps = Annotated[bool, typer.Option(
    "--auto-captions/--no-auto-captions",
    help="Allow the platform's automatic captions as the transcript (off: they are often poor).")]
AsrBackend = Annotated[Literal["faster-whisper", "openai-whisper"], typer.Option(
    "--asr-backend",
    help="ASR engine. openai-whisper needs `pip install v2a\\[openai-whisper]`.")]
WhisperModel = Annotated[str, typer.Option(
    "--whisper-model", help="tiny.en (packaged, offline default), base (packaged multilingual), "
                            "a hub name such as large-v3 (online), or a CTranslate2 folder.")]
Language = Annotated[Optional[str], typer.Option(
    "--language", help="Spoken language code (e.g. de). Default: detect.")]
Force = Annotated[Optional[list[str]], typer.Option(
    "--force", "-f", help="Re-run this stage even if cached (repeatable): ingest, audio, "
                          "transcribe, scenes, outline, write, render.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
SceneThreshold = Annotated[float, typer.Option(
    "--scene-threshold", help="ContentDetector threshold on luma+edges; lower finds subtler "
                              "slide changes.")]
SceneMinLen = Annotated[float, typer.Option("--scene-min-len", help="Shortest scene, seconds.")]
BaseUrl = Annotated[Optional[str], typer.Option(
    "--llm-base-url", envvar="OPENAI_BASE_URL",
    help="OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio, llama.cpp). "
         "Default: start the embedded local model.")]
ModelOpt = Annotated[Optional[str], typer.Option(
    "--model", "-m", help="Model name at the endpoint (or provider:model with --llm-provider "
                          "langchain).")]
ApiKeyEnv = Annotated[str, typer.Option(
    "--api-key-env", help="Name of the environment variable holding the API key.")]
Provider = Annotated[Literal["openai", "langchain"], typer.Option(
    "--llm-provider",
    help="openai: any OpenAI-compatible endpoint. langchain: init_chat_model providers "
         "(needs v2a\\[langchain]).")]
Concurrency = Annotated[int, typer.Option(
    "--llm-concurrency", min=1, help="Chapters written at once. 1 suits the embedded CPU model; "
                                     "4-8 suits remote endpoints.")]
LocalModel = Annotated[str, typer.Option(
    "--local-model", help="Embedded model: a packaged name (see `v2a models`) or a .gguf path.")]
LocalServer = Annotated[str, typer.Option(
    "--local-server",
    help="Which local OpenAI-compatible server runs the embedded model: auto (the first that "
         "runs on this CPU), xllamacpp (prebuilt llama.cpp server), llama-cpp-python (built "
         "for this CPU), llama-server (your own llama.cpp binary).")]
Lang = Annotated[Optional[str], typer.Option(
    "--lang", help="Write the article in this language (e.g. zh, ja). Default: as spoken.")]
NoPlatformChapters = Annotated[bool, typer.Option(
    "--platform-chapters/--no-platform-chapters",
    help="Use the video's own chapters as the outline when it has them.")]
TitleOpt = Annotated[Optional[str], typer.Option(
    "--title", help="The video's title, when the download or file name gives a poor one.")]
Chapters = Annotated[Literal["auto", "code", "model"], typer.Option(
    "--chapters",
    help="Who places chapter starts. code: slide-title changes, topic shifts and pauses (the "
         "LLM only names chapters). model: the LLM picks among those candidates. auto: code "
         "for the embedded model, model for any other endpoint.")]
SelfContained = Annotated[bool, typer.Option(
    "--self-contained", help="Embed keyframes in the HTML file (one file to share).")]

_defaults = Config()


def _config(**kw) -> Config:
    kw = {k: v for k, v in kw.items() if v is not None}
    if "force" in kw:
        from .pipeline import STAGES

        bad = [f for f in kw["force"] if f not in STAGES]
        if bad:
            raise typer.BadParameter(f"unknown stage {bad[0]!r}; stages: {', '.join(STAGES)}",
                                     param_hint="--force")
    return Config(**kw)


def _progress(quiet: bool):
    from .progress import NullProgress, RichProgressReporter

    return NullProgress() if quiet else RichProgressReporter()


def _run(src: str, cfg: Config, target: str) -> None:
    from .pipeline import run_pipeline
    from .summary import print_summary

    with _progress(cfg.quiet) as prog:
        report = run_pipeline(src, cfg, target=target, progress=prog)
    print_summary(report)


@app.command()
def transcribe(
    src: Src, out: Out = _defaults.out_root, workdir: Workdir = None,
    asr: Asr = "auto", auto_captions: AutoCaps = False, asr_backend: AsrBackend = "faster-whisper",
    whisper_model: WhisperModel = _defaults.whisper_model, language: Language = None,
    force: Force = None, quiet: Quiet = False,
) -> None:
    """Transcript only: transcript.json + .srt + .vtt (subtitles reused when good)."""
    cfg = _config(out_root=out, workdir=workdir, asr=asr, auto_captions=auto_captions,
                  asr_backend=asr_backend, whisper_model=whisper_model, language=language,
                  force=force, quiet=quiet)
    _run(src, cfg, "transcribe")


@app.command()
def scenes(
    src: Src, out: Out = _defaults.out_root, workdir: Workdir = None,
    scene_threshold: SceneThreshold = _defaults.scene_threshold,
    scene_min_len: SceneMinLen = _defaults.scene_min_len,
    force: Force = None, quiet: Quiet = False,
) -> None:
    """Scene (slide) cuts + one keyframe per scene: scenes.json + keyframes/*.jpg."""
    cfg = _config(out_root=out, workdir=workdir, scene_threshold=scene_threshold,
                  scene_min_len=scene_min_len, force=force, quiet=quiet)
    _run(src, cfg, "scenes")


@app.command()
def run(
    src: Src, out: Out = _defaults.out_root, workdir: Workdir = None,
    asr: Asr = "auto", auto_captions: AutoCaps = False, asr_backend: AsrBackend = "faster-whisper",
    whisper_model: WhisperModel = _defaults.whisper_model, language: Language = None,
    scene_threshold: SceneThreshold = _defaults.scene_threshold,
    scene_min_len: SceneMinLen = _defaults.scene_min_len,
    llm_base_url: BaseUrl = None, model: ModelOpt = None,
    api_key_env: ApiKeyEnv = _defaults.api_key_env, llm_provider: Provider = "openai",
    llm_concurrency: Concurrency = _defaults.llm_concurrency,
    local_model: LocalModel = _defaults.local_model,
    local_server: LocalServer = _defaults.local_server,
    lang: Lang = None, platform_chapters: NoPlatformChapters = True,
    chapters: Chapters = _defaults.outline_boundaries, title: TitleOpt = None,
    self_contained: SelfContained = False,
    force: Force = None, quiet: Quiet = False,
) -> None:
    """The whole pipeline: download → transcript → scenes → outline → chapters → article.

    Writes article.md and article.html (plus subtitles, JSON artifacts and run.json) into the
    work folder and prints where they are.
    """
    cfg = _config(out_root=out, workdir=workdir, asr=asr, auto_captions=auto_captions,
                  asr_backend=asr_backend, whisper_model=whisper_model, language=language,
                  scene_threshold=scene_threshold, scene_min_len=scene_min_len,
                  llm_base_url=llm_base_url, llm_model=model, api_key_env=api_key_env,
                  llm_provider=llm_provider, llm_concurrency=llm_concurrency,
                  local_model=local_model, local_server=local_server, lang=lang,
                  use_platform_chapters=platform_chapters, outline_boundaries=chapters,
                  title=title, self_contained=self_contained, force=force, quiet=quiet)
    _run(src, cfg, "run")


@app.command()
def sample(
    path: Annotated[Path, typer.Argument(help="Where to write the generated lecture (.mp4).")]
    = Path("outputs/sample-lecture.mp4"),
    minutes: Annotated[float, typer.Option(help="Approximate length; the script repeats "
                                                "topics to fill it.")] = 0.0,
) -> None:
    """Generate a sample lecture (espeak-ng speech over slides) with a known script."""
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


def _register_optional_commands() -> None:
    try:
        from .batch.command import batch  # noqa: F401  (registers itself on import)
    except ImportError:
        pass


def version_callback(value: bool) -> None:
    if value:
        console.print(f"v2a {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=version_callback,
                                                is_eager=True, help="Show the version.")] = False):
    pass


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: user mistakes become one line on stderr and a non-zero exit."""
    _register_optional_commands()
    try:
        rv = app(args=argv, standalone_mode=False)
    except V2AError as exc:
        from rich.markup import escape

        # soft_wrap: one line even when stderr is a pipe (rich would wrap at 80 columns)
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        console.print("[yellow]interrupted[/] — run the same command again to resume.")
        sys.exit(130)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/] — run the same command again to resume.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    if rv == 130:  # typer returns 130 for Ctrl-C when not in standalone mode
        console.print("[yellow]interrupted[/] — run the same command again to resume.")
    sys.exit(rv if isinstance(rv, int) else 0)
