"""``--chapters code``: chapter starts are fixed by code; the model names each chapter.

One call per chapter (in parallel, bounded by ``llm_concurrency``) cannot shift titles between
chapters the way a small model does when naming a list; the shared system prompt comes first so
servers reuse it. A long chapter is shown from its beginning, where speakers announce the topic.
Then one short call titles the article.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, ConfigDict

from ..links import fmt_time
from ..llm.prompts import render
from ..llm.usage import count_tokens
from ..progress import Task
from . import fallback
from .ask import Invalid
from .outline_job import Choice, OutlineJob
from .windows import excerpt

SYSTEM = "name_chapter.system.j2"


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


def check_name(reply: SectionName, start: int) -> Choice:
    title = tidy_title(reply.title)
    if not title:
        raise Invalid("the title is empty")
    return Choice(start, title[:120], " ".join(reply.summary.split()))


def name_chapters(job: OutlineJob, starts: list[int], task: Task) -> list[Choice] | None:
    """A name for each chapter (its own words where the model gave none); None when the model
    answered none of them (the caller then falls back as a whole)."""
    n = len(starts)
    times = job.start_times(starts) + [job.duration]
    system = render(job.config, SYSTEM, language=job.language)
    cap = max(200, (job.context_tokens() - count_tokens(system) - 600) * 3 // 4)
    texts = job.texts(starts)
    task.update(total=n + 1)

    def one(k: int) -> Choice | None:
        section = {"number": k + 1, "start": fmt_time(times[k]), "end": fmt_time(times[k + 1]),
                   "text": excerpt(texts[k], cap)}
        return job.ask("name_chapter.user.j2", {**job.header(), "section": section, "count": n},
                       SectionName, lambda r: check_name(r, starts[k]), f"section {k + 1}",
                       task, max_tokens=160, system_template=SYSTEM)

    with ThreadPoolExecutor(max_workers=max(1, job.config.llm_concurrency)) as pool:
        named = list(pool.map(one, range(n)))
    if all(c is None for c in named):
        return None
    own = fallback.describe(job.segments, starts)
    choices = []
    for k, c in enumerate(named):
        if c is None:
            job.notes.append(f"section {k + 1}: named from its own words")
            c = Choice(starts[k], *own[k])
        choices.append(c)
    got = job.ask("name_article.user.j2",
                  {**job.header(), "chapters": [{"title": c.title, "summary": c.summary}
                                                for c in choices]},
                  ArticleTitle, lambda r: r, "article title", task, max_tokens=60,
                  system_template=SYSTEM)
    if got is not None and tidy_title(got.title):
        job.article_title = tidy_title(got.title)[:120]
    return choices
