"""Each prose paragraph's source sentences, found by aligning words, not by asking the model.

The prose of a chapter follows its transcript in order, so the alignment is monotonic: every
transcript sentence goes to at most one paragraph, paragraphs take sentences in order, and a
sentence joins a paragraph only when enough of its weighted content words (IDF over the
chapter's sentences, light stemming) appear in it. Sentences no paragraph takes are speech
the article may have left out (``v2a.checks.doubts``). A paragraph that took nothing gets
the best match between its neighbours' sources, so every paragraph has a source.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import markdown

from .models import Draft, Outline, ParagraphSource, Segment, Transcript

# words that carry no content of their own (English; other languages align on all words)
STOP = frozenset("""a about above after again all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each even every
few for from further get gets got had has have having he her here hers him his how i if in into is
it its just let like lot many me more most much my no nor not now of off on once one only or other
our out over own really right same say she should so some such than that the their them then
there these they thing things this those through to too two under until up us very was way we well
were what when where which while who why will with would yeah you your okay ok gonna going want
know see look basically actually kind sort mean""".split())

JOIN = 0.3  # a sentence joins a paragraph when this share of its weighted words is there
KEY_WORDS = 16  # a paragraph's key: its first words, normalised

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NOT_PROSE = re.compile(r"^( {0,3}#|\s{4}|\s*[-*+]\s|\s*\d{1,9}[.)]\s|\s*>|\s*\||\s*(`{3,}|~{3,}))")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
    "thousand": "1000", "million": "1000000",
}


def words(text: str) -> list[str]:
    """Lower-case words and numbers of a text."""
    return _WORD.findall(text.lower())


def stem(word: str) -> str:
    """A crude stem: plurals and common endings off, long words cut (tokenizer ~ tokenizers)."""
    if word.isdigit():
        return word
    word = _NUMBER_WORDS.get(word, word)
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:7]


def content(text: str) -> list[str]:
    """The stems of a text's content words (stop words and single letters out)."""
    return [stem(w) for w in words(text) if w not in STOP and (len(w) > 1 or w.isdigit())]


def plain(md: str) -> str:
    """What a Markdown fragment reads as, without markup."""
    return html.unescape(_TAG.sub(" ", markdown.markdown(md)))


def key(text: str) -> str:
    """A paragraph's key, from its plain text (rendered HTML or Markdown made plain)."""
    return " ".join(words(text)[:KEY_WORDS])


def blocks(md: str) -> list[str]:
    """Markdown split at blank lines outside fenced code (as the article splits it)."""
    out: list[list[str]] = [[]]
    fence: str | None = None
    for line in md.split("\n"):
        m = _FENCE.match(line)
        if fence:
            out[-1].append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
        if not line.strip() and not fence:
            if out[-1]:
                out.append([])
            continue
        out[-1].append(line)
    return ["\n".join(b) for b in out if b]


def paragraphs(md: str) -> list[str]:
    """The prose paragraphs of a chapter's Markdown (headings, lists, code, quotes, tables out)."""
    return [b for b in blocks(md) if not _NOT_PROSE.match(b) and words(b)]


def idf_weights(docs: list[set[str]]) -> dict[str, float]:
    df: Counter[str] = Counter(w for d in docs for w in d)
    n = len(docs)
    return {w: math.log((n + 1) / (c + 1)) + 1.0 for w, c in df.items()}


def weighted_share(part: Iterable[str], whole: set[str], idf: dict[str, float]) -> float:
    """The IDF-weighted share of ``part``'s words found in ``whole`` (0 when it has none)."""
    ws = set(part)
    total = sum(idf.get(w, 1.0) for w in ws)
    return sum(idf.get(w, 1.0) for w in ws if w in whole) / total if total else 0.0


@dataclass
class Alignment:
    """Sentence indexes (into the chapter's segments) per paragraph, and the raw similarities."""

    taken: list[list[int]]
    sim: list[list[float]]  # [paragraph][sentence]: share of the sentence found in the paragraph


def align(paras: list[str], sentences: list[str], join: float = JOIN) -> Alignment:
    """Monotonic assignment of sentences to paragraphs maximising the summed similarity above
    ``join`` (a dynamic programme over sentence × paragraph)."""
    sent_words = [set(content(s)) for s in sentences]
    para_words = [set(content(p)) for p in paras]
    idf = idf_weights(sent_words)
    sim = [[weighted_share(sw, pw, idf) for sw in sent_words] for pw in para_words]
    n_s, n_p = len(sentences), len(paras)
    taken: list[list[int]] = [[] for _ in paras]
    if not n_s or not n_p:
        return Alignment(taken, sim)
    # best[s][p]: best score of sentences < s with the last paragraph used <= p
    neg = -1e9
    best = [[neg] * n_p for _ in range(n_s + 1)]
    back: list[list[tuple[int, int | None]]] = [[(0, None)] * n_p for _ in range(n_s + 1)]
    for p in range(n_p):
        best[0][p] = 0.0
    for s in range(n_s):
        for p in range(n_p):
            if best[s][p] == neg:
                continue
            # leave sentence s out, pointer stays
            if best[s][p] > best[s + 1][p]:
                best[s + 1][p], back[s + 1][p] = best[s][p], (p, None)
            # give it to paragraph q >= p (only worth it above the join share)
            for q in range(p, n_p):
                gain = sim[q][s] - join
                if gain > 0 and best[s][p] + gain > best[s + 1][q]:
                    best[s + 1][q], back[s + 1][q] = best[s][p] + gain, (p, q)
    p = max(range(n_p), key=lambda k: best[n_s][k])
    for s in range(n_s, 0, -1):
        prev, got = back[s][p]
        if got is not None:
            taken[got].append(s - 1)
        p = prev
    for t in taken:
        t.sort()
    # a paragraph that took nothing: its best sentence between its neighbours' sources
    for k, t in enumerate(taken):
        if t:
            continue
        lo = max((x for j in range(k) for x in taken[j]), default=-1)
        hi = min((x for j in range(k + 1, n_p) for x in taken[j]), default=n_s)
        window = range(max(lo, 0), min(hi, n_s - 1) + 1)
        if len(window):
            taken[k] = [max(window, key=lambda s: sim[k][s])]
    return Alignment(taken, sim)


def chapter_sources(md: str, segments: list[Segment]) -> list[ParagraphSource]:
    """Each prose paragraph of ``md`` with its source sentences among ``segments``."""
    paras = paragraphs(md)
    texts = [plain(p) for p in paras]
    al = align(texts, [s.text for s in segments])
    sent_words = [set(content(s.text)) for s in segments]
    idf = idf_weights(sent_words)
    out = []
    for k, (text, idx) in enumerate(zip(texts, al.taken)):
        src = set().union(*(sent_words[i] for i in idx)) if idx else set()
        out.append(ParagraphSource(
            paragraph=k, key=key(text), segments=[segments[i].id for i in idx],
            start=segments[idx[0]].start if idx else None,
            end=max(segments[i].end for i in idx) if idx else None,
            support=round(weighted_share(content(text), src, idf), 3)))
    return out


def attach_sources(draft: Draft, outline: Outline, transcript: Transcript) -> Draft:
    """The draft with every written chapter's paragraph sources filled in (in place)."""
    by_index = {c.index: c for c in outline.chapters}
    for text in draft.chapters:
        ch = by_index.get(text.index)
        if ch is None or text.status != "ok" or not text.markdown.strip():
            continue
        text.sources = chapter_sources(text.markdown,
                                       transcript.between(ch.first_segment, ch.last_segment))
    return draft
