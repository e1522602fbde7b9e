"""The editor's layer over the generated draft: what each section shows, and what changed.

The generated text (outline.json titles, chapters.json prose) is never touched by an edit; the
edit lives in review.json with the generated text it was made on. Here the two meet: the
effective title/prose/images of each section, whether the generated base moved under an edit,
which edits no longer find their section, and the overrides the renderer applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import ChapterText, Draft, Outline, OutlineChapter, Scenes
from ..workspace import sha256_json
from .models import Review, SectionReview
from .structure import section_key


def text_sha(title: str, markdown: str | None) -> str:
    """sha256 of a section's (title, prose): what an edit records as its base."""
    return sha256_json([title, markdown or ""])


@dataclass
class Override:
    """What the renderer puts in place of the generated section (None: keep the generated)."""

    title: str | None = None
    markdown: str | None = None
    images: list[int] | None = None


@dataclass
class SectionView:
    """One section as the editor sees it."""

    key: str
    number: int
    chapter: OutlineChapter
    generated: ChapterText | None
    review: SectionReview

    @property
    def generated_title(self) -> str:
        return self.chapter.title.strip() or f"Part {self.number}"

    @property
    def generated_markdown(self) -> str:
        g = self.generated
        return g.markdown if g is not None and g.status == "ok" else ""

    @property
    def failed(self) -> str | None:
        """Why the generated text is missing, if it is."""
        g = self.generated
        if g is None:
            return "no text was written for this chapter"
        return (g.error or "no text was written") if g.status != "ok" or not g.markdown.strip() \
            else None

    @property
    def generated_sha(self) -> str:
        return text_sha(self.generated_title, self.generated_markdown)

    @property
    def title(self) -> str:
        return self.review.title if self.review.title is not None else self.generated_title

    @property
    def markdown(self) -> str:
        return self.review.markdown if self.review.markdown is not None else self.generated_markdown

    @property
    def base_changed(self) -> bool:
        """The generated text moved under the editor's edit (a re-run since the edit)."""
        r = self.review
        if not r.edited or r.base_sha is None:
            return False
        return ((r.title is not None and r.base_title != self.generated_title)
                or (r.markdown is not None and r.base_markdown != self.generated_markdown))


@dataclass
class Overlay:
    sections: list[SectionView]
    orphans: list[SectionReview] = field(default_factory=list)  # edits whose section is gone

    def by_key(self, key: str) -> SectionView | None:
        return next((s for s in self.sections if s.key == key), None)


def build_overlay(outline: Outline, draft: Draft | None, review: Review) -> Overlay:
    texts = {c.index: c for c in (draft.chapters if draft else [])}
    views = []
    for n, ch in enumerate(sorted(outline.chapters, key=lambda c: c.start), 1):
        key = section_key(ch)
        rec = review.sections.get(key) or SectionReview(key=key)
        views.append(SectionView(key=key, number=n, chapter=ch, generated=texts.get(ch.index),
                                 review=rec))
    keys = {v.key for v in views}
    orphans = [r for k, r in review.sections.items() if k not in keys and r.edited]
    return Overlay(views, orphans)


def overrides(outline: Outline, review: Review | None) -> dict[int, Override]:
    """Per outline chapter index, the editor's title/prose/images (only what was changed)."""
    if review is None:
        return {}
    out = {}
    for ch in outline.chapters:
        r = review.sections.get(section_key(ch))
        if r is not None and (r.edited or r.images is not None):
            out[ch.index] = Override(r.title, r.markdown, r.images)
    return out


def render_fingerprint(review: Review | None) -> str | None:
    """What of review.json the rendered article depends on (status, comments do not count)."""
    if review is None:
        return None
    return sha256_json({k: [r.title, r.markdown, r.images] for k, r in sorted(review.sections.items())
                        if r.edited or r.images is not None})


def keyframes_in(scenes: Scenes | None, chapter: OutlineChapter) -> list[int]:
    """Scene indexes whose keyframe the editor may choose for a chapter: those visible in its
    time range (duplicates of an earlier slide included: a slide shown again is a choice too)."""
    if scenes is None or scenes.audio_only:
        return []
    return [s.index for s in scenes.scenes
            if s.keyframe and min(s.end, chapter.end) - max(s.start, chapter.start) > 0]
