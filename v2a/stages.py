"""The stage graph: each stage's function, what it depends on and what it writes.

Which config fields enter a stage's cache key is declared on the options themselves
(``Opt(stages=...)`` in ``v2a.config``), not here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageSpec:
    name: str
    func: str  # "module:function", imported lazily so `v2a --help` stays fast
    deps: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()  # small artifacts hashed into the record (existence checked)
    files: tuple[str, ...] = ()  # big outputs: existence checked, not hashed (a function of key)
    outputs_from: str | None = None  # "module:function(config) -> names": outputs that vary
    extra_key: str | None = None  # "module:function(ctx) -> jsonable" e.g. prompt hashes
    version: int = 1
    help: str = ""


STAGES: dict[str, StageSpec] = {
    s.name: s
    for s in [
        StageSpec("ingest", "v2a.ingest.stage:run", (), ("source.json",),
                  extra_key="v2a.ingest.stage:fingerprint",
                  help="resolve the source, download it, record metadata"),
        StageSpec("audio", "v2a.audio:run", ("ingest",), (), files=("audio.wav",),
                  help="16 kHz mono WAV for ASR"),
        StageSpec("scenes", "v2a.scenes.stage:run", ("ingest",), ("scenes.json",), version=3,
                  help="slide/scene cuts and one keyframe per scene"),
        StageSpec("screen", "v2a.ocr.stage:run", ("scenes",), ("screen.json",), version=2,
                  help="the text on screen: slide titles, code, terms (OCR)"),
        StageSpec("transcribe", "v2a.transcribe.stage:run", ("ingest", "audio", "screen"),
                  ("transcript.json",), version=4,
                  help="subtitles or Whisper → transcript.json (sentences), .srt/.vtt"),
        StageSpec("outline", "v2a.write.outline:run",
                  ("ingest", "transcribe", "scenes", "screen"),
                  ("outline.json",), version=3, extra_key="v2a.llm.prompts:fingerprint",
                  help="chapters with start times, named by the LLM"),
        StageSpec("write", "v2a.write.chapters:run", ("outline", "transcribe", "screen"),
                  ("chapters.json",), extra_key="v2a.llm.prompts:fingerprint",
                  help="one LLM call per chapter, in parallel"),
        StageSpec("render", "v2a.render.stage:run",
                  ("ingest", "transcribe", "scenes", "screen", "outline", "write"),
                  outputs_from="v2a.render.stage:outputs",
                  extra_key="v2a.render.stage:fingerprint",
                  help="the article in each output format (Markdown, HTML)"),
    ]
}

STAGE_NAMES = tuple(STAGES)

TARGETS = {
    "transcribe": ["transcribe"],
    "scenes": ["scenes", "screen"],
    "media": ["transcribe", "scenes", "screen"],  # batch: the CPU-bound half, overlapped with LLM work
    "run": ["transcribe", "scenes", "outline", "write", "render"],
}


def plan(targets: list[str]) -> list[str]:
    """Targets plus their dependencies, in the declared (topological) order."""
    need: set[str] = set()

    def visit(name: str) -> None:
        if name not in need:
            need.add(name)
            for d in STAGES[name].deps:
                visit(d)

    for t in targets:
        visit(t)
    return [n for n in STAGES if n in need]
