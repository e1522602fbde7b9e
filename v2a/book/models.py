"""What the book keeps between builds (``book/book.json`` and one cached file per part)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..models import GlossaryTerm, Source


class SectionData(BaseModel):
    """One chapter of a part, ready to assemble (its HTML/Markdown body has no heading)."""

    number: int
    key: str = ""  # the chapter's key in review.json (its first segment): the review page's
    title: str
    anchor: str  # unique in the book: p<part>-<article anchor>
    start: float
    end: float
    href: str  # the video at this chapter's start
    status: str = "ok"
    html: str  # body; images as ``Doc.image`` placeholders (see ``PartData.images``)
    md: str  # body in Markdown; images relative to the book folder
    spoken: list[tuple[float, str]] = Field(default_factory=list)  # (second, transcript text)
    code: list[str] = Field(default_factory=list)  # code shown on screen (never linked into)
    review: str = "draft"  # the editor's status of this chapter (review.json)


class PartData(BaseModel):
    """One video as a part: everything the book needs from its work folder, keyed by the hash
    of the artifacts it came from (a part is re-read only when one of them changed)."""

    key: str  # the batch entry key
    folder: str  # work folder, relative to the batch root
    hash: str
    title: str
    source_href: str
    source: Source
    media: str  # the media file relative to the book folder (links to a second of the video)
    duration: float | None = None
    uploader: str | None = None
    lang: str | None = None
    sections: list[SectionData]
    outline: list[tuple[str, str]] = Field(default_factory=list)  # (chapter title, summary)
    screen_terms: list[str] = Field(default_factory=list)
    editor_terms: list[GlossaryTerm] = Field(default_factory=list)
    images: dict[str, str] = Field(default_factory=dict)  # placeholder → absolute path
    review: dict[str, int] = Field(default_factory=dict)  # the chapters' statuses, counted


class BookState(BaseModel):
    """book.json: the parts' hashes, the summaries and what each output was made from."""

    title: str
    parts: dict[str, str] = Field(default_factory=dict)  # entry key → part hash
    summaries: dict[str, tuple[str, str]] = Field(default_factory=dict)  # hash → (by, text)
    outputs: dict[str, str] = Field(default_factory=dict)  # format → book hash it was made from
    summaries_mode: str = "outline"  # how the last build made the summaries (the app keeps it)
    # the review app's builds: when, and what it said about parts that were not published
    built_at: str | None = None
    notes: list[str] = Field(default_factory=list)
    published_at: str | None = None
    published: str | None = None  # the book hash that was published


class EntryView(BaseModel):
    """The fields of a batch.json entry the book reads."""

    model_config = ConfigDict(extra="ignore")
    key: str
    index: int
    workdir: str  # relative to the batch root
    status: str = "pending"


class BatchView(BaseModel):
    """batch.json as the book reads it: a view, so the book does not depend on the batch
    package (``v2a batch --book`` calls the book; the reverse would be a package cycle)."""

    model_config = ConfigDict(extra="ignore")
    title: str
    entries: dict[str, EntryView] = Field(default_factory=dict)

    def ordered(self) -> list[EntryView]:
        return sorted(self.entries.values(), key=lambda e: e.index)
