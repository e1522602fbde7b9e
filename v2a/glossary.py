"""Glossaries: terms as they should be spelled and the misheard forms that stand for them.

``glossary.json`` in a work folder holds that video's terms; in a batch root (the folder with
``batch.json``), every video's. Both are optional and hand-editable (``Glossary`` in
``v2a.models``). An editor's "replace everywhere" in ``v2a review`` adds to both, so the next
videos of a batch come out right. The transcribe stage applies them to every transcript it
makes; a glossary is not part of that stage's key on purpose: re-running Whisper because a term
was added would throw away the editor's line fixes in the transcript they are reviewing.
"""

from __future__ import annotations

import re
from pathlib import Path

from .models import Glossary, GlossaryTerm, Screen, Segment, Transcript, Word
from .stages import SCREEN
from .workspace import BATCH_FILE, Workspace, read_model, write_json

FILENAME = "glossary.json"


# --- where they live ------------------------------------------------------------------------------
def glossary_paths(ws: Workspace) -> list[Path]:
    """Where a video's glossaries are (or would be written): its batch's first, when the
    folder is a video of a batch (``ROOT/videos/<slug>`` next to ``ROOT/batch.json``), then
    its own."""
    paths = [ws.path(FILENAME)]
    batch_root = ws.root.parent.parent
    # a Ray worker's scratch copy has the batch's glossary beside ``videos/`` but no batch.json
    if ws.root.parent.name == "videos" and ((batch_root / BATCH_FILE).exists()
                                           or (batch_root / FILENAME).exists()):
        paths.insert(0, batch_root / FILENAME)
    return paths


def load(path: Path) -> Glossary:
    """A glossary file, or an empty one when there is none. A damaged one is refused
    (``ArtifactError`` names the file and the fix) rather than silently rewritten."""
    if not path.exists():
        return Glossary()
    return read_model(path, Glossary)


def editor_terms(ws: Workspace) -> list[GlossaryTerm]:
    """The terms of the batch's and the video's glossaries; the video's entry wins."""
    terms: dict[str, GlossaryTerm] = {}
    for p in glossary_paths(ws):
        for t in load(p).terms:
            terms[t.term.lower()] = t
    return list(terms.values())


def screen(ws: Workspace) -> Screen | None:
    """The video's screen.json (the frames show where and when each term is on screen)."""
    p = ws.path(SCREEN.name)
    return read_model(p, Screen) if p.exists() else None


def screen_terms(ws: Workspace) -> list[str]:
    s = screen(ws)
    return s.terms if s is not None else []


def all_terms(ws: Workspace, limit: int = 30) -> list[str]:
    """Editor terms first, then the screen's, without repeats (for prompts and Whisper)."""
    seen: dict[str, str] = {}
    for t in [g.term for g in editor_terms(ws)] + screen_terms(ws):
        seen.setdefault(t.lower(), t)
    return list(seen.values())[:limit]


def add_term(path: Path, term: str, variant: str) -> Glossary:
    """Record that ``variant`` was misheard for ``term`` (an editor's fix)."""
    g = load(path)
    entry = next((t for t in g.terms if t.term == term), None)
    if entry is None:
        entry = GlossaryTerm(term=term, source="editor")
        g.terms.append(entry)
    if variant.casefold() != term.casefold() and \
            variant.casefold() not in (v.casefold() for v in entry.variants):
        entry.variants.append(variant)
    write_json(path, g)
    return g


# --- replacing ------------------------------------------------------------------------------------
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """``phrase`` as whole words, any case, any run of spaces between its words."""
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def occurrences(segments: list[Segment], phrase: str) -> list[int]:
    """Ids of the segments that say ``phrase``."""
    if not phrase.split():
        return []
    pat = phrase_pattern(phrase)
    return [s.id for s in segments if pat.search(s.text)]


def apply_variants(text: str, terms: list[GlossaryTerm]) -> tuple[str, int]:
    """Replace every listed misheard form in ``text`` with its term; (text, replacements)."""
    n = 0
    for t in terms:
        for v in sorted(t.variants, key=len, reverse=True):
            if not v.split():
                continue
            text, k = phrase_pattern(v).subn(t.term.replace("\\", "\\\\"), text)
            n += k
    return text, n


def replace_in(segment: Segment, find: str, replace: str) -> bool:
    """Replace ``find`` by ``replace`` in one segment (its words too); True if it changed."""
    pat = phrase_pattern(find)
    text, n = pat.subn(replace.replace("\\", "\\\\"), segment.text)
    if not n:
        return False
    segment.text = text
    segment.words = _replace_words(segment.words, find, replace)
    return True


def _replace_words(words: list[Word], find: str, replace: str) -> list[Word]:
    """The same phrase in the timed words: its words become one word spanning their times."""
    want = [w.lower() for w in re.findall(r"\w+", find)]
    if not want or not words:
        return words
    out, i = [], 0
    while i < len(words):
        got = [t for w in words[i:i + len(want)] for t in re.findall(r"\w+", w.text.lower())]
        if got == want:
            first, last = words[i], words[i + len(want) - 1]
            lead = " " if first.text.startswith(" ") else ""
            out.append(Word(start=first.start, end=last.end, text=lead + replace,
                            probability=None))
            i += len(want)
        else:
            out.append(words[i])
            i += 1
    return out


def apply(transcript: Transcript, glossaries: list[Glossary]) -> int:
    """Replace every variant by its term in ``transcript`` (in place); segments changed."""
    changed: set[int] = set()
    for g in glossaries:
        for t in g.terms:
            for v in t.variants:
                for s in transcript.segments:
                    if replace_in(s, v, t.term):
                        changed.add(s.id)
    return len(changed)
