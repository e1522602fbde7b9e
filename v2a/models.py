"""Typed data objects passed between stages and saved as JSON artifacts.

Every stage reads and writes these; the JSON on disk is the contract, so a stage can be re-run,
cached, inspected or replaced by another tool that writes the same shape.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Artifact(BaseModel):
    """Base for JSON artifacts: strict about unknown keys so schema drift is noticed."""

    model_config = {"extra": "forbid"}


# --- ingest -----------------------------------------------------------------------------------


class PlatformChapter(Artifact):
    title: str
    start: float
    end: float | None = None


class SubtitleTrack(Artifact):
    lang: str
    ext: str
    automatic: bool = False  # auto-captions (ASR by the platform), not human subtitles
    url: str | None = None
    path: str | None = None  # local file (sidecar or downloaded), relative to the work folder


class Source(Artifact):
    """Normalized metadata of one video or audio source (source.json)."""

    input: str  # what the user typed
    id: str
    title: str
    kind: Literal["local", "url"]
    extractor: str = "local"  # yt-dlp extractor key ("youtube", "generic", ...) or "local"
    url: str | None = None  # canonical web page of the video (None for local files)
    media_url: str | None = None  # direct media URL when known
    media_path: str  # the media file, relative to the work folder when inside it
    duration: float | None = None
    uploader: str | None = None
    upload_date: str | None = None
    description: str | None = None
    chapters: list[PlatformChapter] = Field(default_factory=list)
    subtitles: list[SubtitleTrack] = Field(default_factory=list)
    has_video: bool = True
    has_audio: bool = True
    width: int | None = None
    height: int | None = None


class PlaylistEntry(Artifact):
    index: int
    id: str
    title: str
    url: str
    duration: float | None = None
    upload_date: str | None = None


class Playlist(Artifact):
    input: str
    id: str
    title: str
    url: str | None = None
    entries: list[PlaylistEntry]


# --- transcript -------------------------------------------------------------------------------


class Word(Artifact):
    start: float
    end: float
    text: str
    probability: float | None = None


class Segment(Artifact):
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)


class Respelling(Artifact):
    """One stretch of the transcript respelled as the screen spells a term, with the evidence."""

    heard: str  # what the recogniser wrote ("Dpt2")
    term: str  # what it became ("GPT-2")
    start: float
    end: float
    how: str  # "letters", "sound", "spelling", "context" (see v2a.ocr.terms.respell)
    score: float  # 0..100, how alike heard and term are by that measure
    shown_at: float | None = None  # time of the keyframe showing the term nearest to ``start``
    keyframe: str | None = None
    scene: int | None = None


class Transcript(Artifact):
    """transcript.json: segments with ids (the LLM refers to segments by id, never by time)."""

    language: str
    origin: Literal["asr", "subtitles"]
    backend: str  # "faster-whisper", "openai-whisper", "subtitles"
    model: str
    duration: float | None = None
    segments: list[Segment]
    timings: dict[str, float] = Field(default_factory=dict)
    corrections: list[str] = Field(default_factory=list)  # "heard → term" respellings
    respellings: list[Respelling] = Field(default_factory=list)  # the screen's, with evidence

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments)

    def between(self, first: int, last: int) -> list[Segment]:
        """The segments with ids ``first`` to ``last``, inclusive."""
        return [s for s in self.segments if first <= s.id <= last]

    def text_between(self, first: int, last: int) -> str:
        return " ".join(s.text.strip() for s in self.between(first, last))


# --- scenes -----------------------------------------------------------------------------------


class Scene(Artifact):
    index: int
    start: float
    end: float
    keyframe: str | None = None  # path relative to the work folder (keyframes/....jpg)
    keyframe_time: float | None = None
    phash: str | None = None
    head_hash: str | None = None  # of the keyframe's title band (top 16%): slide title changes
    duplicate_of: int | None = None  # index of an earlier scene with a near-identical keyframe


class Scenes(Artifact):
    """scenes.json. Empty for audio-only sources."""

    audio_only: bool = False
    detector: dict = Field(default_factory=dict)
    fps: float | None = None
    frames: int | None = None
    scenes: list[Scene] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)

    @property
    def cuts(self) -> list[float]:
        """Start times of every scene after the first (the slide changes)."""
        return [s.start for s in self.scenes[1:]]


# --- what is on screen ------------------------------------------------------------------------


class ScreenLine(Artifact):
    """One line of text read off a keyframe; ``box`` is [x0, y0, x1, y1] in pixels."""

    text: str
    box: list[float]
    score: float = 1.0


class CodeBlock(Artifact):
    """Code shown on screen, as shown: indentation rebuilt from the text's positions."""

    language: str = ""
    lines: list[str]
    start: float  # first shown (seconds)
    end: float  # last shown
    scenes: list[int] = Field(default_factory=list)  # where it was read (its final form last)
    source_lines: int | None = None  # how many of ``lines`` are source; the rest is its output
    repairs: list[str] = Field(default_factory=list)  # "old → new": fixes a parse proved
    frames: int = 1  # frames that showed it (their readings were voted line by line)


