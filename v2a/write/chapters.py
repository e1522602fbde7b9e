"""Write stage: one LLM call per outline chapter, in parallel (bounded) → chapters.json.

Each call sees the shared instructions and the whole outline first (a prefix every call of
the video shares, so servers reuse it), then a little of the neighbouring chapters and its own
transcript last. A chapter that fails is reported and retried on the next run; finished ones
come back from the per-call cache.

The rest of the outline is context only, so a call's cache key sees its own chapter alone
(its title, summary, times, transcript and the words around it — not the other chapters, nor
its number): an editor who retitles one chapter in outline.json, or splits or merges chapters,
gets only those chapters rewritten. ``--force write`` rewrites everything.

``Writer.write(k, instruction=..., regenerate=n)`` is the review app's "regenerate this
section": exactly one call, never answered from the cache, with the editor's instruction.
"""

from __future__ import annotations

import re
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from .. import glossary
from ..errors import LLMError
from ..links import fmt_time
from ..llm.base import Completion, EndpointError
from ..llm.open import context_tokens
from ..llm.prompts import language_name, render, template_hash
from ..llm.usage import count_tokens
from ..models import ChapterText, Draft, Outline, OutlineChapter, Transcript, Usage
from ..ocr import terms as screen_terms
from ..sources import attach_sources
from ..stage import StageContext, StageResult
from ..stages import CHAPTERS, OUTLINE, TRANSCRIPT
from ..workspace import ArtifactError, read_model, write_json
from . import scaffolding
from .ask import WARM_TEMPERATURE, Invalid, Request, ask
from .candidates import tokens
from .scripts import MIN_TARGET_SCRIPT, target_script_share

CONTEXT_WORDS = 20  # of each neighbouring chapter: enough for continuity, too little to copy
SYSTEM, USER = "write_chapter.system.j2", "write_chapter.user.j2"
AGAIN = "write_chapter_again.user.j2"  # the third try: the rejected reply shown back, and why
# an editor's request ("shorter", "more formal") made of the section's current text
REVISE_SYSTEM, REVISE_USER = "revise_section.system.j2", "revise_section.user.j2"
REVISE_AGAIN = "revise_section_again.user.j2"
# "Certainly, here's the revised section using a more formal tone:" on a line of its own
_REVISE_LEAD = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok)\b[,!.]?\s*)?(?:here is|here's|below is|"
    r"the section|the revised)\b[^\n]*?\b(?:revis\w*|rewrit\w*|version|section)\b[^\n]*:\s*\n",
    re.IGNORECASE)

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_TOP_HEADING = re.compile(r"^\s{0,3}#{1,2}\s", re.MULTILINE)  # another chapter starting
_NOTE = re.compile(r"\n\s*(?:-{3,}|\*{3,})\s*\n+\s*(?:\*\*)?note\b.*$", re.DOTALL | re.IGNORECASE)
# a small model sometimes declines a harmless chapter ("I'm sorry, but I can't assist ...")
_REFUSAL = re.compile(r"^\W*(i'?m sorry|i am sorry|sorry,|i apologi[sz]e|i can(?:no|')t (?:assist|"
                      r"help|do)|as an ai\b"
                      # asking back instead of writing: "Could you please provide me with the
                      # transcript of the previous chapter…?"
                      r"|(?:could|can|would) you (?:please )?(?:provide|share|give|send|clarify)"
                      r"|please (?:provide|share|send)|i (?:would )?need (?:the|more|you)"
                      r"|i don'?t have (?:access|the|enough))", re.IGNORECASE)
# a chatty opening about the task ("I understand that the previous chapter ended with ...,
# and I will continue from there."): the first sentence only, and only when it talks about the
# task, so a speaker's own "Sure, ..." stays
_META_LEAD = re.compile(
    r"^\s*(?:i understand|sure|certainly|of course|here is|here's|below is|as requested)\b"
    r"[^.!?\n]*\b(?:chapter|transcript|rewrit\w*|prose|continue|previous|requested|below)\b"
    r"[^.!?:\n]*[.!?:]\s*", re.IGNORECASE)
