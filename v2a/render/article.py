"""One view model of the article, built from the artifacts; both renderers read only this.

Times come from the outline (segment ids → seconds), the transcript and the scenes — never from
LLM text. Keyframes go into the chapter they overlap most and link to the first second at which
they are visible inside it; within a chapter they sit before the paragraph at the matching
relative position, since the prose follows the transcript in order.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Union
from urllib.parse import quote

from .. import __version__
from ..links import fmt_time, timestamp_url
from ..models import (
    Draft,
    Outline,
    OutlineChapter,
    ParagraphSource,
    Scene,
    Scenes,
    Screen,
    Segment,
    Source,
    Transcript,
)
from ..sources import blocks as prose_blocks
from ..sources import chapter_sources
from .i18n import UI
from .sanitize import md_prose, safe_href

if TYPE_CHECKING:
    from ..edits.overlay import Override

PARAGRAPH_S = 30.0  # transcript excerpt: a new timestamped paragraph about every 30 s


@dataclass
class Figure:
    time: float  # the second the link seeks to
    src: str  # URL-quoted path relative to the article
    path: Path  # the file on disk (for embedding and checks)
    href: str  # timestamp link
    scene: int
    text: str = ""  # what a screenshot of an app says (its OCR text): the image's alt text

    def alt(self, ui: UI) -> str:
        if self.text:
            words = " ".join(self.text.split())
            return words if len(words) <= 400 else words[:399].rsplit(" ", 1)[0] + "…"
        return ui("frame", t=fmt_time(self.time))


@dataclass
class Code:
    """Code shown on screen, copied as shown (never through the LLM)."""

    time: float  # when it is first shown
    href: str  # timestamp link
    language: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


Block = Union[str, Figure, Code]


@dataclass
class ParaLink:
    """Where one prose paragraph came from: it plays from ``start``; ``text`` is the source."""

    key: str  # the paragraph's first words, normalised (``v2a.sources.key``)
    start: float
    segments: list[int]
    text: str  # the source sentences (plain text, escaped by the renderer)


@dataclass
class TranscriptPara:
    time: float
    href: str
    text: str  # raw transcript text (escaped by each renderer)


@dataclass
class Section:
    number: int
    title: str  # raw (escaped by each renderer)
    anchor: str
    start: float
    end: float
    href: str
    status: Literal["ok", "failed"]
    error: str | None
    blocks: list[Block]  # safe Markdown chunks, figures and code, in reading order
    transcript: list[TranscriptPara]
    sources: list[ParaLink] = field(default_factory=list)  # per prose paragraph, in order

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


@dataclass
class Article:
    title: str
    anchor: str
    source: Source
    source_href: str  # the video page, or the media file for local sources
    media_href: str  # the media file relative to the article (player source)
    player: Literal["youtube", "video", "audio"]
    duration: float | None
    sections: list[Section]
    provenance: list[tuple[str, str]]  # (what, by which model/tool)
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())
    version: str = __version__
    toc_anchor: str = "contents"
    lang: str | None = None
    no_speech: bool = False  # nothing was said: the page shows what was on screen

    @property
    def youtube_id(self) -> str | None:
        return self.source.id if self.player == "youtube" else None

    @property
    def ui(self) -> UI:
        """The page's own words in the article's language."""
        return UI(self.lang)


class Slugger:
    """GitHub's heading anchors (github-slugger): lowercase, punctuation dropped, spaces → '-',
    repeats numbered -1, -2… so the Markdown TOC links work on GitHub and in the HTML page."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, text: str) -> str:
        base = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        slug = base
        while slug in self.seen:
            self.seen[base] += 1
            slug = f"{base}-{self.seen[base]}"
        self.seen[slug] = 0
        return slug


def media_href(source: Source, root: Path) -> str:
    """How the article (in ``root``) refers to the media file: relative when possible."""
    p = Path(source.media_path)
    if not p.is_absolute():
        return quote(p.as_posix())
    try:
        return quote(Path(os.path.relpath(p, root)).as_posix())
    except ValueError:  # another drive on Windows
        return p.as_uri()


def player_kind(source: Source, scenes: Scenes | None) -> Literal["youtube", "video", "audio"]:
    if (source.extractor or "").lower().startswith("youtube") and source.id:
        return "youtube"
    if not source.has_video or (scenes is not None and scenes.audio_only):
        return "audio"
    return "video"


