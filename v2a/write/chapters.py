"""Write stage: one LLM call per outline chapter, in parallel (bounded) → chapters.json.

Each call sees the shared instructions and the whole outline first (a prefix every call of
the video shares, so servers reuse it), then a little of the neighbouring chapters and its own
transcript last. A chapter that fails is reported and retried on the next run; finished ones
come back from the per-call cache.

The other chapters' titles and summaries are context only, so they are left out of a call's
cache key (their times stay in): an editor who retitles one chapter in outline.json gets that
one chapter rewritten, not all of them. ``--force write`` rewrites everything.
"""

from __future__ import annotations

import re
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from ..errors import LLMError
from ..links import fmt_time
from ..llm.client import EndpointError, get_llm
from ..llm.prompts import language_name, render, template_hash
from ..llm.usage import count_tokens
from ..models import ChapterText, Draft, Outline, OutlineChapter, Transcript, Usage
from ..pipeline import StageResult
from ..workspace import read_model, write_json

CONTEXT_WORDS = 20  # of each neighbouring chapter: enough for continuity, too little to copy
REMOTE_CTX = 32000

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_TOP_HEADING = re.compile(r"^\s{0,3}#{1,2}\s", re.MULTILINE)  # another chapter starting
_NOTE = re.compile(r"\n\s*(?:-{3,}|\*{3,})\s*\n+\s*(?:\*\*)?note\b.*$", re.DOTALL | re.IGNORECASE)
# a small model sometimes declines a harmless chapter ("I'm sorry, but I can't assist ...")
_REFUSAL = re.compile(r"^\W*(i'?m sorry|i am sorry|sorry,|i apologi[sz]e|i can(?:no|')t (?:assist|"
                      r"help|do)|as an ai\b)", re.IGNORECASE)
RETRY_TEMPERATURE = 0.7
# a chatty opening about the task ("I understand that the previous chapter ended with ...,
# and I will continue from there."): the first sentence only, and only when it talks about the
# task, so a speaker's own "Sure, ..." stays
_META_LEAD = re.compile(
    r"^\s*(?:i understand|sure|certainly|of course|here is|here's|below is|as requested)\b"
    r"[^.!?\n]*\b(?:chapter|transcript|rewrit\w*|prose|continue|previous|requested|below)\b"
    r"[^.!?:\n]*[.!?:]\s*", re.IGNORECASE)
_FENCED = re.compile(r"^```(?:markdown|md)?\s*\n(.*)\n```\s*$", re.DOTALL)


def span_text(transcript: Transcript, first: int, last: int) -> str:
    return " ".join(s.text.strip() for s in transcript.segments if first <= s.id <= last)


def clean(markdown: str, title: str, want_title: bool) -> tuple[str, str | None]:
    """Strip a wrapping code fence and a leading heading; return (body, heading text)."""
    text = markdown.strip()
    m = _FENCED.match(text)
    if m:
        text = m.group(1).strip()
    if text.startswith('"""'):  # echoing the prompt's transcript delimiters
        text = text[3:].removesuffix('"""').strip()
    heading = None
    lines = text.splitlines()
    if lines:
        h = _HEADING.match(lines[0])
        if h and (want_title or h.group(1).strip(" *").lower() in (title.lower(), "")
                  or len(lines) > 1):
            heading = h.group(1).strip(" *")
            text = "\n".join(lines[1:]).strip()
    # small models run on into the next chapters or add a note: keep this chapter's text only
    m = _TOP_HEADING.search(text)
    if m and m.start() > 0:
        text = text[: m.start()].rstrip()
    text = _NOTE.sub("", text).rstrip()
    text = _META_LEAD.sub("", text, count=1)
    return text, heading


def is_refusal(text: str) -> bool:
    return len(text.split()) < 40 and bool(_REFUSAL.match(text))


def _parts(transcript: Transcript, ch: OutlineChapter, budget: int) -> list[str]:
    """The chapter's transcript, cut at segment borders into pieces of at most ``budget`` tokens
    (a long chapter is written in parts so any length fits the context)."""
    pieces, cur, used = [], [], 0
    for s in transcript.segments:
        if not ch.first_segment <= s.id <= ch.last_segment:
            continue
        n = count_tokens(s.text) + 1
        if cur and used + n > budget:
            pieces.append(" ".join(cur))
            cur, used = [], 0
        cur.append(s.text.strip())
        used += n
    if cur:
        pieces.append(" ".join(cur))
    return pieces or [""]


