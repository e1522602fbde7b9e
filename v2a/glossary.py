"""Glossaries: terms as they should be spelled and the misheard forms that stand for them.

``glossary.json`` in a work folder holds that video's terms; in a batch root, every video's.
An editor's transcript fix adds to both (``v2a review``); the transcribe stage applies them to
every transcript it makes, so the next videos of a batch come out right. A glossary is read
when a transcript is made: adding a term does not re-run speech recognition.
"""

from __future__ import annotations

import re
from pathlib import Path

from .models import Glossary, GlossaryTerm, Segment, Transcript, Word
from .workspace import Workspace, read_model, write_json

FILENAME = "glossary.json"


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


def glossary_paths(ws: Workspace) -> list[Path]:
    """The work folder's glossary, and its batch's when the folder is a video of a batch
    (``ROOT/videos/<slug>`` next to ``ROOT/batch.json``)."""
    paths = [ws.path(FILENAME)]
    batch_root = ws.root.parent.parent
    if ws.root.parent.name == "videos" and (batch_root / "batch.json").exists():
        paths.insert(0, batch_root / FILENAME)
    return paths


def load(path: Path) -> Glossary:
    if not path.exists():
        return Glossary()
    try:
        return read_model(path, Glossary)
    except ValueError:
        return Glossary()  # a damaged glossary only means no automatic fixes


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
