"""``checks.json``: the doubts about one article, ranked, and how much of the speech it covers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..models import Artifact

Kind = Literal["unsure", "screen", "unsaid", "unsupported", "uncovered", "code", "retried"]
Severity = Literal["high", "medium", "low"]
Resolution = Literal["fixed", "correct", "ignore"]

KINDS: dict[str, str] = {
    "unsure": "a word the recogniser was unsure of",
    "screen": "a word that conflicts with a term on screen",
    "unsaid": "a number, name or identifier in the prose the speaker did not say",
    "unsupported": "a prose sentence with little support in its source",
    "uncovered": "speech no paragraph covers",
    "code": "code whose frames disagree",
    "retried": "a chapter kept after retries or written by a fallback",
}


class Doubt(Artifact):
    """One place an editor should look at, with why and what it might be instead."""

    id: str  # stable across re-runs: kind, chapter and text (a resolution is keyed by it)
    kind: Kind
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

    def unresolved(self, severity: Severity = "high") -> list[Doubt]:
        return [d for d in self.doubts if d.severity == severity and d.resolved is None]