class Writer:
    def __init__(self, ctx, outline: Outline, transcript: Transcript):
        self.ctx, self.config = ctx, ctx.config
        self.outline, self.transcript = outline, transcript
        self.llm = get_llm(ctx)
        self.language = language_name(self.config.lang) if self.config.lang else None
        title = outline.title or (ctx.source.title if ctx.ws.source_json.exists() else "")
        self.title = title
        self.system = self.system_prompt()
        self.tag = {n: template_hash(self.config, n) for n in ("write.system.j2", "write.user.j2")}
        from ..llm.client import describe

        ctx_tokens = self.config.local_ctx if describe(self.config).embedded else max(
            self.config.local_ctx, REMOTE_CTX)
        # room for the system prompt and a reply about as long as the input
        free = ctx_tokens - count_tokens(self.system) - 400
        self.budget = max(200, free // 2)

    def system_prompt(self, own: int | None = None) -> str:
        """The shared system prompt; with ``own``, its cache-key view: every other chapter's
        title and summary blanked."""
        return render(self.config, "write.system.j2", kind="talk", title=self.title,
                      language=self.language, outline=[
                          {"index": c.index,
                           "title": c.title if own in (None, c.index) else "",
                           "summary": c.summary if own in (None, c.index) else "",
                           "time": fmt_time(c.start)} for c in self.outline.chapters])

    def neighbours(self, k: int) -> tuple[str, str]:
        chs = self.outline.chapters
        before = after = ""
        if k > 0:
            words = span_text(self.transcript, chs[k - 1].first_segment,
                              chs[k - 1].last_segment).split()
            before = " ".join(words[-CONTEXT_WORDS:])
        if k + 1 < len(chs):
            words = span_text(self.transcript, chs[k + 1].first_segment,
                              chs[k + 1].last_segment).split()
            after = " ".join(words[:CONTEXT_WORDS])
        return before, after

    def write(self, k: int) -> ChapterText:
        ch = self.outline.chapters[k]
        before, after = self.neighbours(k)
        usage = Usage()
        bodies, heading = [], None
        parts = _parts(self.transcript, ch, self.budget)
        key_system = self.system_prompt(own=ch.index)
        for p, text in enumerate(parts):
            user = render(self.config, "write.user.j2", chapter={
                "index": ch.index, "title": ch.title, "time": fmt_time(ch.start),
                "end_time": fmt_time(ch.end)}, transcript=text,
                before=before if p == 0 else "", after=after if p == len(parts) - 1 else "",
                part=p + 1, parts=len(parts))
            messages = [{"role": "system", "content": self.system},
                        {"role": "user", "content": user}]
            key = [{"role": "system", "content": key_system}, messages[1]]
            # about as long as the transcript: a tight cap also stops a rambling small model
            max_tokens = min(4096, int(count_tokens(text) * 1.4) + 80)
            body, h = "", None
            # an empty reply or a refusal is asked once more, less deterministically. Both
            # replies stay cached, so a re-run replays the same two; only an unusable second
            # one is dropped, and the chapter fails (reported, asked again on the next run)
            warm = max(RETRY_TEMPERATURE, self.config.temperature)
            for temperature in (self.config.temperature, warm):
                c = self.llm.complete(messages, max_tokens=max_tokens, key_messages=key,
                                      temperature=temperature, tag=self.tag)
                usage = usage.add(c.usage)
                body, h = clean(c.text, ch.title, want_title=self.language is not None)
                if body.strip() and not is_refusal(body):
                    break
            else:
                self.llm.forget(messages, max_tokens=max_tokens, key_messages=key,
                                temperature=warm, tag=self.tag)
            heading = heading or h
            if not body.strip():
                raise LLMError("the model returned an empty chapter")
            if is_refusal(body):
                raise LLMError(f"the model declined to write this chapter: {body[:80]!r}")
            bodies.append(body)
        title = heading if (self.language and heading) else ch.title
        return ChapterText(index=ch.index, title=title, start=ch.start, end=ch.end,
                           markdown="\n\n".join(bodies), usage=usage)


def run(ctx) -> StageResult:
    outline = read_model(ctx.ws.path("outline.json"), Outline)
    transcript = read_model(ctx.ws.path("transcript.json"), Transcript)
    n = len(outline.chapters)
    results: dict[int, ChapterText] = {}
    writer = Writer(ctx, outline, transcript) if n else None
    with ctx.progress.task("writing chapters", total=n) as task, \
            ThreadPoolExecutor(max_workers=max(1, ctx.config.llm_concurrency),
                               thread_name_prefix="v2a-write") as pool:
        futures = {pool.submit(writer.write, k): k for k in range(n)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in done:
                k = futures[f]
                ch = outline.chapters[k]
                exc = f.exception()
                if isinstance(exc, EndpointError):
                    # unusable endpoint: every other chapter would fail the same way
                    for p in pending:
                        p.cancel()
                    raise exc
                if exc is not None and not isinstance(exc, LLMError):
                    raise exc
                results[k] = f.result() if exc is None else ChapterText(
                    index=ch.index, title=ch.title, start=ch.start, end=ch.end,
                    status="failed", error=str(exc))
                task.advance(1)

    chapters = [results[k] for k in range(n)]
    usage = Usage()
    for c in chapters:
        usage = usage.add(c.usage)
    draft = Draft(lang=ctx.config.lang or transcript.language, model=get_llm(ctx).model_name,
                  chapters=chapters, usage=usage)
    write_json(ctx.ws.path("chapters.json"), draft)
    failed = [c for c in chapters if c.status == "failed"]
    cached = usage.cached_calls
    detail = f"{n - len(failed)}/{n} chapters written"
    if cached:
        detail += f" ({cached} from cache)"
    if failed:
        detail += f"; {len(failed)} failed, re-run to retry: {failed[0].error}"
    return StageResult(detail=detail, complete=not failed, usage=usage)
