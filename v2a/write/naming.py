"""``--chapters code``: chapter starts are fixed by code; the model names each chapter.

One call per chapter (in parallel, bounded by ``llm_concurrency``) cannot shift titles between
chapters the way a small model does when naming a list; the shared system prompt comes first so
servers reuse it. A long chapter is shown from its beginning, where speakers announce the topic.
Then one short call titles the article.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, ConfigDict, Field

from ..links import fmt_time
from ..llm.prompts import render
from ..llm.usage import count_tokens
from ..models import Outline, Respelling
from ..ocr import terms as screen_terms
from ..progress import Task
from . import fallback
from .ask import Invalid
from .candidates import tokens
from .outline_job import Choice, OutlineJob
from .scripts import require_script
from .windows import excerpt

SYSTEM = "name_chapter.system.j2"
MAX_TITLE_WORDS = 8
MAX_SUMMARY_WORDS = 30
MAX_ARTICLE_TITLE_WORDS = 12
# how much of a chapter's beginning a naming call reads, in tokens (None: as much as fits).
# Speakers say what a part is about as they start it; the whole chapter costs a prompt as long
# as its write call's, and the outline was a quarter of the LLM time on long talks (#24)
EXCERPT_TOKENS: int | None = None
# words a cut title must not end on ("…, Merging Tokens, and")
_DANGLING = set("a an the and or of for to in on with from by as at vs".split())


class SectionName(BaseModel):
    """The reply naming one chapter whose start code has fixed. The bounds are part of the
    schema, so a server that enforces it cannot let a small model ramble or loop in a field."""

    model_config = ConfigDict(extra="forbid")
    # the caps are generous on purpose: a server's grammar cuts the string where the cap falls
    # ("…, Merging Tokens, and Byte"); the checks below bound the words and ask again
    title: str = Field(max_length=120, description="2 to 8 words")
    summary: str = Field(max_length=240, description="one sentence, at most 30 words")


class ArticleTitle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=160, description="at most 10 words")


def tidy_title(text: str) -> str:
    """One line, without Markdown heading marks, emphasis or quotes around it."""
    return " ".join(text.split()).strip(" #*\"'.:")


def short_title(text: str, max_words: int = MAX_ARTICLE_TITLE_WORDS) -> str:
    """The title, cut to at most ``max_words`` words where it breaks naturally (before a colon
    or a dash), never leaving a phrase hanging."""
    title = tidy_title(text)
    if len(title.split()) <= max_words:
        return title
    for sep in (":", " – ", " — ", " - ", "; "):
        head = tidy_title(title.split(sep)[0])
        if 2 <= len(head.split()) <= max_words:
            return head
    words = title.split()[:max_words + 1]
    # the last whole phrase: before a comma or a joining word ("…, and the training loop")
    cuts = [i for i in range(2, max_words + 1)
            if words[i - 1].endswith((",", ";")) or words[i].lower() in _DANGLING]
    words = words[:cuts[-1]] if cuts else words[:max_words]
    while len(words) > 1 and words[-1].strip(",;").lower() in _DANGLING:
        words.pop()
    return tidy_title(" ".join(words).rstrip(",;"))


def spell_titles(outline: Outline, respellings: list[Respelling]) -> Outline:
    """The outline with its titles spelling the terms the transcript was respelled to: a model
    that copied a mishearing ("Parent Coding: Merging Symbols") gets the term back. Each
    chapter's own respellings, and the talk's misheard forms of several words."""
    for ch in outline.chapters:
        ch.title = screen_terms.keep_title_terms(ch.title, respellings, ch.start, ch.end)
    if outline.title:
        outline.title = screen_terms.keep_title_terms(outline.title, respellings)
    return outline


def check_article_title(reply: ArticleTitle, lang: str | None) -> ArticleTitle:
    title = tidy_title(reply.title)
    if title:
        require_script(title, lang)
    return reply


# words inside a phrase that make it a phrase, not a keyword ("the", "of", "how")
_FUNCTION = set("""a an the of for to in on with from by as at how why what when into about
is are vs versus not no without""".split())


def keyword_list(title: str) -> bool:
    """A comma list of keywords ("Token, paper, context", "Embedding, integers and rows"):
    not a heading an editor would write. A phrase with a comma stays one ("Tokens, the hard
    way"): a list is two or more short items with no words that join them into a phrase."""
    items = [p.strip() for p in re.split(r"[,;]", tidy_title(title))]
    if len(items) < 2 or not all(items):
        return False
    last = re.sub(r"^(?:and|or|&)\s+", "", items[-1], flags=re.IGNORECASE)
    items = items[:-1] + [x.strip() for x in re.split(r"\s+(?:and|or|&)\s+", last) if x.strip()]
    return all(1 <= len(x.split()) <= 2 and not _FUNCTION & {w.lower() for w in x.split()}
               for x in items)


def _key(title: str) -> str:
    """Titles that differ only in case, punctuation or spacing are the same title."""
    return " ".join(re.findall(r"\w+", title.lower()))


def one_sentence(text: str, max_words: int = MAX_SUMMARY_WORDS) -> str:
    """The first sentence, at most ``max_words`` words."""
    first = fallback.first_sentence(" ".join(text.split()), max_words)
    return first.rstrip("…").rstrip()


def check_name(reply: SectionName, start: int, topic: Collection[str],
               taken: Collection[str] = (), lang: str | None = None) -> Choice:
    """A usable chapter name: short, not just the talk's topic, not another chapter's, in the
    article's language."""
    title = tidy_title(reply.title)
    words = title.split()
    if not title:
        raise Invalid("the title is empty")
    require_script(title, lang, " (names and terms may stay as they are)")
    if len(words) > MAX_TITLE_WORDS:
        raise Invalid(f"the title has {len(words)} words; give at most {MAX_TITLE_WORDS}")
    if keyword_list(title):
        raise Invalid(f"\"{title}\" is a list of keywords; give the title an editor would "
                      "write: one short noun phrase that says what this chapter explains")
    words_of_title = set(tokens(title))
    if words_of_title and words_of_title <= set(topic):
        raise Invalid(f"\"{title}\" only names the topic of the whole talk; name what this "
                      "chapter says about it")
    if _key(title) in taken:
        raise Invalid(f"another chapter is already titled \"{title}\"; name what is specific "
                      "to this one")
    return Choice(start, title, one_sentence(reply.summary))


def topic_words(job: OutlineJob, texts: list[str]) -> set[str]:
    """What the whole talk is about: its title's words and its most frequent content word."""
    words = set(tokens(job.title))
    counts = Counter(w for t in texts for w in set(tokens(t)))
    if counts:
        words.add(counts.most_common(1)[0][0])
    return words


def name_chapters(job: OutlineJob, starts: list[int], task: Task) -> list[Choice] | None:
    """A name for each chapter (its own words where the model gave none); None when the model
    answered none of them (the caller then falls back as a whole)."""
    n = len(starts)
    times = job.start_times(starts) + [job.duration]
    system = render(job.config, SYSTEM, language=job.language, terms=job.terms)
    cap = max(200, (job.context_tokens() - count_tokens(system) - 600) * 3 // 4)
    if EXCERPT_TOKENS is not None:
        cap = min(cap, EXCERPT_TOKENS)
    texts = job.texts(starts)
    task.update(total=n + 1)

    topic = topic_words(job, texts)

    def one(k: int, avoid: list[str] | None = None) -> Choice | None:
        section = {"number": k + 1, "start": fmt_time(times[k]), "end": fmt_time(times[k + 1]),
                   "text": excerpt(texts[k], cap)}
        taken = {_key(t) for t in avoid or []}
        return job.ask("name_chapter.user.j2",
                       {**job.header(), "section": section, "count": n, "avoid": avoid or []},
                       SectionName, lambda r: check_name(r, starts[k], topic, taken,
                                                         job.config.article_language),
                       f"section {k + 1}", task, max_tokens=160, system_template=SYSTEM)

    pool = ThreadPoolExecutor(max_workers=max(1, job.config.llm_concurrency))
    try:
        named = list(pool.map(one, range(n)))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: don't name the rest first
        raise
    pool.shutdown()
    if all(c is None for c in named):
        return None
    # a title another chapter already has is asked again, showing the model the other titles
    seen: set[str] = set()
    for k, c in enumerate(named):
        if c is None:
            continue
        if _key(c.title) in seen:
            others = [x.title for j, x in enumerate(named) if x is not None and j != k]
            task.update(total=n + 2 + k)
            named[k] = one(k, others)
        if named[k] is not None:
            seen.add(_key(named[k].title))  # type: ignore[union-attr]
    own = fallback.describe(job.segments, starts, headings=job.headings)
    choices = []
    for k, c in enumerate(named):
        if c is None:
            job.notes.append(f"section {k + 1}: named from its own words")
            c = Choice(starts[k], *own[k])
        choices.append(c)
    got = job.ask("name_article.user.j2",
                  {**job.header(), "chapters": [{"title": c.title, "summary": c.summary}
                                                for c in choices]},
                  ArticleTitle, lambda r: check_article_title(r, job.config.article_language),
                  "article title", task, max_tokens=60,
                  system_template=SYSTEM)
    if got is not None and tidy_title(got.title):
        job.article_title = short_title(got.title)
    return choices
