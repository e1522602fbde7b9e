"""Outline stage: chapters (segment ids → times), titles and one-line summaries → outline.json.

Order of preference: the video's own chapters (when it has them and they are wanted), then
chapter starts from deterministic evidence (slide-title changes, topic shifts, pauses) named by
the LLM (``naming``), or — ``outline_boundaries="model"`` — the LLM choosing among those
candidates (``choosing``); a deterministic fallback when no reply is usable. Times always come
from segment ids. The editor's splits and merges (review.json) are applied last, so a re-run
keeps them.
"""

from __future__ import annotations

from ..edits.structure import apply_structure, load_structure
from ..llm.base import EndpointError
from ..models import Outline, OutlineChapter, Scenes, Screen, Transcript
from ..scenes.keyframes import heading_changes
from ..stage import StageContext, StageResult
from ..stages import AUDIO, OUTLINE, SCENES, SCREEN, TRANSCRIPT
from ..workspace import read_model, write_json
from . import candidates as cand
from . import fallback
from .choosing import choose_chapters
from .naming import name_chapters, spell_titles
from .outline_job import REPAIRS, Choice, OutlineJob


def from_platform(ctx: StageContext, transcript: Transcript) -> Outline | None:
    """The video's own chapters, mapped onto the segment where each begins."""
    src = ctx.source
    segs = transcript.segments
    out: list[OutlineChapter] = []
    for pc in sorted(src.chapters, key=lambda c: c.start):
        i = next((k for k, s in enumerate(segs) if s.end > pc.start + 0.5), None)
        if i is None or (out and segs[i].id <= out[-1].first_segment):
            continue  # no speech in it, or shares its first segment with the previous chapter
        out.append(OutlineChapter(index=len(out), title=pc.title.strip() or f"Part {len(out) + 1}",
                                  first_segment=segs[i].id, last_segment=segs[i].id,
                                  start=round(pc.start, 3), end=round(pc.end or 0.0, 3)))
    if len(out) < 2:
        return None
    end = transcript.duration or src.duration or segs[-1].end
    for k, ch in enumerate(out):
        nxt = out[k + 1] if k + 1 < len(out) else None
        ch.end = nxt.start if nxt else max(end, ch.start)
        ids = [s.id for s in segs]
        ch.last_segment = (ids[ids.index(nxt.first_segment) - 1] if nxt else ids[-1])
    return Outline(method="platform", boundaries="platform", title=src.title, chapters=out,
                   notes=["chapters from the video's own chapter list"])


def _scenes_cuts(ctx: StageContext) -> tuple[list[float], list[float]]:
    """(every scene cut, the cuts where the slide's heading changes too).

    Headings are read off the screen when OCR ran: a new title where frames have titles, none
    where screens have no title at all (notebooks, editors: a different toolbar is not a new
    topic). Without OCR, a change of the keyframe's title band stands in for it.
    """
    p = ctx.ws.path(SCENES.name)
    if not p.exists():
        return [], []
    scenes = read_model(p, Scenes)
    sp = ctx.ws.path(SCREEN.name)
    screen = read_model(sp, Screen) if sp.exists() else None
    if screen is not None and screen.engine is not None and screen.frames:
        return scenes.cuts, screen.title_changes()
    return scenes.cuts, heading_changes(scenes)


def run(ctx: StageContext) -> StageResult:
    """Place and name the chapters, then apply the editor's cuts (review.json) over them."""
    transcript = read_model(ctx.ws.path(TRANSCRIPT.name), Transcript)
    out_path = ctx.ws.path(OUTLINE.name)
    structure = load_structure(ctx.ws)
    if not transcript.segments:
        outline = Outline(method="fallback", chapters=[], notes=["the transcript is empty"])
        write_json(out_path, outline)
        return StageResult(detail="no speech: no chapters (the article shows the keyframes)")

    if ctx.config.use_platform_chapters and ctx.ws.source_json.exists() and ctx.source.chapters:
        platform = from_platform(ctx, transcript)
        if platform is not None:
            platform = apply_structure(platform, transcript, structure)
            write_json(out_path, platform)
            return StageResult(detail=f"{len(platform.chapters)} chapters from the video itself")

    cuts, headings = _scenes_cuts(ctx)
    job = OutlineJob(ctx, transcript, cuts)
    sp = ctx.ws.path(SCREEN.name)
    costs: dict[str, float] = {}
    cands = cand.propose(transcript.segments, job.cuts, job.duration, headings=headings,
                         audio=ctx.ws.path(AUDIO.name),
                         continuing=cand.continuing_cuts(read_model(sp, Screen)
                                                         if sp.exists() else None),
                         semantic=ctx.config.chapter_embeddings, costs=costs)
    job.onsets = {c.index: c.onset for c in cands if c.onset is not None}
    mode = job.boundaries()
    starts = [0] + [c.index for c in cand.select_starts(cands, job.duration)]
    if mode == "code" and cands:
        job.notes.append(f"chapter starts chosen by code: {len(starts) - 1} of {len(cands)} "
                         f"candidates ({len(headings)} slide-title changes among {len(cuts)} "
                         "cuts); the model names the chapters")
    choices = None
    with ctx.progress.task("outline (LLM)", total=REPAIRS + 1) as task:
        if len(transcript.segments) == 1 or not cands:
            job.notes.append("too short to split: one chapter")
        else:
            try:
                choices = (name_chapters(job, starts, task) if mode == "code"
                           else choose_chapters(job, cands, task))
            except EndpointError:
                raise  # misconfiguration: the user must see it, not a silent fallback
    # after the model's notes (tests and readers look for those first)
    job.notes.append("chapter evidence: " + ", ".join(
        f"{k.removesuffix('_s')} {v:.1f} s" for k, v in costs.items()))
    if choices is None and cands:
        job.notes.append("no usable model reply: chapters named from their own words")
    if choices is None:
        if not cands:
            starts = [0]
        choices = [Choice(i, t, s) for i, (t, s) in
                   zip(starts, fallback.describe(transcript.segments, starts,
                                                 headings=job.headings))]
        outline = job.to_outline(choices, "fallback", None, "code")
    else:
        outline = job.to_outline(choices, "llm", job.llm.model_name, mode)
    # a title that copied a mishearing ("Parent Coding") spells the term the transcript has
    outline = spell_titles(outline, transcript.respellings)
    outline = apply_structure(outline, transcript, structure)
    write_json(out_path, outline)
    cached = job.usage.cached_calls
    detail = f"{len(outline.chapters)} chapters ({outline.method}"
    detail += f", {cached} cached call{'s' * (cached != 1)})" if cached else ")"
    own = sum("named from its own words" in n for n in outline.notes)
    if outline.method == "fallback" and cands:
        detail += "; no usable model reply: every title is made of the chapter's own words"
    elif own:
        detail += (f"; {own} title{'s' * (own != 1)} made of the chapter's own words (no usable "
                   "model reply)")
    return StageResult(detail=detail, usage=outline.usage)