# the model acknowledging its task before the speaker's first words ("I understand that there
# is what we merge first": the speaker said "That pair is what we merge first")
_ACK_LEAD = re.compile(r"^\s*I understand(?: that)?,?\s+(?=\w)", re.IGNORECASE)
UNCHANGED = "the model returned the text unchanged"
NOT_PROSE = "the reply is data (JSON), not prose"
# a whole reply that is a JSON object or list, well-formed or not ('{"not": "prose"')
_JSONISH = re.compile(r'^\s*(?:\{\s*(?:"|\}|$)|\[\s*(?:[{\["\d\]]|$))')
CHATTY = "the text talks about the task"
WRONG_LANGUAGE = "the chapter is not written in"
UNGROUNDED = "the text says what the transcript does not"
# a rewrite keeps the speaker's words; a reply whose content words are mostly new is telling
# another story ("So, to build our tokenizer, we need to follow these steps: 1. Define the
# vocabulary…" over a transcript that only introduced the talk): the rewrites measured on the
# talk keep 0.87-1.0 of their words, that one 0.46
MIN_GROUNDED = 0.6
RETRIES = 2  # tries after the first: warmer, then repair
_FENCED = re.compile(r"^```(?:markdown|md)?\s*\n(.*)\n```\s*$", re.DOTALL)


class ChapterFailed(LLMError):
    """No usable reply for a chapter; ``usage`` is what the tries cost (they were paid for)."""

    def __init__(self, message: str, usage: Usage, notes: list[str] | None = None):
        super().__init__(message)
        self.usage, self.notes = usage, notes or []


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
    for _ in range(3):  # "I understand that … Here's the rewritten version of chapter 6:"
        text, n = _META_LEAD.subn("", text, count=1)
        if not n:
            break
    text, _removed = scaffolding.strip(text)
    return unbolded(text), heading


# a whole paragraph in bold ("**Today we build … back.**"): a small model's emphasis, never
# the speaker's; a bold phrase inside a paragraph, or a short bold line, is left alone
_BOLD_PARA = re.compile(r"^(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1$", re.DOTALL)
MIN_BOLD_WORDS = 12


def unbolded(text: str) -> str:
    """``text`` with every long paragraph that is wholly bold made plain."""
    paras = re.split(r"(\n\s*\n)", text)
    for i in range(0, len(paras), 2):
        m = _BOLD_PARA.match(paras[i].strip())
        if m and "```" not in paras[i] and len(m.group(2).split()) >= MIN_BOLD_WORDS:
            paras[i] = m.group(2)
    return "".join(paras)


def unsaid_lead(body: str, transcript: str) -> str:
    """``body`` without an opening "I understand that" the speaker did not say."""
    m = _ACK_LEAD.match(body)
    if m is None or re.search(r"\bunderstand", transcript[:400], re.IGNORECASE):
        return body
    rest = body[m.end():]
    return rest[:1].upper() + rest[1:]


# a script-style speaker label the model puts before the speaker's words ("**I:** Today we…")
_LABEL = re.compile(r"^(\s*)(?:\*\*|__)?(?:I|Me|Speaker|Narrator|Lecturer|Presenter|Host)"
                    r"\s*(?::\s*(?:\*\*|__)|(?:\*\*|__)?\s*:)\s*", re.MULTILINE)
# a short paragraph that only leads in to what follows ("Let's go through it step by step:")
_LEAD_IN = re.compile(r"^[^\n]{0,100}:\s*$")


def unsaid_frame(body: str, transcript: str) -> str:
    """``body`` without speaker labels and without a lead-in paragraph (a short one ending in a
    colon) whose words the speaker did not say."""
    body = _LABEL.sub(r"\1", body)
    paras = re.split(r"\n\s*\n", body.strip(), maxsplit=1)
    if len(paras) == 2 and _LEAD_IN.match(paras[0]) and "```" not in paras[0]:
        words = tokens(paras[0])
        known = set(tokens(transcript))
        if not words or sum(w in known for w in words) / len(words) < 0.5:
            return paras[1]
    return body


def grounded_share(body: str, said: str) -> float | None:
    """The share of ``body``'s content words (stemmed) that ``said`` contains; None for a text
    too short to judge."""
    words = tokens(re.sub(r"```.*?```|`[^`]*`", " ", body, flags=re.DOTALL))
    if len(words) < 20:
        return None
    known = set(tokens(said))
    return sum(w in known for w in words) / len(words)


def _words(markdown: str) -> list[str]:
    return re.findall(r"\w+", markdown.lower())


def same_words(a: str, b: str) -> bool:
    """Two texts with the same words in the same order (case, punctuation and markup aside)."""
    return _words(a) == _words(b)


def is_refusal(text: str) -> bool:
    return len(text.split()) < 40 and bool(_REFUSAL.match(text))


