"""Deterministic outline when there is no usable model reply: strongest candidates + keywords.

Never the goal, always available: the run must not die on a bad JSON.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from ..models import Segment
from .candidates import _STOP, Candidate, tokens

_SURFACE = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# words that end a noun phrase (adverbs), and adjectives that are no title alone
_NOT_NOUNS = set("""never always also just only still really now then here there again even
already exactly instead first together away back must can will would should could may might
better shorter longer larger smaller faster slower fewer more less""".split())
_ADJECTIVES = set("""new best good bad first last next same other whole different big small
long short large own real right simple little few many much main whole""".split())
_DETERMINERS = set("the a an this that these those each every our its their your his her "
                   "my some any".split())


def choose_starts(cands: list[Candidate], count: int) -> list[int]:
    """Segment indexes where ``count`` chapters start (always including 0), best-scored first."""
    best = sorted(cands, key=lambda c: (-c.score, c.time))[: max(0, count - 1)]
    return [0] + sorted(c.index for c in best)


def keywords(texts: list[str], k: int = 3) -> list[list[str]]:
    """Per text, its most distinctive words (tf-idf), in their most common spoken form."""
    docs = [Counter(tokens(t)) for t in texts]
    df = Counter(w for d in docs for w in d)
    surface: dict[str, Counter] = {}
    for t in texts:
        for w in _SURFACE.findall(t):
            lw = w.lower()
            if lw in _STOP or len(lw) < 3:
                continue
            stem = tokens(lw)
            if stem:
                surface.setdefault(stem[0], Counter())[lw] += 1
    out = []
    for d in docs:
        scored = sorted(d, key=lambda w: (-d[w] * math.log(1 + len(docs) / df[w]), w))
        out.append([surface[w].most_common(1)[0][0] if w in surface else w for w in scored[:k]])
    return out


def first_sentence(text: str, max_words: int = 25) -> str:
    s = _SENTENCE.split(text.strip(), maxsplit=1)[0]
    words = s.split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


# a word a phrase can hold: letters, digits inside names (GPT-2, UTF-8), snake_case
_PHRASE_WORD = re.compile(r"[^\W_][\w'-]*|\S*_\S*", re.UNICODE)


def key_phrases(texts: list[str], max_words: int = 3) -> list[list[str]]:
    """Per text, its key noun phrases, best first: runs of 1–``max_words`` content words
    (no stop word inside), said at least twice when any is, scored by how often this text
    says them against the others (tf-idf) and by length ("byte pair encoding" over "byte")."""
    counts: list[Counter[tuple[str, ...]]] = []
    surface: dict[tuple[str, ...], Counter[str]] = {}
    for t in texts:
        c: Counter[tuple[str, ...]] = Counter()
        for sentence in re.split(r"[.!?;:,()\"]+", t):
            run: list[str] = []
            named = False  # the run follows "the", "a", "each"…: a noun phrase, not a verb's
            for w in _PHRASE_WORD.findall(sentence) + [""]:
                lw = w.lower().strip("'-")
                if lw and lw not in _STOP and len(lw) >= 3 and not lw.isdigit():
                    run.append(w.strip("'-"))
                    continue
                # after a determiner the noun phrase comes first ("the [merge rules] say"),
                # up to an adverb ("the [starting vocabulary] exactly")
                cut = next((k for k, x in enumerate(run)
                            if x.lower().endswith("ly") or x.lower() in _NOT_NOUNS), len(run))
                for n in range(1, min(cut, max_words) + 1) if named else ():
                    if run[n - 1].lower() in _ADJECTIVES:
                        continue
                    gram = tuple(x.lower() for x in run[:n])
                    c[gram] += 1
                    surface.setdefault(gram, Counter())[" ".join(run[:n])] += 1
                run = []
                named = lw in _DETERMINERS
        counts.append(c)
    df = Counter(g for c in counts for g in c)
    out = []
    for c in counts:
        top = max(c.values(), default=0)
        pool = [g for g in c if c[g] >= 2] if top >= 2 else list(c)
        scored = sorted(pool, key=lambda g: (-c[g] * math.log(1 + len(counts) / df[g])
                                             * (1 + 1.0 * (len(g) - 1)), g))
        out.append([surface[g].most_common(1)[0][0] for g in scored])
    return out


def heading_for(headings: list[tuple[float, str]], start: float, end: float) -> str | None:
    """The screen's heading shown longest within [start, end), if any (``headings``: (time
    it appears, text), in time order; each lasts until the next)."""
    shown: dict[str, float] = {}
    ordered = sorted(headings)
    for k, (t, title) in enumerate(ordered):
        until = ordered[k + 1][0] if k + 1 < len(ordered) else end
        overlap = min(until, end) - max(t, start)
        if overlap > 0 and title.strip():
            key = " ".join(title.split())
            shown[key] = shown.get(key, 0.0) + overlap
    return max(shown, key=lambda k: shown[k]) if shown else None


def _as_title(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def describe(segments: list[Segment], starts: list[int], end: int | None = None,
             headings: list[tuple[float, str]] | None = None) -> list[tuple[str, str]]:
    """(title, summary) per chapter (``starts`` up to segment index ``end``): the screen's
    heading for that span when there is one, else the chapter's key noun phrase — never a
    list of keywords."""
    bounds = starts + [len(segments) if end is None else end]
    texts = [" ".join(s.text.strip() for s in segments[a:b]) for a, b in zip(bounds, bounds[1:])]
    phrases = key_phrases(texts)
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        title = None
        if headings and b > a:
            title = heading_for(headings, segments[a].start, segments[b - 1].end)
        if title is None or title.lower() in used:
            title = next((_as_title(p) for p in phrases[i] if p.lower() not in used),
                         f"Part {i + 1}")
        used.add(title.lower())
        out.append((title, first_sentence(texts[i])))
    return out
