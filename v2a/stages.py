"""The stage graph: every stage declared once, and everything about stages derived from it.

A ``StageSpec`` names a stage, the stages it reads, the artifacts it writes (file names and their
pydantic models), its batch phase, the config fields its cache key depends on beyond the ones
whose ``Opt(stages=...)`` names it, and its runner. The runner (``v2a.pipeline``), the work
folder's hints (``v2a.workspace``), the batch phases (``v2a.batch.phases``, local and Ray), the
store's big files, ``--force``'s choices and run.json's outputs all read this graph.

Stages come from plugins through the ``register_stages`` hook, like every other extension point:
the built-in ones are declared at the bottom of this module, which is a built-in plugin
(``v2a.plugins.BUILTIN``). A new stage is one module with ``run(ctx) -> StageResult`` and one
``register(StageSpec(...))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from .errors import V2AError
from .hookspecs import hookimpl
from .models import Checks, Draft, Outline, Scenes, Screen, Source, Transcript
from .registry import Registry

if TYPE_CHECKING:
    from .stage import StageContext, StageResult

M = TypeVar("M", bound=BaseModel)

# what limits a stage in a batch: the network, the CPU/GPU, the LLM endpoint (in this order)
Phase = Literal["download", "media", "llm"]
PHASE_ORDER: tuple[Phase, ...] = ("download", "media", "llm")

# how the runner treats an artifact: "hashed" (small, hashed into the record, existence checked),
# "big" (existence checked, not hashed: a function of the key; a batch moves it only when needed),
# "side" (written beside a hashed one, e.g. subtitles: neither checked nor hashed)
Role = Literal["hashed", "big", "side"]


@dataclass(frozen=True)
class Artifact(Generic[M]):
    """One file a stage writes in the work folder; ``model`` validates it when it is read."""

    name: str
    model: type[M] | None = None
    role: Role = "hashed"
    listed: bool = True  # named in run.json's outputs and the run's summary


# the built-in stages' artifacts: the one place their file names are written (with workspace.py)
SOURCE: Artifact[Source] = Artifact("source.json", Source, listed=False)
AUDIO: Artifact[BaseModel] = Artifact("audio.wav", role="big", listed=False)
SCENES: Artifact[Scenes] = Artifact("scenes.json", Scenes)
SCREEN: Artifact[Screen] = Artifact("screen.json", Screen, listed=False)
TRANSCRIPT: Artifact[Transcript] = Artifact("transcript.json", Transcript)
TRANSCRIPT_SRT: Artifact[BaseModel] = Artifact("transcript.srt", role="side")
TRANSCRIPT_VTT: Artifact[BaseModel] = Artifact("transcript.vtt", role="side")
OUTLINE: Artifact[Outline] = Artifact("outline.json", Outline)
CHAPTERS: Artifact[Draft] = Artifact("chapters.json", Draft)
CHECKS: Artifact[Checks] = Artifact("checks.json", Checks)

StageRunner = Callable[["StageContext"], "StageResult | str | None"]


@dataclass(frozen=True)
class StageSpec:
    """One stage. ``func``, ``outputs_from`` and ``extra_key`` are callables or "module:function"
    strings (imported when first needed, so ``v2a --help`` stays fast)."""

    name: str
    func: str | StageRunner
    deps: tuple[str, ...] = ()
    outputs: tuple[Artifact[Any], ...] = ()
    phase: Phase = "media"
    options: tuple[str, ...] = ()  # config fields in the key besides those whose Opt names it
    outputs_from: str | Callable[..., Any] | None = None  # (config) -> file names that vary
    extra_key: str | Callable[..., Any] | None = None  # (ctx) -> jsonable, e.g. prompt hashes
    version: int = 1
    help: str = ""

    def artifacts(self, role: Role) -> tuple[str, ...]:
        return tuple(a.name for a in self.outputs if a.role == role)


def load(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """A callable, or the function a "module:function" string names."""
    if not isinstance(ref, str):
        return ref
    import importlib

    mod, fn = ref.split(":")
    return getattr(importlib.import_module(mod), fn)


class StageGraph(Registry[StageSpec]):
    """The stages every plugin registered, in dependency order (a stage after what it reads;
    otherwise in the order the plugins were asked, see ``v2a.registry``). Checked when loaded:
    a dependency on an unknown stage, a cycle, or a stage in an earlier batch phase than one it
    reads is a plugin's bug and is refused with one line."""

    def _checked(self, items: dict[str, StageSpec]) -> dict[str, StageSpec]:
        return _ordered(items)

    def __getitem__(self, name: str) -> StageSpec:
        return self.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._load())

    def specs(self) -> list[StageSpec]:
        return list(self._load().values())


def _ordered(items: dict[str, StageSpec]) -> dict[str, StageSpec]:
    out: dict[str, StageSpec] = {}
    visiting: set[str] = set()

    def visit(spec: StageSpec) -> None:
        if spec.name in out:
            return
        if spec.name in visiting:
            raise V2AError(f"stage {spec.name!r} depends on itself through {sorted(visiting)}")
        visiting.add(spec.name)
        for d in spec.deps:
            if d not in items:
                raise V2AError(f"stage {spec.name!r} depends on {d!r}, which no plugin declares")
            dep = items[d]
            if PHASE_ORDER.index(dep.phase) > PHASE_ORDER.index(spec.phase):
                raise V2AError(f"stage {spec.name!r} (phase {spec.phase}) reads {d!r}, which "
                               f"runs later in a batch (phase {dep.phase})")
            visit(dep)
        visiting.discard(spec.name)
        out[spec.name] = spec

    for name, spec in items.items():
        if name != spec.name:
            raise V2AError(f"stage registered as {name!r} is declared as {spec.name!r}")
        visit(spec)
    return out


