"""``--chapters model``: the model picks chapter starts among the candidates, by block number.

Validated (an enum of the offered numbers, so a grammar-constrained model cannot write another),
repaired with the error, and — when the transcript does not fit the context — outlined in
windows whose sections are then merged into one outline.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..llm.prompts import render
from ..llm.usage import count_tokens
from ..progress import Task
from . import candidates as cand
from . import fallback
from .ask import Invalid
from .naming import keyword_list, short_title
from .outline_job import REPAIRS, Choice, OutlineJob
from .scripts import require_script
from .windows import Block, make_blocks, split_windows

SYSTEM = "choose_chapters.system.j2"


def reply_schema(ids: list[int], max_chapters: int) -> type[BaseModel]:
    """The reply shape, with ``start`` limited to the offered block numbers."""
    forbid = ConfigDict(extra="forbid")
    chapter = create_model(
        "Chapter", __config__=forbid,
        start=(Literal[tuple(ids)],  # type: ignore[arg-type]
               Field(description="block number where the chapter starts")),
        title=(str, ...), summary=(str, ...))
    return create_model("OutlineReply", __config__=forbid, title=(str, ...),
                        chapters=(list[chapter], Field(min_length=1,  # type: ignore[valid-type]
                                                       max_length=max_chapters)))


def check(job: OutlineJob, chapters, ids: list[int], lo: int) -> list[Choice]:
    """Semantic checks pydantic cannot do; harmless slips are fixed, the rest re-asked."""
    by_id = {s.id: i for i, s in enumerate(job.segments)}
    starts = [ch.start for ch in chapters]
    if starts != sorted(starts):
        job.notes.append("chapters were out of order; sorted them")
    seen: dict[int, Choice] = {}
    for ch in chapters:
        title = " ".join(ch.title.split()).strip(" #*")
        if not title:
            raise Invalid(f"the chapter starting at block {ch.start} has an empty title")
        require_script(title, job.config.article_language, " (every title and summary)")
        if keyword_list(title):
            raise Invalid(f'"{title}" is a list of keywords; give the title an editor would '
                          "write: one short noun phrase")
        if ch.start in seen:
            job.notes.append(f"dropped a second chapter starting at block {ch.start}")
            continue
        seen[ch.start] = Choice(by_id[ch.start], title[:120], " ".join(ch.summary.split()))
    out = sorted(seen.values(), key=lambda c: c.index)
    first = by_id[ids[0]]
    if out[0].index != first:
        # the text before the model's first choice still belongs somewhere: the first chapter
        job.notes.append(f"first chapter moved from block {job.segments[out[0].index].id} "
                         f"to block {ids[0]}")
        out[0].index = first
    if len(out) < lo:
        raise Invalid(f"{len(out)} chapters is too few: give at least {lo}")
    return out


def choose(job: OutlineJob, user_template: str, variables: dict, ids: list[int], lo: int,
           hi: int, label: str, task: Task) -> list[Choice] | None:
    def checker(reply):
        out = check(job, reply.chapters, ids, lo)
        if reply.title.strip() and label in ("outline", "merge"):
            job.article_title = short_title(reply.title)
        return out

    return job.ask(user_template, variables, reply_schema(ids, hi), checker, label, task,
                   max_tokens=min(4000, 120 + 90 * hi), system_template=SYSTEM)


def _vars(job: OutlineJob, blocks: list[Block], part: int, parts: int, target: int, lo: int,
          hi: int) -> dict:
    return {**job.header(), "blocks": blocks, "part": part, "parts": parts, "target": target,
            "min_chapters": lo, "max_chapters": hi}


def _fallback_window(job: OutlineJob, win: list[Block], cands: list[cand.Candidate],
                     count: int) -> list[Choice]:
    inside = {b.index for b in win[1:]}
    starts = [win[0].index] + fallback.choose_starts(
        [c for c in cands if c.index in inside], count)[1:]
    # the window ends where the next block (the next candidate) begins
    end = min((c.index for c in cands if c.index > win[-1].index), default=len(job.segments))
    return [Choice(i, t, s) for i, (t, s) in
            zip(starts, fallback.describe(job.segments, starts, end, headings=job.headings))]


def choose_chapters(job: OutlineJob, cands: list[cand.Candidate],
                    task: Task) -> list[Choice] | None:
    blocks = make_blocks(job.segments, cands)
    overhead = count_tokens(render(job.config, SYSTEM, language=job.language,
                                   terms=job.terms)) + 300
    target, lo, hi = cand.target_chapters(job.duration, len(cands))
    budget = max(256, job.context_tokens() - overhead - (120 + 90 * hi)) * 3 // 4
    windows = split_windows(blocks, budget)
    task.update(total=(REPAIRS + 1) * (len(windows) + (len(windows) > 1)))
    if len(windows) == 1:
        return choose(job, "choose_chapters.user.j2", _vars(job, blocks, 1, 1, target, lo, hi),
                      [b.id for b in blocks], lo, hi, "outline", task)

    # hierarchical: outline each window, then merge the sections into one outline
    job.notes.append(f"transcript outlined in {len(windows)} windows, then merged")
    sections: list[Choice] = []
    for k, win in enumerate(windows, 1):
        share = sum(len(b.text) for b in win) / max(1, sum(len(b.text) for b in blocks))
        wt = max(1, round(target * share * 1.5))
        whi = min(len(win), 2 * wt + 1)
        got = choose(job, "choose_chapters.user.j2",
                     _vars(job, win, k, len(windows), wt, 1, whi),
                     [b.id for b in win], 1, whi, f"window {k}", task)
        if got is None:
            got = _fallback_window(job, win, cands, wt)
            job.notes.append(f"window {k}: deterministic sections")
        sections += got
    if len(sections) <= hi:
        return sections
    ids = [job.segments[s.index].id for s in sections]
    merged = choose(job, "merge_chapters.user.j2", {
        **job.header(),
        "sections": [{"id": i, "title": s.title, "summary": s.summary}
                     for i, s in zip(ids, sections)],
        "target": target, "min_chapters": lo, "max_chapters": hi},
        ids, lo, hi, "merge", task)
    if merged is None:
        job.notes.append("merge failed; kept the strongest section starts")
        keep = set(fallback.choose_starts(
            [c for c in cands if c.index in {s.index for s in sections}], hi))
        merged = [s for s in sections if s.index in keep or s is sections[0]]
    return merged
