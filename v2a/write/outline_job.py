"""One outline job: the transcript, the LLM, and the notes and usage of every call it makes.

The strategies that place and name chapters (``naming``, ``choosing``) work through this job;
``ask`` renders a prompt pair and runs it through the shared validate-and-repair loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .. import glossary
from ..links import fmt_time
from ..llm.open import context_tokens, describe
from ..llm.prompts import language_name, render, template_hash
from ..models import Outline, OutlineChapter, Transcript, Usage
from ..ocr import terms as screen_terms
from ..progress import Task
from ..stage import StageContext
from . import candidates as cand
from .ask import Request, ask

REPAIRS = 2  # extra calls that show the model its validation error


@dataclass
class Choice:
    index: int  # segment index where the chapter starts
    title: str
    summary: str


class OutlineJob:
    def __init__(self, ctx: StageContext, transcript: Transcript, cuts: list[float]):
        self.ctx, self.config = ctx, ctx.config
        self.segments = transcript.segments
        self.duration = transcript.duration or self.segments[-1].end
        self.cuts = cuts
        # where a start's recording begins, before its first transcribed words (candidates)
        self.onsets: dict[int, float] = {}
        self.title = ctx.title
        self.article_title: str | None = None
        self.notes: list[str] = []
        self.usage = Usage()
        self._lock = threading.Lock()  # naming calls run in parallel and share usage/notes
        self.llm = ctx.llm()
        self.language = language_name(self.config.article_language)
        self.terms = glossary.all_terms(ctx.ws)
        screen = glossary.screen(ctx.ws)
        # the screen's headings, (time shown, text): a chapter's title when the model gives none
        self.headings = [(f.time, f.title) for f in screen.frames if f.title] if screen else []
        self.seen = screen_terms.sightings(screen, self.terms)

    def ask(self, user_template: str, variables: dict, schema: type[BaseModel],
            checker: Callable[[Any], Any], label: str, task: Task, max_tokens: int,
            system_template: str) -> Any:
        """Ask, validate (pydantic, then ``checker(parsed)``), and on a bad reply show the
        model its error up to ``REPAIRS`` times; the checker's result, or None."""
        system = render(self.config, system_template, language=self.language, terms=self.terms)
        user = render(self.config, user_template, **variables)
        tag = {name: template_hash(self.config, name)
               for name in (system_template, user_template, "repair_reply.user.j2")}
        answer = ask(self.llm, Request(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            check=lambda c: checker(c.parsed), schema=schema, max_tokens=max_tokens,
            temperature=self.config.temperature, tag=tag, retries=REPAIRS, again="repair",
            repair=lambda error: render(self.config, "repair_reply.user.j2", error=error),
            label=label), on_try=lambda: task.advance(1))
        with self._lock:
            self.usage = self.usage.add(answer.usage)
            self.notes += answer.notes
        return answer.value

    def context_tokens(self) -> int:
        return context_tokens(self.config)

    def boundaries(self) -> Literal["code", "model"]:
        """``config.outline_boundaries`` with "auto" resolved: code places the starts for the
        embedded model (measured: it places them poorly), the model does for an endpoint."""
        mode = self.config.outline_boundaries
        if mode == "auto":
            return "code" if describe(self.config).embedded else "model"
        return "code" if mode == "code" else "model"

    def start_times(self, starts: list[int]) -> list[float]:
        return [self.segments[0].start if k == 0 else
                cand.snap_time(self.segments, i, self.cuts, onset=self.onsets.get(i))
                for k, i in enumerate(starts)]

    def texts(self, starts: list[int]) -> list[str]:
        """Each chapter's transcript text, for chapters starting at segment indexes ``starts``."""
        bounds = starts + [len(self.segments)]
        return [" ".join(s.text.strip() for s in self.segments[a:b])
                for a, b in zip(bounds, bounds[1:])]

    def header(self) -> dict:
        return {"title": self.title, "duration": fmt_time(self.duration)}

    def to_outline(self, choices: list[Choice], method: Literal["llm", "fallback"],
                   model: str | None, boundaries: Literal["code", "model"] | None = None
                   ) -> Outline:
        starts = [c.index for c in choices]
        times = self.start_times(starts)
        chapters = []
        for k, (c, t) in enumerate(zip(choices, times)):
            last = (starts[k + 1] - 1) if k + 1 < len(starts) else len(self.segments) - 1
            end = times[k + 1] if k + 1 < len(times) else max(self.duration,
                                                                self.segments[-1].end)
            # a title is spelled as the screen spells its terms ("Byte-Level Bp Algorithm")
            title = screen_terms.respell_text(c.title, self.terms, self.seen, t, end)
            chapters.append(OutlineChapter(
                index=k, title=title, summary=c.summary,
                first_segment=self.segments[c.index].id, last_segment=self.segments[last].id,
                start=round(t, 3), end=round(end, 3)))
        article_title = self.article_title and screen_terms.respell_text(
            self.article_title, self.terms, self.seen, 0.0, self.duration)
        return Outline(method=method, boundaries=boundaries, model=model,
                       title=article_title, chapters=chapters, notes=self.notes,
                       usage=self.usage)
