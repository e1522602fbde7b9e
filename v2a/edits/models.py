"""review.json: the editor's layer over the generated draft, kept apart from it.

Sections are keyed by the transcript segment where their chapter starts (``first_segment``):
re-running the model, the prompts or the write stage keeps that key, so an edit stays with its
section. Every edit records the generated text it was made on (and its sha256), so a re-run that
changes the generated text underneath is shown to the editor instead of silently winning or
losing. ``rev`` counts the changes of a section: a save names the rev it was made on, and a
stale one is refused (two tabs get a conflict, not last-write-wins).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..models import Artifact, Usage

Status = Literal["draft", "reviewed", "approved"]
STATUSES: tuple[Status, ...] = ("draft", "reviewed", "approved")
VersionKind = Literal["generated", "edit", "regenerated", "restored", "split", "merged",
                      "fixed", "base"]


class Version(Artifact):
    """One saved state of a section's text (its history; any can be restored)."""

    n: int
    at: str
    kind: VersionKind
    title: str
    markdown: str
    images: list[int] | None = None
    note: str = ""
    editor: str | None = None  # the open editor that saved it (its autosaves are one version)


class Comment(Artifact):
    id: str
    time: float  # seconds into the video the comment is pinned to
    text: str
    at: str
    done: bool = False


class Proposal(Artifact):
    """A regenerated text waiting for the editor to accept or discard it."""

    id: str
    instruction: str = ""
    markdown: str
    at: str
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)


class SectionReview(Artifact):
    key: str  # str(first_segment) of the section's chapter
    rev: int = 0
    status: Status = "draft"
    title: str | None = None  # the editor's title; None: the generated one shows
    markdown: str | None = None  # the editor's prose; None: the generated one shows
    images: list[int] | None = None  # chosen keyframes (scene indexes); None: automatic
    base_title: str | None = None  # the generated title and prose the edit was made on
    base_markdown: str | None = None
    base_sha: str | None = None  # sha256 of [base_title, base_markdown]
    stale: list[str] = Field(default_factory=list)  # transcript fixes since the text was written
    proposal: Proposal | None = None
    history: list[Version] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)
    updated_at: str | None = None

    @property
    def edited(self) -> bool:
        return self.title is not None or self.markdown is not None

    def next_version(self) -> int:
        return (self.history[-1].n + 1) if self.history else 1


class Structure(Artifact):
    """The editor's changes to the chapter cuts, applied over whatever outline is generated."""

    added: dict[str, str] = Field(default_factory=dict)  # segment id → title of a split-off chapter
    removed: list[int] = Field(default_factory=list)  # chapter starts merged into the one before


class Correction(Artifact):
    """A transcript fix: what was misheard, what it should say, where it was replaced."""

    at: str
    find: str
    replace: str
    segments: list[int]


class Review(Artifact):
    """review.json in a work folder."""

    version: int = 1
    sections: dict[str, SectionReview] = Field(default_factory=dict)
    structure: Structure = Field(default_factory=Structure)
    corrections: list[Correction] = Field(default_factory=list)
    # the editor's decision on each doubt of checks.json (by its stable id): kept across re-runs
    doubts: dict[str, Literal["fixed", "correct", "ignore"]] = Field(default_factory=dict)
    published_at: str | None = None
    updated_at: str | None = None

    def section(self, key: str) -> SectionReview:
        """The section's record, created (empty, rev 0) on first use."""
        if key not in self.sections:
            self.sections[key] = SectionReview(key=key)
        return self.sections[key]
