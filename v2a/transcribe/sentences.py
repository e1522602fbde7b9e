"""Re-cut a transcript at sentence ends, so every segment is one sentence (or a bounded piece).

Whisper cuts its output into segments of its 30-second windows, not of the speech: a topic can
change in the middle of a segment, and a segment can end mid-sentence. Chapters start at segment
starts, so a transcript cut at sentences lets a chapter start at any sentence — at its first
word — and never in the middle of one. Word timestamps give each sentence its exact times;
segments without words (subtitle cues) get word times spread over the cue by length.

A sentence longer than ``MAX_S`` seconds (speech without punctuation) is cut at the original
segment boundaries inside it, then at its longest pause, so no segment grows unbounded. A
sentence longer than ``PAUSE_SPLIT_MIN_S`` is also cut where its measured words pause for
``PAUSE_SPLIT_S`` or more: Whisper runs two speakers, or the end of one recording and the start
of the next, into one unpunctuated "sentence", and a chapter must be able to start at the pause.
"""

from __future__ import annotations

import re

from ..models import Segment, Word

# a word ending a sentence: . ! ? … and CJK full stops, optionally followed by quotes/brackets
_END = re.compile(r"[.!?…。！？]['\"”’)\]」』]*$")
# "e.g." "Dr." "3." in "3.5": not sentence ends when followed by a lowercase word/digit
_ABBREV = re.compile(r"^(?:e\.g|i\.e|etc|vs|dr|mr|mrs|ms|prof|fig|no|cf)\.$", re.IGNORECASE)
MAX_S = 30.0
MIN_WORDS = 3  # a fragment shorter than this joins its neighbour ("Okay." "So.")
PAUSE_SPLIT_MIN_S = 8.0  # sentences shorter than this are not cut at pauses
PAUSE_SPLIT_S = 0.7  # a silence between two words this long is a place a chapter may start


def _words(seg: Segment) -> list[Word]:
    """The segment's words; for a segment without word times, words spread over it by length."""
    if seg.words:
        return list(seg.words)
    toks = seg.text.split()
    if not toks:
        return []
    total = sum(len(t) + 1 for t in toks)
    span = max(0.0, seg.end - seg.start)
    out, t = [], seg.start
    for tok in toks:
        d = span * (len(tok) + 1) / total
        out.append(Word(start=round(t, 3), end=round(t + d, 3), text=f" {tok}"))
        t += d
    return out


def _ends_sentence(word: Word, nxt: Word | None) -> bool:
    w = word.text.strip()
    if not _END.search(w) or _ABBREV.match(w):
        return False
    if nxt is None:
        return True
    n = nxt.text.strip()
    # "3." followed by "5" or a lowercase continuation is not an end
    return not (n[:1].isdigit() and w[:-1].isdigit()) and not n[:1].islower()


# scripts written without spaces between words (Whisper's words carry none for them)
_NO_SPACE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
                       r"\u3000-\u303f\uff00-\uffef]")
_CLOSING = re.compile(r"^[,.;:!?%)\]}’”'…]")


def _text(words: list[Word]) -> str:
    """The words as text, spaced as spoken. Whisper's words carry their own leading space
    (" token", "-8"); words stored without one are spaced by the script they are in."""
    if any(w.text[:1].isspace() for w in words):
        return " ".join("".join(w.text for w in words).split())
    out = ""
    for w in words:
        t = w.text.strip()
        if not t:
            continue
        if out and not (_CLOSING.match(t) or (_NO_SPACE.match(t[0]) and _NO_SPACE.match(out[-1]))):
            out += " "
        out += t
    return out


def _split_long(words: list[Word], breaks: set[int]) -> list[list[Word]]:
    """Cut an over-long run of words: at the original segment starts, then at long pauses."""
    pieces: list[list[Word]] = []
    cur: list[Word] = []
    for i, w in enumerate(words):
        if cur and i in breaks and cur[-1].end - cur[0].start >= MAX_S / 2:
            pieces.append(cur)
            cur = []
        cur.append(w)
    if cur:
        pieces.append(cur)
    out: list[list[Word]] = []
    for p in pieces:
        while p and p[-1].end - p[0].start > MAX_S and len(p) > 1:
            gaps = [(p[i + 1].start - p[i].end, i) for i in range(len(p) - 1)
                    if p[i].end - p[0].start >= MAX_S / 3]
            _, cut = max(gaps or [(0.0, len(p) // 2)])
            out.append(p[: cut + 1])
            p = p[cut + 1:]
        if p:
            out.append(p)
    return out


def split_at_pauses(words: list[Word], measured: set[int]) -> list[list[Word]]:
    """Cut a long run of words where two measured words (ids in ``measured``) are at least
    ``PAUSE_SPLIT_S`` apart, keeping at least ``MIN_WORDS`` words in every piece."""
    if len(words) < 2 * MIN_WORDS or words[-1].end - words[0].start < PAUSE_SPLIT_MIN_S:
        return [words]
    pieces: list[list[Word]] = []
    cur: list[Word] = []
    for i, w in enumerate(words):
        prev = words[i - 1] if i else None
        if (prev is not None and len(cur) >= MIN_WORDS and len(words) - i >= MIN_WORDS
                and id(prev) in measured and id(w) in measured
                and w.start - prev.end >= PAUSE_SPLIT_S):
            pieces.append(cur)
            cur = []
        cur.append(w)
    pieces.append(cur)
    return pieces


def split_sentences(segments: list[Segment]) -> list[Segment]:
    """Sentence-level segments (ids from 0, in time order) from any segmentation."""
    words: list[Word] = []
    starts: set[int] = set()  # indexes of words that began an original segment
    spread: set[int] = set()  # ids of words whose times were spread over a cue, not measured
    for seg in segments:
        ws = _words(seg)
        if ws:
            starts.add(len(words))
            words += ws
            if not seg.words:
                spread.update(id(w) for w in ws)
    if not words:
        return []
    sentences: list[list[Word]] = []
    cur: list[Word] = []
    for i, w in enumerate(words):
        cur.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if _ends_sentence(w, nxt) or nxt is None:
            sentences.append(cur)
            cur = []
    # fragments ("Okay." "Right.") join the sentence after them, or before at the end
    merged: list[list[Word]] = []
    carry: list[Word] = []
    for s in sentences:
        s = carry + s
        carry = []
        if len(s) < MIN_WORDS:
            carry = s
            continue
        merged.append(s)
    if carry:
        if merged:
            merged[-1] += carry
        else:
            merged.append(carry)
    measured_ids = {id(w) for w in words if id(w) not in spread}
    merged = [p for s in merged for p in split_at_pauses(s, measured_ids)]
    out: list[Segment] = []
    offset = 0
    index_of = {id(w): i for i, w in enumerate(words)}
    for s in merged:
        first = index_of[id(s[0])]
        local_breaks = {i - first for i in starts if first < i < first + len(s)}
        for piece in (_split_long(s, local_breaks) if s[-1].end - s[0].start > MAX_S else [s]):
            measured = [w for w in piece if id(w) not in spread]
            out.append(Segment(id=offset, start=round(piece[0].start, 3),
                               end=round(max(piece[-1].end, piece[0].start), 3),
                               text=_text(piece), words=measured))
            offset += 1
    return out