def build_article(source: Source, transcript: Transcript, scenes: Scenes | None, outline: Outline,
                  draft: Draft | None, root: Path, screen: Screen | None = None,
                  overrides: dict[int, Override] | None = None) -> Article:
    """Assemble the article for the work folder ``root`` (where article.md/.html are written).

    ``overrides``: the editor's title, prose and chosen keyframes per outline chapter index
    (``v2a.edits.overlay``), put in place of the generated ones.
    """
    href = media_href(source, root)

    def link(t: float) -> str:
        return safe_href(timestamp_url(source, t, href))

    slug = Slugger()
    title = source.title.strip()
    if outline.title and (not title or (source.kind == "local" and
                                        title == Path(source.media_path).stem)):
        # a local file's name ("lec", "VID_2031") is a poor title; the outline proposes one
        title = outline.title.strip()
    title = title or "Untitled video"
    anchor = slug(title)
    lang = (draft.lang if draft else None) or transcript.language
    toc_anchor = slug(UI(lang).contents)
    chapters = sorted(outline.chapters, key=lambda c: c.start)
    no_speech = not chapters and not transcript.segments
    if no_speech:  # one section over the whole video, holding its keyframes
        end = source.duration or transcript.duration or 0.0
        chapters = [OutlineChapter(index=0, title=UI(lang).no_speech_title, first_segment=-1,
                                   last_segment=-1, start=0.0, end=end)]
    texts = {c.index: c for c in (draft.chapters if draft else [])}
    figures = _figures(scenes, chapters, root, link, _screen_notes(screen, transcript))
    code = _code(screen, chapters, link)
    by_index = {s.index: s for s in scenes.scenes} if scenes and not scenes.audio_only else {}
    sections = []
    for n, ch in enumerate(chapters, 1):
        segs = transcript.between(ch.first_segment, ch.last_segment)
        ov = (overrides or {}).get(ch.index)
        sec_title = (ov.title if ov and ov.title is not None else ch.title).strip() or f"Part {n}"
        text = texts.get(ch.index)
        prose = text.markdown if text and text.status == "ok" else ""
        if ov and ov.markdown is not None:
            prose = ov.markdown
        pictures = figures.get(ch.index, [])
        if ov and ov.images is not None:
            pictures = sorted((f for i in ov.images if i in by_index
                               and (f := _figure(by_index[i], ch, root, link)) is not None),
                              key=lambda f: f.time)
        figs: list[Figure | Code] = sorted([*pictures, *code.get(ch.index, [])],
                                           key=lambda b: (b.time, isinstance(b, Code)))
        status: Literal["ok", "failed"]
        if no_speech:
            status, error = "ok", None
            blocks = [md_prose(UI(lang).no_speech), *figs]
        elif prose.strip():
            status, error = "ok", None
            blocks = _interleave(_strip_title(md_prose(prose), sec_title), figs, ch)
        else:
            status, blocks = "failed", list(figs)
            error = (text.error if text else None) or "no text was written for this chapter"
        sections.append(Section(
            number=n, title=sec_title, anchor=slug(f"{n}. {sec_title}"), start=ch.start,
            end=ch.end, href=link(ch.start), status=status, error=error, blocks=blocks,
            transcript=_paragraphs(segs, link),
            sources=_sources(text.sources if text and not (ov and ov.markdown is not None)
                             else [], prose if status == "ok" and not no_speech else "", segs)))
    duration = source.duration or transcript.duration or (
        transcript.segments[-1].end if transcript.segments else None)
    return Article(
        title=title, anchor=anchor, toc_anchor=toc_anchor, source=source,
        source_href=safe_href(source.url or source.media_url or href),
        media_href=href, player=player_kind(source, scenes), duration=duration,
        sections=sections, provenance=_provenance(transcript, outline, draft, overrides),
        lang=lang, no_speech=no_speech)