class ScreenFrame(Artifact):
    scene: int
    time: float
    keyframe: str
    title: str | None = None  # a slide's heading, when the frame has one
    lines: list[ScreenLine] = Field(default_factory=list)
    code: list[str] | None = None  # the frame's text as code, when it is code
    kind: str = ""  # code | slide | prose | ui | image ("" : not classified)
    text: str = ""  # the text read column by column (an image's alt text)


class Screen(Artifact):
    """screen.json: the text of every distinct keyframe, the code shown, the terms used."""

    engine: str | None = None  # None: OCR was off (or the source has no video)
    frames: list[ScreenFrame] = Field(default_factory=list)
    code: list[CodeBlock] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)  # names, identifiers, numbers on screen
    timings: dict[str, float] = Field(default_factory=dict)

    def title_changes(self) -> list[float]:
        """Times where a new slide heading appears (a chapter-boundary signal)."""
        out, last = [], None
        for f in sorted(self.frames, key=lambda f: f.time):
            if f.title is None:
                continue
            key = " ".join(f.title.lower().split())
            if last is not None and key != last:
                out.append(f.time)
            last = key
        return out


# --- glossary ---------------------------------------------------------------------------------


class GlossaryTerm(Artifact):
    """A term as it should be spelled, and the wrong forms that stand for it."""

    term: str
    variants: list[str] = Field(default_factory=list)  # misheard/misspelled forms to replace
    source: Literal["screen", "editor"] = "editor"  # read off the keyframes, or fixed by a person


class Glossary(Artifact):
    """glossary.json: kept with a work folder (that video) or a batch root (all its videos)."""

    terms: list[GlossaryTerm] = Field(default_factory=list)


# --- LLM stages -------------------------------------------------------------------------------