STAGES = StageGraph("stage", "register_stages", "--force")

# the commands' targets; "media" and "run" are whole phases, so a plugin's stage joins them
COMMAND_TARGETS = {"transcribe": ("transcribe",), "scenes": ("scenes", "screen")}


def target_stages(target: str) -> list[str]:
    """The stages a target names (before their dependencies are added)."""
    if target in COMMAND_TARGETS:
        return list(COMMAND_TARGETS[target])
    if target == "media":  # batch: the CPU-bound half, overlapped with LLM work
        return [s.name for s in STAGES.specs() if s.phase != "llm"]
    if target == "run":
        return STAGES.names()
    raise KeyError(target)


def plan(targets: list[str]) -> list[str]:
    """Targets plus their dependencies, in graph order."""
    need: set[str] = set()

    def visit(name: str) -> None:
        if name not in need:
            need.add(name)
            for d in STAGES[name].deps:
                visit(d)

    for t in targets:
        visit(t)
    return [n for n in STAGES if n in need]


def phases() -> dict[str, tuple[str, ...]]:
    """Each batch phase's stages, in graph order (a phase runs on one worker)."""
    return {p: tuple(s.name for s in STAGES.specs() if s.phase == p) for p in PHASE_ORDER}


def big_files() -> tuple[str, ...]:
    """Files a batch moves between nodes only when a stage that reads them runs."""
    return tuple(a.name for s in STAGES.specs() for a in s.outputs if a.role == "big")


def big_inputs(names: tuple[str, ...]) -> set[str]:
    """The big files the stages ``names`` read and do not make themselves (audio.wav for the
    checks' second listen in the llm phase): a worker fetches those, not the video."""
    own = set(names)
    return {a.name for n in names for d in STAGES[n].deps if d not in own
            for a in STAGES[d].outputs if a.role == "big"}


def producer(filename: str) -> str | None:
    """The stage that writes ``filename`` (a damaged artifact's fix names it)."""
    for s in STAGES.specs():
        if any(a.name == filename for a in s.outputs):
            return s.name
    return None


def model_of(filename: str) -> type[BaseModel] | None:
    """The pydantic model an artifact is validated against, if it has one."""
    for s in STAGES.specs():
        for a in s.outputs:
            if a.name == filename:
                return a.model
    return None


def listed_outputs() -> list[str]:
    """The files run.json names: the last stages' (the article) first, then the others'."""
    specs = STAGES.specs()
    read = {d for s in specs for d in s.deps}
    ordered = [s for s in specs if s.name not in read] + [s for s in specs if s.name in read]
    return [a.name for s in ordered for a in s.outputs if a.listed]


# --- the built-in stages ------------------------------------------------------------------------

BUILTIN: tuple[StageSpec, ...] = (
    StageSpec("ingest", "v2a.ingest.stage:run", (), (SOURCE,), phase="download",
              extra_key="v2a.ingest.stage:fingerprint",
              help="resolve the source, download it, record metadata"),
    StageSpec("audio", "v2a.audio:run", ("ingest",), (AUDIO,),
              help="16 kHz mono WAV for ASR"),
    StageSpec("scenes", "v2a.scenes.stage:run", ("ingest",), (SCENES,), version=3,
              help="slide/scene cuts and one keyframe per scene"),
    StageSpec("screen", "v2a.ocr.stage:run", ("scenes",), (SCREEN,), version=3,
              help="the text on screen: slide titles, code, terms (OCR)"),
    StageSpec("transcribe", "v2a.transcribe.stage:run", ("ingest", "audio", "screen"),
              (TRANSCRIPT, TRANSCRIPT_SRT, TRANSCRIPT_VTT), version=6,
              help="subtitles or Whisper → transcript.json (sentences), .srt/.vtt"),
    StageSpec("outline", "v2a.write.outline:run", ("ingest", "transcribe", "scenes", "screen"),
              (OUTLINE,), phase="llm", version=4, extra_key="v2a.llm.prompts:fingerprint",
              help="chapters with start times, named by the LLM"),
    StageSpec("write", "v2a.write.chapters:run", ("outline", "transcribe", "screen"),
              (CHAPTERS,), phase="llm", extra_key="v2a.llm.prompts:fingerprint",
              help="one LLM call per chapter, in parallel"),
    StageSpec("render", "v2a.render.stage:run",
              ("ingest", "transcribe", "scenes", "screen", "outline", "write"), phase="llm",
              outputs_from="v2a.render.stage:outputs", extra_key="v2a.render.stage:fingerprint",
              help="the article in each output format (Markdown, HTML)"),
    StageSpec("checks", "v2a.checks.stage:run",
              ("audio", "transcribe", "screen", "outline", "write"), (CHECKS,), phase="llm",
              extra_key="v2a.checks.stage:fingerprint",
              help="the doubts an editor should check, ranked (a second listen within a budget)"),
)


@hookimpl
def register_stages(register: Callable[[str, StageSpec], None]) -> None:
    for spec in BUILTIN:
        register(spec.name, spec)