def _screen_notes(screen: Screen | None, transcript: Transcript) -> dict[int, str | None]:
    """Per scene, from the screen stage: None for a prose page whose words are the speaker's
    (it adds nothing as a picture), an app screenshot's OCR text (its alt text)."""
    from rapidfuzz import fuzz

    out: dict[int, str | None] = {}
    if screen is None:
        return out

    def plain(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", text.lower()))

    spoken = plain(transcript.text)
    for f in screen.frames:
        # its sentences (a file name or a tab above them is not what is read)
        said = plain(" ".join(r for r in f.text.splitlines() if len(r.split()) >= 4))
        if f.kind == "prose" and said and fuzz.partial_ratio(said, spoken) >= 85:
            out[f.scene] = None
        elif f.kind == "ui" and f.text.strip():
            out[f.scene] = f.text
    return out


def _figures(scenes: Scenes | None, chapters: list[OutlineChapter], root: Path,
             link, notes: dict[int, str | None] | None = None) -> dict[int, list[Figure]]:
    """Non-duplicate keyframes per chapter index, each timed inside its chapter (a prose page
    being read aloud left out, see ``_screen_notes``)."""
    out: dict[int, list[Figure]] = {}
    notes = notes or {}
    if not scenes or scenes.audio_only or not chapters:
        return out
    for sc in scenes.scenes:
        if sc.duplicate_of is not None or not sc.keyframe:
            continue
        if sc.index in notes and notes[sc.index] is None:
            continue
        best = max(chapters, key=lambda c: (min(sc.end, c.end) - max(sc.start, c.start), -c.start))
        if min(sc.end, best.end) - max(sc.start, best.start) <= 0:
            continue  # outside every chapter (e.g. credits after the last spoken word)
        fig = _figure(sc, best, root, link)
        if fig is not None:
            fig.text = notes.get(sc.index) or ""
            out.setdefault(best.index, []).append(fig)
    for figs in out.values():
        figs.sort(key=lambda f: f.time)
    return out


def _code(screen: Screen | None, chapters: list[OutlineChapter], link) -> dict[int, list[Code]]:
    """Each code block in the chapter where it is first shown."""
    out: dict[int, list[Code]] = {}
    if screen is None or not chapters:
        return out
    for block in screen.code:
        ch = next((c for c in reversed(chapters) if c.start <= block.start + 1e-6), chapters[0])
        t = min(max(block.start, ch.start), ch.end)
        out.setdefault(ch.index, []).append(Code(time=t, href=link(t), language=block.language,
                                                 lines=list(block.lines)))
    return out


def _figure(sc: Scene, ch: OutlineChapter, root: Path, link) -> Figure | None:
    """The keyframe of scene ``sc`` in chapter ``ch``, linked to its first second inside it."""
    if not sc.keyframe:
        return None
    path = Path(sc.keyframe) if Path(sc.keyframe).is_absolute() else root / sc.keyframe
    if not path.is_file():
        return None  # never emit a broken image
    t = min(max(sc.start, ch.start), ch.end)
    return Figure(time=t, src=media_href_for(path, root), path=path, href=link(t), scene=sc.index)


def media_href_for(path: Path, root: Path) -> str:
    try:
        return quote(Path(os.path.relpath(path, root)).as_posix())
    except ValueError:
        return path.as_uri()


def _sources(stored: list[ParagraphSource], prose: str, segs: list[Segment]) -> list[ParaLink]:
    """Each prose paragraph's sources: as the write stage stored them, or aligned now (an
    editor's text, a chapters.json from before sources were kept)."""
    if not prose.strip():
        return []
    found = stored or chapter_sources(prose, segs)
    by_id = {s.id: s for s in segs}
    out = []
    for p in found:
        said = [by_id[i] for i in p.segments if i in by_id]
        if said:
            text = " ".join(" ".join(s.text.split()) for s in said)
            out.append(ParaLink(key=p.key, start=said[0].start, segments=[s.id for s in said],
                                text=text if len(text) <= 600 else text[:599] + "…"))
    return out


def _paragraphs(segs, link) -> list[TranscriptPara]:
    paras: list[TranscriptPara] = []
    for s in segs:
        text = " ".join(s.text.split())
        if not text:
            continue
        if paras and s.start - paras[-1].time < PARAGRAPH_S:
            paras[-1].text += " " + text
        else:
            paras.append(TranscriptPara(time=s.start, href=link(s.start), text=text))
    return paras


def _strip_title(md: str, title: str) -> str:
    """Drop a leading heading that just repeats the chapter title."""
    lines = md.lstrip("\n").split("\n")
    m = re.match(r"^ {0,3}#{1,6}\s+(.*)$", lines[0]) if lines else None
    if m:
        head = re.sub(r"^\d+[.)]\s*", "", m.group(1).strip(" #*_`"))
        if head.casefold() == title.casefold():
            return "\n".join(lines[1:]).strip("\n")
    return md


_NOT_A_START = re.compile(r"^(\s|[-*+]\s|\d{1,9}[.)]\s|>)")  # list items/quotes/indents continue


def _interleave(md: str, figures: list[Figure | Code], ch: OutlineChapter) -> list[Block]:
    """Split prose at paragraph boundaries and put each figure (or code shown on screen) before
    the paragraph that sits at its relative time in the chapter (never inside code, lists or
    quotes)."""
    texts = prose_blocks(md)
    total = sum(len(t) for t in texts) or 1
    # boundaries: (fraction of the text before block k, k), only where a new block may start
    bounds, acc = [], 0
    for k, t in enumerate(texts):
        if k == 0 or not _NOT_A_START.match(t):
            bounds.append((acc / total, k))
        acc += len(t)
    bounds.append((1.0, len(texts)))
    span = max(ch.end - ch.start, 1e-6)
    at: dict[int, list[Figure | Code]] = {}
    for f in figures:
        frac = (f.time - ch.start) / span
        k = max((b for b in bounds if b[0] <= frac + 1e-9), default=bounds[0])[1]
        at.setdefault(k, []).append(f)
    out: list[Block] = []
    chunk: list[str] = []
    for k in range(len(texts) + 1):
        if k in at:
            if chunk:
                out.append("\n\n".join(chunk))
                chunk = []
            out.extend(at[k])
        if k < len(texts):
            chunk.append(texts[k])
    if chunk:
        out.append("\n\n".join(chunk))
    return out


def _provenance(transcript: Transcript, outline: Outline, draft: Draft | None,
                overrides: dict[int, Override] | None = None) -> list[tuple[str, str]]:
    how = "subtitles" if transcript.origin == "subtitles" else transcript.backend
    rows = [("transcript", f"{how} {transcript.model}".strip() + f" ({transcript.language})")]
    if outline.method == "llm":
        rows.append(("chapters", outline.model or "LLM"))
    else:  # a key into the page's strings (i18n), not a model name
        rows.append(("chapters", f"@{outline.method}_chapters"))
    if draft is not None:
        rows.append(("text", draft.model or "LLM"))
    edited = sum(o.title is not None or o.markdown is not None for o in (overrides or {}).values())
    if edited:
        rows.append(("edited", f"{edited}/{len(outline.chapters)}"))
    return rows
