"""The review page, rendered on the server: the same article the renderer publishes (edits
applied), with each section's transcript lines, keyframe choices and review state.

All outside text goes through Jinja2's autoescaping; prose through the renderer's sanitiser
(markdown, then nh3). The page's script reads its data from a JSON block, never from markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..edits.diff import diff_html
from ..edits.models import STATUSES, Review
from ..edits.overlay import Overlay, SectionView, build_overlay, keyframes_in, overrides
from ..links import fmt_time
from ..models import Segment
from ..render.article import Article, Code, Figure, Section, build_article
from ..render.html_article import sourced_html
from ..render.sanitize import prose_html
from .service import Artifacts, ReviewSession

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@lru_cache(maxsize=1)
def env() -> Environment:
    e = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    e.filters.update(prose=prose_html, time=fmt_time)
    e.globals["sourced"] = sourced_html  # paragraphs with their source (data-start, tooltip)
    e.tests["figure"] = lambda b: isinstance(b, Figure)
    e.tests["code"] = lambda b: isinstance(b, Code)
    return e


@dataclass
class SectionPage:
    view: SectionView
    section: Section  # as published: blocks of sanitised prose and figures
    lines: list[Segment]
    candidates: list[dict]  # keyframes the editor may choose: scene, t, src
    chosen: list[int]  # the keyframes shown now
    base_diff: Markup | None
    proposal_diff: Markup | None

    @property
    def key(self) -> str:
        return self.view.key

    def state(self) -> dict[str, Any]:
        """What the page's script needs to edit the section."""
        v, r = self.view, self.view.review
        return {
            "key": v.key, "number": v.number, "rev": r.rev, "status": r.status,
            "title": v.title, "markdown": v.markdown, "generated_title": v.generated_title,
            "edited": r.edited, "images": r.images, "chosen": self.chosen,
            "candidates": self.candidates, "start": v.chapter.start, "end": v.chapter.end,
            "first": v.chapter.first_segment, "last": v.chapter.last_segment,
            "proposal": {"id": r.proposal.id, "instruction": r.proposal.instruction}
            if r.proposal else None,
            "stale": r.stale, "base_changed": v.base_changed,
        }


class PageBuilder:
    """Everything one page (or one section of it) shows, from one read of the artifacts."""

    def __init__(self, session: ReviewSession, vid: str):
        self.session, self.vid = session, vid
        self.a: Artifacts = session.artifacts()
        self.review: Review = session.review()
        self.overlay: Overlay = build_overlay(self.a.outline, self.a.draft, self.review)
        self.article: Article = build_article(
            self.a.source, self.a.transcript, self.a.scenes, self.a.outline, self.a.draft,
            session.ws.root, self.a.screen, overrides(self.a.outline, self.review))
        self.scenes = {s.index: s for s in (self.a.scenes.scenes if self.a.scenes else [])}

    def file_url(self, rel: str) -> str:
        return f"/v/{quote(self.vid)}/file/{rel}"

    def section(self, view: SectionView) -> SectionPage:
        sec = self.article.sections[view.number - 1]
        r = view.review
        cands = []
        for i in keyframes_in(self.a.scenes, view.chapter):
            sc = self.scenes[i]
            t = min(max(sc.start, view.chapter.start), view.chapter.end)
            cands.append({"scene": i, "t": t, "time": fmt_time(t),
                          "src": self.file_url(quote(str(sc.keyframe)))})
        base = None
        if view.base_changed:
            base = diff_html(r.base_markdown or "", view.generated_markdown)
        prop = diff_html(view.markdown, r.proposal.markdown) if r.proposal else None
        return SectionPage(
            view=view, section=sec, candidates=cands, base_diff=base, proposal_diff=prop,
            lines=self.a.transcript.between(view.chapter.first_segment, view.chapter.last_segment),
            chosen=[f.scene for f in sec.figures])

    def sections(self) -> list[SectionPage]:
        return [self.section(v) for v in self.overlay.sections]

    def render_section(self, key: str) -> tuple[str, dict]:
        view = self.overlay.by_key(key)
        if view is None:
            from .service import NotFound

            raise NotFound(f"no section {key}")
        sp = self.section(view)
        html = env().get_template("section.html.j2").render(s=sp, statuses=STATUSES,
                                                             img=self.figure_src)
        return html, sp.state()

    def figure_src(self, f: Figure) -> str:
        return self.file_url(f.src)

    def render_page(self, csrf: str, home: bool) -> str:
        secs = self.sections()
        approved = sum(s.view.review.status == "approved" for s in secs)
        player = self.article.player
        media = None
        if player != "youtube" or self._local_media() is not None:
            media = f"/v/{quote(self.vid)}/media"
            player = "audio" if player == "audio" else "video"
        return env().get_template("review.html.j2").render(
            a=self.article, sections=secs, statuses=STATUSES, csrf=csrf, vid=self.vid,
            api=f"/api/v/{quote(self.vid)}", media=media, player=player, home=home,
            approved=approved, orphans=self.overlay.orphans, img=self.figure_src,
            published=self.review.published_at,
            state={"vid": self.vid, "sections": [s.state() for s in secs]})

    def _local_media(self) -> Path | None:
        return media_file(self.session)


def media_file(session: ReviewSession) -> Path | None:
    """The video or audio file the player plays: the local file or the downloaded copy."""
    src = session.artifacts().source
    p = session.ws.resolve(src.media_path)
    return p if p.is_file() else None