class Usage(Artifact):
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    estimated: bool = False  # token counts estimated (tiktoken) because the API gave none

    def add(self, other: Usage) -> Usage:
        cost = None
        if self.cost_usd is not None or other.cost_usd is not None:
            cost = (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        return Usage(
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=cost,
            estimated=self.estimated or other.estimated,
        )


class OutlineChapter(Artifact):
    index: int
    title: str
    summary: str = ""
    first_segment: int  # segment id where the chapter starts
    last_segment: int  # inclusive
    start: float  # seconds, derived from segment ids (and snapped), never from LLM text
    end: float


class Outline(Artifact):
    """outline.json."""

    method: Literal["llm", "platform", "fallback"]
    # who placed the chapter starts: "code" (the model only named them), "model", "platform"
    boundaries: Literal["code", "model", "platform"] | None = None
    model: str | None = None
    title: str | None = None
    chapters: list[OutlineChapter]
    notes: list[str] = Field(default_factory=list)  # repairs, retries, fallbacks that happened
    usage: Usage = Field(default_factory=Usage)

    def problems(self, transcript: Transcript) -> list[str]:
        """What makes this outline unusable with this transcript (an editor's slip, say)."""
        ids = {s.id for s in transcript.segments}
        out = []
        for k, c in enumerate(self.chapters, 1):
            where = f"chapter {k} ({c.title!r})"
            if c.end < c.start:
                out.append(f"{where} ends ({c.end:g} s) before it starts ({c.start:g} s)")
            if c.last_segment < c.first_segment:
                out.append(f"{where}: last_segment {c.last_segment} comes before "
                           f"first_segment {c.first_segment}")
            for f in ("first_segment", "last_segment"):
                if ids and getattr(c, f) not in ids:
                    out.append(f"{where}: {f} {getattr(c, f)} is not a segment of "
                               f"transcript.json (ids {min(ids)}-{max(ids)})")
        starts = [c.start for c in self.chapters]
        if starts != sorted(starts):
            out.append("the chapters are not in time order")
        return out


class ParagraphSource(Artifact):
    """Where one prose paragraph came from: transcript sentences found by aligning the words
    (``v2a.sources``), never by asking the model."""

    paragraph: int  # the prose paragraph's position among the chapter's prose paragraphs
    key: str  # its words, normalised: finds the paragraph again in rendered or edited text
    segments: list[int] = Field(default_factory=list)  # transcript sentence (segment) ids
    start: float | None = None  # seconds: the first source sentence's start
    end: float | None = None
    support: float = 0.0  # 0..1: share of the paragraph's content words found in its sources


class ChapterText(Artifact):
    index: int
    title: str
    start: float
    end: float
    markdown: str = ""
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    # why a try was rejected, or that a reply's usable part was kept: the editor's hint that
    # this text needed more than one ask
    notes: list[str] = Field(default_factory=list)
    sources: list[ParagraphSource] = Field(default_factory=list)  # per prose paragraph


class Draft(Artifact):
    """chapters.json: the written prose per outline chapter."""

    lang: str | None = None
    model: str | None = None
    chapters: list[ChapterText]
    usage: Usage = Field(default_factory=Usage)


# --- run report -------------------------------------------------------------------------------


class StageReport(Artifact):
    name: str
    status: Literal["ran", "cached", "failed", "skipped", "interrupted"]
    wall_s: float = 0.0
    detail: str | None = None


class RunReport(Artifact):
    """run.json."""

    source: str
    workdir: str
    started_at: str
    finished_at: str | None = None
    ok: bool = True
    error: str | None = None
    stages: list[StageReport] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    versions: dict[str, str] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)


# --- checks (v2a.checks: the doubts about an article) ----------------------------------------

DoubtKind = Literal["unsure", "screen", "unsaid", "unsupported", "uncovered", "code", "retried",
                    "title"]
Severity = Literal["high", "medium", "low"]
Resolution = Literal["fixed", "correct", "ignore"]


class Doubt(Artifact):
    """One place an editor should look at, with why and what it might be instead."""

    id: str  # stable across re-runs: kind, chapter and text (a resolution is keyed by it)
    kind: DoubtKind
    start: float  # seconds of the video
    end: float
    text: str  # what is doubtful, as it stands (a word, a sentence, a line of code)
    evidence: str  # why, in words an editor reads
    suggestion: str | None = None  # what it might be instead
    severity: Severity = "medium"
    score: float = 0.0  # 0..1, the likelihood of a real error: the ranking
    chapter: int | None = None  # outline chapter index
    where: Literal["transcript", "prose", "screen", "chapter"] = "transcript"
    resolved: Resolution | None = None  # from review.json, when an editor decided


class Span(Artifact):
    start: float
    end: float
    state: Literal["covered", "uncovered", "doubtful"]


class Coverage(Artifact):
    """How much of the speech the prose covers (by the paragraphs' sources), and where."""

    speech_s: float = 0.0
    covered_s: float = 0.0
    share: float = 1.0  # covered_s / speech_s
    paragraphs: int = 0
    paragraphs_with_sources: int = 0
    spans: list[Span] = Field(default_factory=list)  # the timeline strip, in time order


class Checks(Artifact):
    """checks.json: the doubts, likeliest real errors first."""

    doubts: list[Doubt] = Field(default_factory=list)
    coverage: Coverage = Field(default_factory=Coverage)
    timings: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)  # what they could not do (no second listen)

    def unresolved(self, severity: Severity = "high") -> list[Doubt]:
        return [d for d in self.doubts if d.severity == severity and d.resolved is None]
