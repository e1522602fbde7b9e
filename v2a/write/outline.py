"""Outline stage: chapters (segment ids → times), titles and one-line summaries → outline.json.

Order of preference: the video's own chapters (when it has them and they are wanted), then
chapter starts from deterministic evidence (slide-title changes, topic shifts, pauses) named by
the LLM, or — ``outline_boundaries="model"`` — the LLM choosing among those candidates
(validated, repaired with the error, windowed and merged when the transcript does not fit the
context); a deterministic fallback when no reply is usable. Times always come from segment ids.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..links import fmt_time
from ..llm.client import EndpointError, OutputError, describe, get_llm
from ..llm.prompts import language_name, render, template_hash
from ..llm.usage import count_tokens
from ..models import Outline, OutlineChapter, Scenes, Segment, Transcript, Usage
from ..pipeline import StageResult
from ..workspace import read_model, write_json
from . import candidates as cand
from . import fallback

REPAIRS = 2  # extra calls that show the model its validation error
REMOTE_CTX = 32000  # context assumed for a remote model (the embedded one uses config.local_ctx)


@dataclass
class Block:
    """A run of segments between two candidate boundaries: the unit the model picks from."""

    id: int  # segment id of its first segment (what the model answers)
    index: int  # position of that segment in the transcript
    text: str


@dataclass
class Choice:
    index: int  # segment index where the chapter starts
    title: str
    summary: str


class Invalid(Exception):
    """A reply that parsed but does not make a usable outline."""


def reply_schema(ids: list[int], max_chapters: int) -> type[BaseModel]:
    """The reply shape, with ``start`` limited to the offered block numbers (an enum, so a
    grammar-constrained model cannot even write another number)."""
    forbid = ConfigDict(extra="forbid")
    chapter = create_model(
        "Chapter", __config__=forbid,
        start=(Literal[tuple(ids)], Field(description="block number where the chapter starts")),
        title=(str, ...), summary=(str, ...))
    return create_model("OutlineReply", __config__=forbid, title=(str, ...),
                        chapters=(list[chapter], Field(min_length=1, max_length=max_chapters)))


class SectionName(BaseModel):
    """The reply naming one chapter whose start code has fixed."""

    model_config = ConfigDict(extra="forbid")
    title: str
    summary: str


class ArticleTitle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str


def tidy_title(text: str) -> str:
    """One line, without Markdown heading marks, emphasis or quotes around it."""
    return " ".join(text.split()).strip(" #*\"")


def excerpt(text: str, max_tokens: int) -> str:
    """The beginning of ``text``, about ``max_tokens`` long."""
    n = count_tokens(text)
    if n <= max_tokens:
        return text
    words = text.split()
    keep = max(20, len(words) * max_tokens // n)
    return " ".join(words[:keep]) + " …"


def make_blocks(segments: list[Segment], cands: list[cand.Candidate]) -> list[Block]:
    starts = [0] + [c.index for c in cands]
    bounds = starts + [len(segments)]
    return [Block(id=segments[a].id, index=a,
                  text=" ".join(s.text.strip() for s in segments[a:b]))
            for a, b in zip(bounds, bounds[1:]) if b > a]


def split_windows(blocks: list[Block], budget_tokens: int) -> list[list[Block]]:
    """Consecutive groups of blocks whose text fits ``budget_tokens`` (at least one block each)."""
    windows: list[list[Block]] = [[]]
    used = 0
    for b in blocks:
        n = count_tokens(b.text) + 6
        if windows[-1] and used + n > budget_tokens:
            windows.append([])
            used = 0
        windows[-1].append(b)
        used += n
    return windows


class Outliner:
    """One outline job: holds the LLM, the notes and the usage of every call."""

    def __init__(self, ctx, transcript: Transcript, cuts: list[float]):
        self.ctx, self.config = ctx, ctx.config
        self.segments = transcript.segments
        self.duration = transcript.duration or self.segments[-1].end
        self.cuts = cuts
        self.title = ctx.source.title if ctx.ws.source_json.exists() else "video"
        self.notes: list[str] = []
        self.usage = Usage()
        self._lock = threading.Lock()  # naming calls run in parallel and share usage/notes
        self.llm = get_llm(ctx)
        self.language = language_name(self.config.lang) if self.config.lang else None

    # -- one validated call, repaired with its own error ------------------------------------
    def ask(self, user_template: str, variables: dict, schema: type[BaseModel], checker,
            label: str, task, max_tokens: int,
            system_template: str = "outline.system.j2"):
        """Ask, validate (pydantic, then ``checker(reply)``), and on a bad reply show the
        model its error up to ``REPAIRS`` times; the checker's result, or None when no reply
        was usable."""
        system = render(self.config, system_template, language=self.language)
        user = render(self.config, user_template, **variables)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        tag = {name: template_hash(self.config, name)
               for name in (system_template, user_template, "repair.user.j2")}
        for attempt in range(REPAIRS + 1):
            text = ""
            try:
                c = self.llm.complete(messages, schema=schema, max_tokens=max_tokens,
                                      temperature=self.config.temperature, tag=tag)
                with self._lock:
                    self.usage = self.usage.add(c.usage)
                text = c.text
                return checker(c.parsed)
            except OutputError as exc:
                text, error = exc.text, exc.detail or str(exc)
                with self._lock:
                    self.usage = self.usage.add(exc.usage)
            except Invalid as exc:
                error = str(exc)
            finally:
                task.advance(1)
            self.notes.append(f"{label}: reply {attempt + 1} rejected: {error}")
            messages = messages + [
                {"role": "assistant", "content": text or "(empty)"},
                {"role": "user", "content": render(self.config, "repair.user.j2", error=error)}]
        return None

    def choose(self, user_template: str, variables: dict, ids: list[int], lo: int, hi: int,
               label: str, task) -> list[Choice] | None:
        """The model picks chapter starts among the offered block ids."""
        def checker(reply):
            out = self.check(reply.chapters, ids, lo, hi)
            if reply.title.strip() and label in ("outline", "merge"):
                self.article_title = reply.title.strip()
            return out

        return self.ask(user_template, variables, reply_schema(ids, hi), checker, label, task,
                        max_tokens=min(4000, 120 + 90 * hi))

    def check(self, chapters, ids: list[int], lo: int, hi: int) -> list[Choice]:
        """Semantic checks pydantic cannot do; harmless slips are fixed, the rest re-asked."""
        by_id = {s.id: i for i, s in enumerate(self.segments)}
        starts = [ch.start for ch in chapters]
        if starts != sorted(starts):
            self.notes.append("chapters were out of order; sorted them")
        seen: dict[int, Choice] = {}
        for ch in chapters:
            title = " ".join(ch.title.split()).strip(" #*")
            if not title:
                raise Invalid(f"the chapter starting at block {ch.start} has an empty title")
            if ch.start in seen:
                self.notes.append(f"dropped a second chapter starting at block {ch.start}")
                continue
            seen[ch.start] = Choice(by_id[ch.start], title[:120], " ".join(ch.summary.split()))
        out = sorted(seen.values(), key=lambda c: c.index)
        first = by_id[ids[0]]
        if out[0].index != first:
            # the text before the model's first choice still belongs somewhere: the first chapter
            self.notes.append(f"first chapter moved from block {self.segments[out[0].index].id} "
                              f"to block {ids[0]}")
            out[0].index = first
        if len(out) < lo:
            raise Invalid(f"{len(out)} chapters is too few: give at least {lo}")
        return out

    # -- strategies ---------------------------------------------------------------------------
    def outline_llm(self, cands: list[cand.Candidate], task) -> list[Choice] | None:
        blocks = make_blocks(self.segments, cands)
        ctx_tokens = self.context_tokens()
        overhead = count_tokens(render(self.config, "outline.system.j2",
                                       language=self.language)) + 300
        target, lo, hi = cand.target_chapters(self.duration, len(cands))
        budget = max(256, ctx_tokens - overhead - (120 + 90 * hi)) * 3 // 4
        windows = split_windows(blocks, budget)
        task.update(total=(REPAIRS + 1) * (len(windows) + (len(windows) > 1)))
        if len(windows) == 1:
            return self.choose("outline.user.j2", self._vars(blocks, 1, 1, target, lo, hi),
                               [b.id for b in blocks], lo, hi, "outline", task)

        # hierarchical: outline each window, then merge the sections into one outline
        self.notes.append(f"transcript outlined in {len(windows)} windows, then merged")
        sections: list[Choice] = []
        for k, win in enumerate(windows, 1):
            share = sum(len(b.text) for b in win) / max(1, sum(len(b.text) for b in blocks))
            wt = max(1, round(target * share * 1.5))
            got = self.choose("outline.user.j2", self._vars(win, k, len(windows), wt, 1,
                                                            min(len(win), 2 * wt + 1)),
                              [b.id for b in win], 1, min(len(win), 2 * wt + 1),
                              f"window {k}", task)
            if got is None:
                got = self._fallback_window(win, cands, wt)
                self.notes.append(f"window {k}: deterministic sections")
            sections += got
        if len(sections) <= hi:
            return sections
        ids = [self.segments[s.index].id for s in sections]
        merged = self.choose("outline_merge.user.j2", {
            "title": self.title, "duration": fmt_time(self.duration),
            "sections": [{"id": i, "title": s.title, "summary": s.summary}
                         for i, s in zip(ids, sections)],
            "target": target, "min_chapters": lo, "max_chapters": hi},
            ids, lo, hi, "merge", task)
        if merged is None:
            self.notes.append("merge failed; kept the strongest section starts")
            keep = set(fallback.choose_starts(
                [c for c in cands if c.index in {s.index for s in sections}], hi))
            merged = [s for s in sections if s.index in keep or s is sections[0]]
        return merged

    def name_sections(self, starts: list[int], task) -> list[Choice] | None:
        """Chapter starts fixed by code; the model names each chapter in its own call.

        One call per section (in parallel, bounded by ``llm_concurrency``) cannot shift titles
        between sections the way a small model does when naming a list; the shared system
        prompt comes first so servers reuse it. A long section is shown from its beginning,
        where speakers announce the topic. Then one short call titles the article.
        """
        from concurrent.futures import ThreadPoolExecutor

        n = len(starts)
        bounds = starts + [len(self.segments)]
        times = self.start_times(starts) + [self.duration]
        system = render(self.config, "outline_titles.system.j2", language=self.language)
        cap = max(200, (self.context_tokens() - count_tokens(system) - 600) * 3 // 4)
        texts = [" ".join(s.text.strip() for s in self.segments[a:b])
                 for a, b in zip(bounds, bounds[1:])]
        task.update(total=n + 1)

        def one(k: int) -> Choice | None:
            return self.ask(
                "outline_titles.user.j2",
                {"title": self.title, "duration": fmt_time(self.duration), "section": {
                    "number": k + 1, "start": fmt_time(times[k]), "end": fmt_time(times[k + 1]),
                    "text": excerpt(texts[k], cap)}, "count": n},
                SectionName, lambda r: self.check_name(r, starts[k]), f"section {k + 1}", task,
                max_tokens=160, system_template="outline_titles.system.j2")

        with ThreadPoolExecutor(max_workers=max(1, self.config.llm_concurrency)) as pool:
            named = list(pool.map(one, range(n)))
        if all(c is None for c in named):
            return None  # the model is not usable here: the caller falls back as a whole
        own = fallback.describe(self.segments, starts)
        choices = []
        for k, c in enumerate(named):
            if c is None:
                self.notes.append(f"section {k + 1}: named from its own words")
                c = Choice(starts[k], *own[k])
            choices.append(c)
        got = self.ask("outline_article.user.j2",
                       {"title": self.title, "duration": fmt_time(self.duration),
                        "chapters": [{"title": c.title, "summary": c.summary} for c in choices]},
                       ArticleTitle, lambda r: r, "article title", task, max_tokens=60,
                       system_template="outline_titles.system.j2")
        if got is not None and tidy_title(got.title):
            self.article_title = tidy_title(got.title)[:120]
        return choices

    def check_name(self, reply, start: int) -> Choice:
        title = tidy_title(reply.title)
        if not title:
            raise Invalid("the title is empty")
        return Choice(start, title[:120], " ".join(reply.summary.split()))

    def context_tokens(self) -> int:
        if describe(self.config).embedded:
            return self.config.local_ctx
        return max(self.config.local_ctx, REMOTE_CTX)

    def boundaries(self) -> str:
        """``config.outline_boundaries`` with "auto" resolved."""
        mode = self.config.outline_boundaries
        if mode == "auto":
            return "code" if describe(self.config).embedded else "model"
        return mode

    def _fallback_window(self, win: list[Block], cands: list[cand.Candidate],
                         count: int) -> list[Choice]:
        inside = {b.index for b in win[1:]}
        starts = [win[0].index] + fallback.choose_starts(
            [c for c in cands if c.index in inside], count)[1:]
        # the window ends where the next block (the next candidate) begins
        end = min((c.index for c in cands if c.index > win[-1].index), default=len(self.segments))
        return [Choice(i, t, s) for i, (t, s) in
                zip(starts, fallback.describe(self.segments, starts, end))]

    def _vars(self, blocks, part, parts, target, lo, hi) -> dict:
        return {"title": self.title, "duration": fmt_time(self.duration), "blocks": blocks,
                "part": part, "parts": parts, "target": target, "min_chapters": lo,
                "max_chapters": hi}

    def start_times(self, starts: list[int]) -> list[float]:
        return [self.segments[0].start if k == 0 else cand.snap_time(self.segments, i, self.cuts)
                for k, i in enumerate(starts)]

    def to_outline(self, choices: list[Choice], method: str, model: str | None,
                   boundaries: str | None = None) -> Outline:
        starts = [c.index for c in choices]
        times = self.start_times(starts)
        chapters = []
        for k, (c, t) in enumerate(zip(choices, times)):
            last = (starts[k + 1] - 1) if k + 1 < len(starts) else len(self.segments) - 1
            end = times[k + 1] if k + 1 < len(times) else max(self.duration,
                                                                self.segments[-1].end)
            chapters.append(OutlineChapter(
                index=k, title=c.title, summary=c.summary,
                first_segment=self.segments[c.index].id, last_segment=self.segments[last].id,
                start=round(t, 3), end=round(end, 3)))
        return Outline(method=method, boundaries=boundaries, model=model,
                       title=getattr(self, "article_title", None),
                       chapters=chapters, notes=self.notes, usage=self.usage)


def from_platform(ctx, transcript: Transcript) -> Outline | None:
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


def _scenes_cuts(ctx) -> tuple[list[float], list[float]]:
    """(every scene cut, the cuts where the slide title changes too)."""
    p = ctx.ws.path("scenes.json")
    if not p.exists():
        return [], []
    scenes = read_model(p, Scenes)
    return scenes.cuts, scenes.heading_changes()


def run(ctx) -> StageResult:
    transcript = read_model(ctx.ws.path("transcript.json"), Transcript)
    out_path = ctx.ws.path("outline.json")
    if not transcript.segments:
        outline = Outline(method="fallback", chapters=[], notes=["the transcript is empty"])
        write_json(out_path, outline)
        return StageResult(detail="empty transcript: no chapters")

    if ctx.config.use_platform_chapters and ctx.ws.source_json.exists() and ctx.source.chapters:
        outline = from_platform(ctx, transcript)
        if outline is not None:
            write_json(out_path, outline)
            return StageResult(detail=f"{len(outline.chapters)} chapters from the video itself")

    cuts, headings = _scenes_cuts(ctx)
    job = Outliner(ctx, transcript, cuts)
    cands = cand.propose(transcript.segments, job.cuts, job.duration, headings=headings)
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
                choices = (job.name_sections(starts, task) if mode == "code"
                           else job.outline_llm(cands, task))
            except EndpointError:
                raise  # misconfiguration: the user must see it, not a silent fallback
    if choices is None and cands:
        job.notes.append("no usable model reply: chapters named from their own words")
    if choices is None:
        if not cands:
            starts = [0]
        choices = [Choice(i, t, s) for i, (t, s) in
                   zip(starts, fallback.describe(transcript.segments, starts))]
        outline = job.to_outline(choices, "fallback", None, "code")
    else:
        outline = job.to_outline(choices, "llm", job.llm.model_name, mode)
    write_json(out_path, outline)
    cached = job.usage.cached_calls
    detail = f"{len(outline.chapters)} chapters ({outline.method}"
    detail += f", {cached} cached call{'s' * (cached != 1)})" if cached else ")"
    return StageResult(detail=detail, usage=outline.usage)
