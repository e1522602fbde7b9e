"""Run configuration: every option, defined once — type, default, flags, help, the commands that
show it and the stages whose cache keys it enters (``Opt``, see ``v2a.options``).

The CLI, the stage cache keys and the allowed values of extension points (ASR engines, LLM
providers, local servers...) all derive from this class; changing, say, the LLM model never
re-runs transcription because only the outline and write stages declare it.

A registered engine, provider or server may own options too: a small pydantic model of
``Opt``-annotated fields, set as its ``options`` attribute (``plugin_options``). They are shown
by the commands their ``Opt`` names, validated here (kept as extra fields: ``Config(name=...)``),
enter the cache keys of the stages their ``Opt`` names, and are read back typed with
``config.options_of(Model)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic.fields import FieldInfo

from .errors import V2AError
from .language import Language
from .options import ALL, MEDIA, REVIEW_LLM, RUN, RUN_PUBLISH, Opt, opt_of
from .registry import ASR_ENGINES, BATCH_ENGINES, LLM_PROVIDERS, LOCAL_SERVERS, OCR_ENGINES, RENDERERS
from .stages import STAGES

LLM = ("outline", "write")  # the stages that call the LLM
T, S, M, W, B = "Transcript", "Scenes", "Model (LLM)", "Article", "Batch"
BATCH = ("batch",)
CHECK = ("run", "batch", "check")  # the checks stage's options; `v2a check` runs it alone
C = "Checks"
Opts = TypeVar("Opts", bound=BaseModel)


def default_cache_dir() -> Path:
    """Where assembled models and server logs live (``$V2A_CACHE_DIR`` overrides)."""
    env = os.environ.get("V2A_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("v2a"))


# short names for --format (the registry's names stay the canonical ones)
FORMAT_ALIASES = {"md": "markdown", "htm": "html", "word": "docx", "vault": "obsidian"}


class Config(BaseModel):
    # extra fields are the options plugins declare (checked by _plugin_options, others dropped)
    model_config = {"validate_assignment": True, "extra": "allow"}

    # -- where things go -------------------------------------------------------------------------
    out_root: Annotated[Path, Opt(
        "Root folder for work folders (one per video: OUT/<slug>/).", ("--out", "-o"),
        commands=ALL)] = Path("outputs")
    workdir: Annotated[Path | None, Opt(
        "Use exactly this work folder instead of OUT/<slug>.", ("--workdir",),
        commands=("run", "transcribe", "scenes"))] = None
    cache_dir: Annotated[Path, Opt(
        "Assembled models and server logs ($V2A_CACHE_DIR).")] = Field(
        default_factory=default_cache_dir)

    # -- ingest ----------------------------------------------------------------------------------
    cookies: Annotated[Path | None, Opt(
        "A cookies.txt file for sites that need a login (passed to yt-dlp).", ("--cookies",),
        commands=ALL)] = None
    max_minutes: Annotated[float | None, Opt(
        "Refuse (skip, in a batch) sources longer than this many minutes.",
        ("--max-duration",), stages=("ingest",), commands=RUN, min=0.1,
        metavar="MINUTES")] = None
    title: Annotated[str | None, Opt(
        "The video's title, when the download or file name gives a poor one.", ("--title",),
        stages=("ingest",), commands=("run", "transcribe", "scenes"))] = None

    # -- transcript ------------------------------------------------------------------------------
    asr: Annotated[str, Opt(
        "auto: reuse human subtitles when present, else Whisper. always: Whisper. never: "
        "subtitles only (fails if none).", ("--asr",), stages=("transcribe",),
        commands=MEDIA, choices=("auto", "always", "never"), panel=T)] = "auto"
    auto_captions: Annotated[bool, Opt(
        "Allow the platform's automatic captions as the transcript (off: they are often poor).",
        ("--auto-captions/--no-auto-captions",), stages=("transcribe",), commands=MEDIA,
        panel=T)] = False
    sub_langs: Annotated[list[str], Opt(
        "Subtitle languages to reuse, best first.", stages=("transcribe",))] = Field(
        default_factory=lambda: ["en", "en-US", "en-GB"])
    asr_backend: Annotated[str, Opt(
        "ASR engine (openai-whisper needs `pip install v2a\\[openai-whisper]`).",
        ("--asr-backend",), stages=("transcribe",), commands=MEDIA, registry=ASR_ENGINES,
        panel=T)] = "faster-whisper"
    whisper_model: Annotated[str, Opt(
        "tiny.en (packaged, offline default), base (packaged multilingual), a hub name such as "
        "large-v3 (online), or a CTranslate2 folder.", ("--whisper-model",),
        stages=("transcribe",), commands=MEDIA, panel=T)] = "tiny.en"
    spoken_language: Annotated[Language | None, Opt(
        "The language spoken in the video (e.g. de); default: detected.",
        ("--spoken-language", "--language"), stages=("transcribe",), commands=MEDIA,
        panel=T)] = None
    asr_threads: Annotated[int, Opt("CPU threads for Whisper.")] = Field(
        default_factory=lambda: os.cpu_count() or 2)
    beam_size: Annotated[int, Opt(
        "Whisper beam size.", ("--beam-size",), stages=("transcribe",), commands=MEDIA,
        min=1, panel=T)] = 5
    # faster-whisper's own --asr-device and --vad: FasterWhisperOptions in transcribe/faster.py
    whisper_hints: Annotated[str, Opt(
        "Tell Whisper the terms read off the screen (hotwords + a prompt). Off by default: "
        "measured on the generated talk, hints raised tiny.en's WER from 0.17 to 0.31 and did "
        "not lower base's (0.162 → 0.167), at +40% ASR time (bench/results/screen.json).",
        ("--whisper-hints",), stages=("transcribe",), commands=MEDIA, choices=("on", "off"),
        panel=T)] = "off"
    recheck: Annotated[str, Opt(
        "Listen again where Whisper was unsure and the screen shows a term close by: the "
        "Whisper model that decodes those few seconds with the screen's terms as hotwords "
        "(v2a.transcribe.recheck), or off. A new reading is taken only where it spells a "
        "screen term surely (bench/results/terms.json).",
        ("--recheck",), stages=("transcribe",), commands=MEDIA, panel=T)] = "base"
    fix_terms: Annotated[bool, Opt(
        "Respell misheard terms in the transcript as the screen and the glossary spell them "
        "(\"tick token\" → tiktoken).", ("--fix-terms/--no-fix-terms",), stages=("transcribe",),
        commands=MEDIA, panel=T)] = True

    # -- scenes ----------------------------------------------------------------------------------
    scene_threshold: Annotated[float, Opt(
        "Scene-cut threshold on luma+edges; lower finds subtler slide changes.",
        ("--scene-threshold",), stages=("scenes",), commands=MEDIA, min=0.0,
        panel=S)] = 1.5  # generated slides: cuts >= 2.8, noise <= 0.2
    scene_min_len: Annotated[float, Opt(
        "Shortest scene, seconds.", ("--scene-min-len",), stages=("scenes",), commands=MEDIA,
        min=0.0, panel=S)] = 2.0
    scene_downscale_width: Annotated[int, Opt(
        "Width frames are shrunk to before scene detection.", stages=("scenes",))] = 320
    # phash Hamming distance below which keyframes are dupes (same slide re-shown: 0-2;
    # different bullets on the same slide theme: >= 6)
    dedupe_distance: Annotated[int, Opt(
        "Keyframes closer than this (perceptual-hash bits) are one slide.",
        stages=("scenes",))] = 4
    ocr: Annotated[str, Opt(
        "Read the text on screen (slides, code, terms) from each distinct keyframe: an OCR "
        "engine, or none.", ("--ocr",), stages=("screen",), commands=MEDIA, registry=OCR_ENGINES,
        extra_choices=("none",), panel=S)] = "rapidocr"

    # -- LLM -------------------------------------------------------------------------------------
    llm_base_url: Annotated[str | None, Opt(
        "OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio, llama.cpp). Default: "
        "the embedded local model.", ("--llm-base-url",), stages=LLM, commands=REVIEW_LLM,
        envvar="OPENAI_BASE_URL", panel=M)] = None
    llm_model: Annotated[str | None, Opt(
        "Model name at the endpoint (or provider:model with --llm-provider langchain).",
        ("--model", "-m"), stages=LLM, commands=REVIEW_LLM, panel=M)] = None
    api_key_env: Annotated[str, Opt(
        "Name of the environment variable holding the API key.", ("--api-key-env",),
        commands=REVIEW_LLM, panel=M)] = "OPENAI_API_KEY"
    llm_provider: Annotated[str, Opt(
        "openai: any OpenAI-compatible endpoint (or the embedded model). langchain: "
        "init_chat_model providers (needs v2a\\[langchain]).", ("--llm-provider",),
        stages=LLM, commands=REVIEW_LLM, registry=LLM_PROVIDERS, panel=M)] = "openai"
    llm_concurrency: Annotated[int, Opt(
        "LLM calls at once. 1 suits the embedded CPU model; 4-8 suit remote endpoints.",
        ("--llm-concurrency",), commands=RUN, min=1, panel=M)] = 1
    llm_timeout: Annotated[float, Opt(
        "Seconds to wait for the endpoint's next bytes before the call is retried (the first "
        "token of a long prompt on a CPU can take minutes); no new try after twice this.",
        ("--llm-timeout",), commands=REVIEW_LLM, min=1, panel=M)] = 300.0
    llm_retries: Annotated[int, Opt(
        "Retries of a call that failed transiently (429, 5xx, timeout).", ("--llm-retries",),
        commands=REVIEW_LLM, min=0, panel=M)] = 4
    # --local-model, --local-server, --local-threads: the embedded model's own options,
    # EmbeddedOptions in llm/local/options.py (the openai provider carries them)
    local_ctx: Annotated[int, Opt(
        "Context window of the embedded model, tokens (per parallel call).", ("--local-ctx",),
        stages=LLM, commands=REVIEW_LLM, min=512, panel=M)] = 8192
    temperature: Annotated[float, Opt(
        "Sampling temperature of every LLM call.", ("--temperature",), stages=LLM,
        commands=REVIEW_LLM, min=0.0, panel=M)] = 0.2
    prompts_dir: Annotated[Path | None, Opt(
        "Take prompt templates from this folder first (see prompts/README.md).",
        ("--prompts-dir",), commands=REVIEW_LLM, panel=M)] = None

    # -- outline and article ---------------------------------------------------------------------
    use_platform_chapters: Annotated[bool, Opt(
        "Use the video's own chapters as the outline when it has them.",
        ("--platform-chapters/--no-platform-chapters",), stages=("outline",), commands=RUN,
        panel=W)] = True
    outline_boundaries: Annotated[str, Opt(
        "Who places chapter starts. code: slide-title changes, topic shifts and pauses (the "
        "LLM only names chapters). model: the LLM picks among those candidates. auto: code for "
        "the embedded model, model for any other endpoint.", ("--chapters",),
        stages=("outline",), commands=RUN, choices=("auto", "code", "model"),
        panel=W)] = "auto"
    chapter_embeddings: Annotated[bool, Opt(
        "Use sentence embeddings (all-MiniLM-L6-v2, when installed) as evidence of a topic "
        "change for chapter starts; off: word overlap, voice, pauses and the screen only.",
        ("--embeddings/--no-embeddings",), stages=("outline",), commands=RUN,
        panel=W)] = True
    article_language: Annotated[Language | None, Opt(
        "Write the article in this language (e.g. zh, ja); default: as spoken.",
        ("--article-language", "--lang"), stages=LLM, commands=REVIEW_LLM, panel=W)] = None
    formats: Annotated[list[str], Opt(
        "Output formats to render (repeatable, or comma-separated: md,html,epub,pdf,docx).",
        ("--format",), stages=("render",),
        commands=RUN_PUBLISH, registry=RENDERERS, multiple=True, metavar="FORMAT", panel=W)] = Field(
        default_factory=lambda: ["markdown", "html"])
    self_contained: Annotated[bool, Opt(
        "Embed keyframes in the HTML file (one file to share).", ("--self-contained",),
        stages=("render",), commands=RUN_PUBLISH, panel=W)] = False

    # -- checks: the doubts an editor should look at (checks.json; v2a.checks) ------------------
    second_listen: Annotated[str, Opt(
        "Where a second Whisper model (base for a tiny.en transcript) hears the speech again "
        "to find misheard words: auto (all of a talk up to 20 minutes; a longer one in spans "
        "adding up to 20 minutes), spans (the stretches that need it most, within "
        "--listen-budget), whole (all the audio: about a tenth of its length on 2 cores), or "
        "off (word probabilities alone). What it heard is kept in .v2a/second_opinion.json.",
        ("--second-listen",), stages=("checks",), commands=CHECK,
        choices=("auto", "spans", "whole", "off"), panel=C)] = "auto"
    listen_budget: Annotated[float, Opt(
        "Seconds of audio the second listen may hear per minute of speech (--second-listen "
        "spans; auto's least); bench/results/doubts.json has the trade-off.", ("--listen-budget",),
        stages=("checks",), commands=CHECK, min=0.0, panel=C)] = 12.0
    doubt_threshold: Annotated[float, Opt(
        "How suspicious a word must be to be a doubt (0..1; lower: more doubts).",
        ("--doubt-threshold",), stages=("checks",), commands=CHECK, min=0.0, panel=C)] = 0.4

    # -- batch engine (none of these enter a stage's cache key) ----------------------------------
    batch_engine: Annotated[str, Opt(
        "Where the batch runs. local: threads on this machine. ray: a Ray cluster (needs "
        "v2a\\[ray]; see README, \"Batch on a Ray cluster\").", ("--engine",), commands=BATCH,
        registry=BATCH_ENGINES, panel=B)] = "local"
    ray_address: Annotated[str | None, Opt(
        "Ray cluster to join (--engine ray): auto (the cluster this machine belongs to), "
        "HOST:6379, or ray://HOST:10001. Default: $RAY_ADDRESS, else a one-machine Ray "
        "started for this batch.", ("--address",), commands=BATCH, panel=B)] = None
    store: Annotated[str | None, Opt(
        "Where artifacts live so every node sees them (--engine ray): a path or file:// URL "
        "on shared storage, or an object store URL such as s3://bucket/prefix (fsspec). "
        "Default: OUT itself.", ("--store",), commands=BATCH, panel=B,
        metavar="URL")] = None
    media_cpus: Annotated[float, Opt(
        "CPUs one Ray media worker (ASR + scenes) reserves; one GPU too when the cluster "
        "has them.", ("--media-cpus",), commands=BATCH, min=0.1, panel=B)] = 1.0
    max_in_flight: Annotated[int | None, Opt(
        "Videos started but not finished at once (--engine ray), which bounds the media "
        "on scratch and store. Default: twice the media workers plus the LLM workers.",
        ("--max-in-flight",), commands=BATCH, min=1, panel=B)] = None
    task_retries: Annotated[int, Opt(
        "Times Ray re-runs a phase whose worker died or whose node was lost (--engine ray).",
        ("--task-retries",), commands=BATCH, min=0, panel=B)] = 3

    # -- run control -----------------------------------------------------------------------------
    force: Annotated[list[str], Opt(
        "Re-run this stage even if cached (repeatable).", ("--force", "-f"), commands=ALL,
        registry=STAGES, multiple=True, metavar="STAGE")] = Field(default_factory=list)
    quiet: Annotated[bool, Opt("No progress bars.", ("--quiet", "-q"), commands=ALL)] = False

    @field_validator("formats", "force", mode="before")
    @classmethod
    def _comma_lists(cls, value, info):
        """``--format md,html,epub`` is ``--format markdown --format html --format epub``."""
        if value is None:
            return value
        aliases = FORMAT_ALIASES if info.field_name == "formats" else {}
        out: list[str] = []
        for v in [value] if isinstance(value, str) else value:
            for name in str(getattr(v, "value", v)).split(","):
                name = name.strip()
                if name and aliases.get(name, name) not in out:
                    out.append(aliases.get(name, name))
        return out

    @field_validator("*", mode="after")
    @classmethod
    def _allowed(cls, value, info):
        """Values of registry/choice options must be known (one clear line otherwise)."""
        o = opt_of(cls.model_fields[info.field_name])
        if o is None or value is None or not (o.registry or o.choices):
            return value
        allowed = o.allowed()
        for v in value if isinstance(value, list) else [value]:
            if v not in allowed:
                flag = o.flags[0].split("/")[0] if o.flags else info.field_name
                raise ValueError(f"{flag} {v!r} is not one of: {', '.join(allowed)}")
        return value

    @field_validator("article_language", "spoken_language", mode="before")
    @classmethod
    def _language_tag(cls, value, info):
        """A BCP 47 tag with a registered language (``Language``): ``xx-invalid`` is refused in
        one line naming the option, ``pt_br`` becomes ``pt-BR``."""
        if value is None:
            return None
        try:
            return Language.parse(value)
        except ValueError as exc:
            o = opt_of(cls.model_fields[info.field_name])
            flag = o.flags[-1] if o is not None and o.flags else info.field_name
            raise ValueError(f"{flag} {exc}") from None

    @model_validator(mode="after")
    def _plugin_options(self) -> Config:
        """Extra fields are options a registered plugin declares: each is validated by its
        model (and its ``Opt``'s choices); a name no plugin declares is dropped, as pydantic
        drops unknown fields by default."""
        extra = self.__pydantic_extra__
        if not extra:
            return self
        known = plugin_options()
        for name in list(extra):
            if name not in known:
                del extra[name]
                continue
            model, field = known[name]
            value = model.model_validate({name: extra[name]}).model_dump()[name]
            o = opt_of(field)
            if (o is not None and (o.registry or o.choices) and value is not None
                    and value not in o.allowed()):
                flag = o.flags[0].split("/")[0] if o.flags else name
                raise ValueError(f"{flag} {value!r} is not one of: {', '.join(o.allowed())}")
            extra[name] = value
        return self

    def options_of(self, model: type[Opts]) -> Opts:
        """A plugin's own options (its ``options`` model), as given or by default."""
        extra = self.__pydantic_extra__ or {}
        return model.model_validate({k: extra[k] for k in model.model_fields if k in extra})

    def stage_view(self, stage: str, also: tuple[str, ...] = ()) -> dict:
        """The JSON-able config fields ``stage`` depends on (its cache key material): those
        whose ``Opt(stages=...)`` names it, and ``also`` (a plugin stage's ``options``). A
        plugin's option enters only when its ``Opt`` names the stage (value or default)."""
        data = self.model_dump(mode="json")
        view = {name: data[name] for name, f in type(self).model_fields.items()
                if ((o := opt_of(f)) is not None and stage in o.stages) or name in also}
        for name, (model, field) in plugin_options().items():
            if ((o := opt_of(field)) is not None and stage in o.stages) or name in also:
                view[name] = self.options_of(model).model_dump(mode="json")[name]
        return view


def plugin_options() -> dict[str, tuple[type[BaseModel], FieldInfo]]:
    """name → (model, field) of every option a registered plugin declares: the ``options``
    model of each engine, provider, server, renderer... (a name ``Config`` already has, or two
    plugins both declare, is a plugin's bug, refused with one line)."""
    out: dict[str, tuple[type[BaseModel], FieldInfo]] = {}
    for reg in (ASR_ENGINES, LLM_PROVIDERS, LOCAL_SERVERS, OCR_ENGINES, RENDERERS,
                BATCH_ENGINES):
        for plugin_name, obj in reg.items():
            model: Any = getattr(obj, "options", None)
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            for name, field in model.model_fields.items():
                if name in Config.model_fields or (name in out and out[name][0] is not model):
                    raise V2AError(f"option {name!r} of {reg.kind} {plugin_name!r} is "
                                   "already declared")
                out[name] = (model, field)
    return out


def options() -> list[tuple[str, Opt, object]]:
    """(field name, Opt, default) of every config field, in declaration order, then of every
    option a registered plugin declares (``plugin_options``)."""
    out = []
    fields = [*Config.model_fields.items(), *((n, f) for n, (_, f) in plugin_options().items())]
    for name, f in fields:
        o = opt_of(f)
        if o is not None:
            default = f.default_factory() if f.default_factory else f.default  # type: ignore[call-arg]
            out.append((name, o, default))
    return out


def field_of(name: str) -> FieldInfo:
    """The pydantic field of an option: ``Config``'s own, or a plugin's."""
    return Config.model_fields.get(name) or plugin_options()[name][1]