def _parts(transcript: Transcript, ch: OutlineChapter, budget: int) -> list[str]:
    """The chapter's transcript, cut at segment borders into pieces of at most ``budget`` tokens
    (a long chapter is written in parts so any length fits the context)."""
    pieces: list[str] = []
    cur: list[str] = []
    used = 0
    for s in transcript.between(ch.first_segment, ch.last_segment):
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
    def __init__(self, ctx: StageContext, outline: Outline, transcript: Transcript):
        self.ctx, self.config = ctx, ctx.config
        self.outline, self.transcript = outline, transcript
        self.llm = ctx.llm()
        self.language = language_name(self.config.article_language)
        self.title = outline.title or (ctx.title if ctx.ws.source_json.exists() else "")
        self.terms = glossary.all_terms(ctx.ws)
        self.system = self.system_prompt()
        self.tag = {n: template_hash(self.config, n) for n in (SYSTEM, USER, AGAIN)}
        # room for the system prompt and a reply about as long as the input
        free = context_tokens(self.config) - count_tokens(self.system) - 400
        self.budget = max(200, free // 2)

    def system_prompt(self, own: OutlineChapter | None = None) -> str:
        """The shared system prompt; with ``own``, its cache-key view: that chapter alone, as
        if it were the first (the rest of the outline is context only)."""
        chapters = self.outline.chapters if own is None else [own.model_copy(update={"index": 0})]
        return render(self.config, SYSTEM, kind="talk", title=self.title,
                      language=self.language, terms=self.terms, outline=[
                          {"index": c.index, "title": c.title, "summary": c.summary,
                           "time": fmt_time(c.start)} for c in chapters])

    def neighbours(self, k: int) -> tuple[str, str]:
        """The words said just before and just after chapter ``k`` (whatever chapters they
        belong to, so the other chapters' cuts never change this chapter's prompt)."""
        chs, segs = self.outline.chapters, self.transcript.segments
        pos = {s.id: i for i, s in enumerate(segs)}
        before = after = ""
        if k > 0 and chs[k].first_segment in pos:
            words: list[str] = []
            for s in reversed(segs[:pos[chs[k].first_segment]]):
                words = s.text.split() + words
                if len(words) >= CONTEXT_WORDS:
                    break
            before = " ".join(words[-CONTEXT_WORDS:])
        if k + 1 < len(chs) and chs[k].last_segment in pos:
            words = []
            for s in segs[pos[chs[k].last_segment] + 1:]:
                words += s.text.split()
                if len(words) >= CONTEXT_WORDS:
                    break
            after = " ".join(words[:CONTEXT_WORDS])
        return before, after

    @staticmethod
    def _not_prose(body: str, c: Completion) -> None:
        """Raise ``Invalid`` for a reply that is no chapter at all (empty, a refusal, data)."""
        if not body.strip():
            raise Invalid("the model returned an empty chapter")
        if is_refusal(body):
            raise Invalid(f"the model declined to write this chapter: {body[:80]!r}")
        if _JSONISH.match(body):  # an endpoint's structured or broken reply, not prose
            raise Invalid(f"{NOT_PROSE}: {body[:80]!r}")
        # in tokens, not words: Chinese and Japanese have no spaces to count
        if c.finish_reason == "loop" and count_tokens(body) < 50:
            raise Invalid("the model kept repeating itself")

    def _off_form(self, body: str) -> None:
        """Raise ``Invalid`` for prose in the wrong language, or that talks about the task."""
        share = target_script_share(body, self.config.article_language)
        if share is not None and share < MIN_TARGET_SCRIPT:
            raise Invalid(f"{WRONG_LANGUAGE} {self.language} ({share:.0%} of it)")
        left = scaffolding.leftover(body)
        if left:
            raise Invalid(f"{CHATTY}: {left[0][:80]!r}")

    def write(self, k: int, instruction: str = "", regenerate: str | None = None,
              unlike: str | None = None, revise: bool = True) -> ChapterText:
        """Write chapter ``k``. ``regenerate``: a nonce for the editor's request for a new text
        of it (never answered from the cache; warmer without an ``instruction``); ``unlike``:
        the text it replaces — a reply with the same words is asked again, warmer. With both an
        ``instruction`` and ``unlike``, and ``revise``, the current text is revised
        (``Writer.revise``); without ``revise`` (the transcript changed under the text) the
        chapter is written from its transcript with the instruction."""
        if revise and instruction.strip() and unlike is not None and unlike.strip():
            return self.revise(k, instruction.strip(), unlike, regenerate)
        ch = self.outline.chapters[k]
        before, after = self.neighbours(k)
        usage = Usage()
        notes: list[str] = []
        bodies, heading = [], None
        parts = _parts(self.transcript, ch, self.budget)
        key_system = self.system_prompt(own=ch)
        tag = self.tag if regenerate is None else {**self.tag, "regenerate": regenerate}
        temperature = self.config.temperature
        if regenerate is not None and not instruction:
            temperature = max(WARM_TEMPERATURE, temperature)  # the same prompt, another sample
        chapter = {"title": ch.title, "time": fmt_time(ch.start), "end_time": fmt_time(ch.end)}
        respelled = [r for r in self.transcript.respellings if ch.start <= r.start < ch.end]
        for p, text in enumerate(parts):
            variables = dict(transcript=text, before=before if p == 0 else "",
                             after=after if p == len(parts) - 1 else "", part=p + 1,
                             parts=len(parts), instruction=instruction.strip())
            user = render(self.config, USER, chapter={**chapter, "index": ch.index}, **variables)
            messages = [{"role": "system", "content": self.system},
                        {"role": "user", "content": user}]
            key = [{"role": "system", "content": key_system}, {"role": "user", "content": render(
                self.config, USER, chapter={**chapter, "index": 0}, **variables)}]

            def check(c: Completion, said: str = text) -> tuple[str, str | None]:
                body, h = clean(c.text, ch.title, want_title=self.language is not None)
                body = unsaid_frame(unsaid_lead(body, said), said)
                self._not_prose(body, c)
                # compared as it will be printed: keeping the screen's terms can turn a reply
                # that differs only in "get stats" back into the text it replaces
                if unlike is not None and len(parts) == 1 and \
                        same_words(screen_terms.keep_terms(body, respelled)[0], unlike):
                    raise Invalid(UNCHANGED)
                if self.language is None and not instruction:  # same language, no editor ask
                    # not the screen's terms: they name the whole talk, and would ground a
                    # chapter that tells it all (a term the speaker said is in the transcript)
                    g = grounded_share(body, " ".join([said, before, after, ch.title]))
                    if g is not None and g < MIN_GROUNDED:
                        raise Invalid(f"{UNGROUNDED} (only {g:.0%} of its words are the "
                                      "speaker's)")
                self._off_form(body)
                return body, h

            def salvage(c: Completion, error: str, said: str = text
                        ) -> tuple[str, str | None] | None:
                # asked twice and still chatty: keep the prose, drop the sentences about the task;
                # twice in the wrong language: the talk's words beat no chapter. Twice off the
                # transcript is not kept: an invented chapter is worse than the transcript the
                # article shows in its place (the chapter fails and the next run asks again)
                if not error.startswith((CHATTY, WRONG_LANGUAGE)):
                    return None
                body, h = clean(c.text, ch.title, want_title=self.language is not None)
                body = scaffolding.trim(unsaid_frame(unsaid_lead(body, said), said))
                return (body, h) if body.strip() else None

            # an unusable reply (empty, a refusal, unchanged, off the transcript) is asked once
            # more, less deterministically, then once with the reply shown back and what was
            # wrong with it: a user should get the whole article from the first run, and a
            # re-run asking the same again succeeded where the first run gave up (#19). Every
            # reply stays cached, so a re-run replays them; only an unusable last one is
            # dropped, and the chapter fails (reported, asked again on the next run)
            answer = ask(self.llm, Request(
                messages=messages, key_messages=key, check=check, salvage=salvage, tag=tag,
                # about as long as the transcript: a tight cap also stops a rambling model
                max_tokens=min(4096, int(count_tokens(text) * 1.4) + 80),
                temperature=temperature, retries=RETRIES, again=("warmer", "repair"),
                repair=lambda error: render(self.config, AGAIN, error=error.rstrip(".")),
                label=f"chapter {ch.index + 1}"))
            notes += answer.notes
            usage = usage.add(answer.usage)
            if answer.value is None:
                raise ChapterFailed(answer.error, usage, notes)
            body, h = answer.value
            heading = heading or h
            # the writer may turn a respelled term back into words ("cl100k base")
            body, _ = screen_terms.keep_terms(body, respelled)
            bodies.append(body)
        markdown = "\n\n".join(bodies)
        # a salvaged reply, or a chapter written in parts, is not checked against the text it
        # replaces reply by reply: the editor must never be shown an empty proposal
        if unlike is not None and same_words(markdown, unlike):
            raise ChapterFailed(UNCHANGED, usage, notes)
        title = heading if (self.language and heading) else ch.title
        return ChapterText(index=ch.index, title=title, start=ch.start, end=ch.end,
                           markdown=markdown, usage=usage, notes=notes)


    def revise(self, k: int, instruction: str, current: str,
               regenerate: str | None = None) -> ChapterText:
        """Chapter ``k``'s ``current`` text changed as its editor asks (``instruction``).

        The model sees the text and the request only: asked "shorter" of the transcript, a
        1.5B model writes the transcript out again and the request is lost. A reply with the
        current words is asked again, warmer, then shown back (``ChapterFailed`` after that)."""
        ch = self.outline.chapters[k]
        said = " ".join(s.text.strip()
                        for s in self.transcript.between(ch.first_segment, ch.last_segment))
        respelled = [r for r in self.transcript.respellings if ch.start <= r.start < ch.end]
        tag = self.tag if regenerate is None else {**self.tag, "regenerate": regenerate}
        messages = [
            {"role": "system", "content": render(self.config, REVISE_SYSTEM)},
            {"role": "user", "content": render(self.config, REVISE_USER, chapter={
                "title": ch.title}, current=current, instruction=instruction)}]
        known = f"{said} {current}"

        def check(c: Completion) -> str:
            body, _h = clean(_REVISE_LEAD.sub("", c.text.strip(), count=1), ch.title,
                             want_title=False)
            body = unsaid_frame(unsaid_lead(body, known), known)
            self._not_prose(body, c)
            if same_words(screen_terms.keep_terms(body, respelled)[0], current):
                raise Invalid(UNCHANGED)
            self._off_form(body)
            return body

        answer = ask(self.llm, Request(
            messages=messages, check=check, tag=tag,
            # "longer" is a request too: room for the text and then some
            max_tokens=min(4096, int(max(count_tokens(current), count_tokens(said)) * 1.6) + 80),
            temperature=self.config.temperature, retries=RETRIES, again=("warmer", "repair"),
            repair=lambda error: render(self.config, REVISE_AGAIN, error=error.rstrip("."),
                                        instruction=instruction),
            label=f"chapter {ch.index + 1}"))
        if answer.value is None:
            raise ChapterFailed(answer.error or UNCHANGED, answer.usage, answer.notes)
        body, _ = screen_terms.keep_terms(answer.value, respelled)
        return ChapterText(index=ch.index, title=ch.title, start=ch.start, end=ch.end,
                           markdown=body, usage=answer.usage, notes=answer.notes)


def run(ctx: StageContext) -> StageResult:
    outline = read_model(ctx.ws.path(OUTLINE.name), Outline)
    transcript = read_model(ctx.ws.path(TRANSCRIPT.name), Transcript)
    bad = outline.problems(transcript)
    if bad:
        raise ArtifactError(f"{ctx.ws.path(OUTLINE.name)}: {bad[0]}; fix it by hand or re-run "
                            "with --force outline")
    n = len(outline.chapters)
    results: dict[int, ChapterText] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, ctx.config.llm_concurrency),
                              thread_name_prefix="v2a-write")
    try:
        _write_all(ctx, outline, transcript, pool, results)
    except BaseException:
        # stop now: queued chapters are dropped, the calls in flight end when the LLM is
        # closed (right after this); every finished call is in the per-call cache
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    chapters = [results[k] for k in range(n)]
    usage = Usage()
    for c in chapters:
        usage = usage.add(c.usage)
    draft = Draft(lang=ctx.config.article_language or transcript.language,
                  model=ctx.llm().model_name,
                  chapters=chapters, usage=usage)
    # each paragraph's source sentences, by aligning words (the editor's "where was this said")
    attach_sources(draft, outline, transcript)
    write_json(ctx.ws.path(CHAPTERS.name), draft)
    failed = [c for c in chapters if c.status == "failed"]
    cached = usage.cached_calls
    detail = f"{n - len(failed)}/{n} chapters written"
    if cached:
        detail += f" ({cached} from cache)"
    if failed:
        detail += f"; {len(failed)} failed, re-run to retry: {failed[0].error}"
    return StageResult(detail=detail, complete=not failed, usage=usage)


def _write_all(ctx: StageContext, outline: Outline, transcript: Transcript,
               pool: ThreadPoolExecutor, results: dict[int, ChapterText]) -> None:
    n = len(outline.chapters)
    with ctx.progress.task("writing chapters", total=n) as task:
        writer = Writer(ctx, outline, transcript) if n else None
        futures = {pool.submit(writer.write, k): k for k in range(n)} if writer else {}
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
                    status="failed", error=str(exc),
                    usage=exc.usage if isinstance(exc, ChapterFailed) else Usage(),
                    notes=exc.notes if isinstance(exc, ChapterFailed) else [])
                task.advance(1)
