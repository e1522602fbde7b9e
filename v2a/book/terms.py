"""The series glossary, the index of key terms and the cross-references between parts.

Which terms (no LLM): a *candidate* is a term some video showed on screen (``screen.json``), an
editor fixed (``glossary.json``), or the speaker defined in a strict form and said in two
chapters ("the tokenizer is the piece …"); it is a *key term* when the speaker also says it
(whole words, case-insensitive) and either explains it somewhere or uses it in two parts or
more. Where: a term is *explained* in the first sentence that defines it in a definitional form
("A token is a …", "… and the token is the …", "… is called a token", "token means …", "token,
which is/turns/maps …", "… is the token."); each part's first mention is listed beside it. A
term's *home* is where it is explained (else its first mention), and a later part that uses it
gets a cross-reference there: at most ``PER_CHAPTER`` per chapter, a term
once per part, never inside code (cross-references are their own line under the heading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..glossary import FILENAME as GLOSSARY
from ..glossary import load as load_glossary
from ..models import Glossary, GlossaryTerm
from ..workspace import write_json
from .models import PartData

PER_CHAPTER = 3
_ARTICLE = r"(?:an?|the|one|each|every)"
# what follows "X is" when it is said to explain X (not "X is also fine here")
_DEF_START = r"(?:an?|the|one|what|how|when|where|just|simply|basically|essentially|any|some)"
# a sentence may open with a discourse word before the term: "So the softmax is simply …"
_LEAD = r"^(?:(?:so|now|well|and|here|then|ok|okay|right)\b,?\s+)?"
# ... or at the start of a clause: "It sees integers, and the tokenizer is the piece that …"
_CLAUSE = rf"(?:{_LEAD}|[,;:]\s*(?:and\s+|but\s+)?|\b(?:and|but|because|so)\s+)"
# what "X, which …" does when it says what X is or does: "UTF-8, which turns each character …"
_WHICH = r"(?:is|are|means|turns|gives|maps|converts|returns|holds|stores|keeps|counts)"
_STOP = {"the", "and", "for", "you", "this", "that", "with", "from", "are", "was", "not", "all",
         "can", "one", "out", "get", "set", "new", "use", "see", "now", "how", "what", "data",
         "text", "list", "file", "code", "true", "false", "none", "self", "return", "import"}


@dataclass(frozen=True)
class Place:
    part: int  # 1-based, playlist order
    chapter: int  # the chapter's number in its part
    second: float
    defined: bool = False
    sentence: str = ""  # the defining sentence (empty for a mention)


@dataclass
class Entry:
    term: str
    places: list[Place] = field(default_factory=list)  # the definition first, then by part

    @property
    def home(self) -> Place:
        return self.places[0]


def term_pattern(term: str) -> str:
    """The term as whole words; spaces, hyphens and dots match any of them or none."""
    parts = [re.escape(p) for p in re.split(r"[\s\-_.]+", term.strip()) if p]
    return r"(?<![\w])" + r"[\s\-_.]?".join(parts) + r"s?(?![\w])"


def defines(sentence: str, term: str) -> bool:
    """Whether the sentence explains the term (one of the forms in the module docstring)."""
    t = term_pattern(term)
    forms = (
        rf"{_CLAUSE}(?:{_ARTICLE}\s+)?{t}\s*(?:\([^)]*\)\s*)?(?:is|are)\s+{_DEF_START}\b",
        rf"{_LEAD}(?:{_ARTICLE}\s+)?{t}\s+(?:means|refers to|stands for|is short for|is defined as)\b",
        rf"\b(?:called|known as|named|we call(?: it| this| them)?|term)\s+(?:{_ARTICLE}\s+)?{t}",
        rf"\b{t},?\s+(?:which|that)\s+{_WHICH}\b",
        # the reverse, closing the sentence: "The ordered list of merges is the tokenizer."
        rf"\s(?:is|are)\s+(?:called\s+)?(?:an?|the)\s+{t}\s*[.!]?$",
        rf"\b(?:define|definition of)\s+(?:{_ARTICLE}\s+)?{t}",
    )
    s = sentence.strip()
    return any(re.search(f, s, re.IGNORECASE) for f in forms)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


# a term the speaker defines though no screen shows it: "the tokenizer is the piece …"
_NAMED = r"([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*){0,2})"
_SAID_FORMS = (
    re.compile(rf"(?:^|[,;:]\s*|\b(?:and|but|so)\s+)(?:an?|the) {_NAMED} (?:is|are) "
               rf"(?:an?|the|one|what|how|when|where|just|simply) ", re.I),
    re.compile(rf"^(?:an?|the) {_NAMED} (?:means|refers to|stands for) ", re.I),
    re.compile(rf"\b(?:is|are) (?:called|known as) (?:an?|the)? ?{_NAMED}[.!]?$", re.I),
)
_NOT_A_TERM = {"it", "this", "that", "these", "those", "which", "what", "result", "answer",
               "idea", "point", "thing", "way", "reason", "problem", "question", "goal",
               "output", "input", "first", "next", "last", "same", "other", "rest", "end"}


def spoken_terms(parts: list[PartData]) -> list[str]:
    """Terms the speaker defines in a strict form and says in two chapters or more: a key
    concept need not be on screen (a talk's screen shows names, ``get_stats``, more often
    than the concepts it is about)."""
    found: dict[str, str] = {}
    for p in parts:
        for s in p.sections:
            for _, text in s.spoken:
                for sentence in _sentences(text):
                    for rx in _SAID_FORMS:
                        m = rx.search(sentence.strip())
                        if m and not set(m.group(1).lower().split()) & (_STOP | _NOT_A_TERM):
                            found.setdefault(m.group(1).lower(), m.group(1).lower())
    out = []
    for term in found.values():
        rx = re.compile(term_pattern(term), re.IGNORECASE)
        chapters = {(p.key, s.number) for p in parts for s in p.sections
                    if any(rx.search(t) for _, t in s.spoken)}
        if len(chapters) >= 2:
            out.append(term)
    return out


def candidates(parts: list[PartData], pooled: list[GlossaryTerm]) -> list[str]:
    """The editors' terms, the screen's, and the terms the speaker defines, without repeats
    or noise."""
    seen: dict[str, str] = {}
    for t in [g.term for g in pooled] + [t for p in parts for t in p.screen_terms] \
            + spoken_terms(parts):
        t = " ".join(t.split())
        key = t.casefold()
        if (len(t) < 3 or key in _STOP or not re.search(r"[A-Za-z]", t) or "/" in t
                or (re.search(r"\.\w{1,5}$", t) and " " not in t)):  # file names (talk.txt)
            continue
        seen.setdefault(key, t)
    return list(seen.values())


def build_index(parts: list[PartData], pooled: list[GlossaryTerm]) -> list[Entry]:
    """The key terms and where each is explained and first mentioned in each part."""
    out: list[Entry] = []
    for term in candidates(parts, pooled):
        rx = re.compile(term_pattern(term), re.IGNORECASE)
        first: dict[int, Place] = {}
        definition: Place | None = None
        for n, p in enumerate(parts, 1):
            for s in p.sections:
                for second, text in s.spoken:
                    if not rx.search(text):
                        continue
                    first.setdefault(n, Place(n, s.number, second))
                    if definition is None:
                        said = next((x for x in _sentences(text) if rx.search(x)
                                     and defines(x, term)), None)
                        if said:
                            definition = Place(n, s.number, second, True, said)
        if not first or (definition is None and len(first) < 2):
            continue
        places = [definition] if definition else []
        places += [pl for n, pl in sorted(first.items())
                   if not (definition and pl.part == definition.part
                           and pl.chapter == definition.chapter)]
        if definition is None:
            places.sort(key=lambda pl: pl.part)
        out.append(Entry(term, places))
    # a shorter term inside a longer key term said at the same places is the same entry
    out.sort(key=lambda e: e.term.casefold())
    return out


def crossrefs(parts: list[PartData], index: list[Entry],
              per_chapter: int = PER_CHAPTER) -> dict[tuple[int, int], list[Entry]]:
    """(part, chapter) → the terms whose home is an earlier part, first used there."""
    out: dict[tuple[int, int], list[Entry]] = {}
    for n, p in enumerate(parts, 1):
        done: set[str] = set()
        for s in p.sections:
            spoken = " ".join(t for _, t in s.spoken)
            refs = []
            for e in sorted(index, key=lambda e: (not e.home.defined, e.home.part, e.term)):
                if e.home.part >= n or e.term in done:
                    continue
                if re.search(term_pattern(e.term), spoken, re.IGNORECASE):
                    done.add(e.term)
                    refs.append(e)
            if refs:
                out[(n, s.number)] = refs[:per_chapter]
    return out


def pool_glossary(root: Path, parts: list[PartData]) -> list[GlossaryTerm]:
    """The series glossary: the batch's ``glossary.json`` plus every editor's fix made in one
    video, written back to the batch's file so the next run of every video applies it (the
    transcribe stage reads it). Returns the pooled editor terms."""
    path = root / GLOSSARY
    batch = load_glossary(path)
    terms = {t.term.casefold(): t for t in batch.terms}
    changed = False
    for p in parts:
        for t in p.editor_terms:
            if t.source != "editor":
                continue
            have = terms.get(t.term.casefold())
            if have is None:
                terms[t.term.casefold()] = GlossaryTerm(term=t.term, variants=list(t.variants))
                changed = True
            elif set(t.variants) - set(have.variants):
                have.variants = sorted(set(have.variants) | set(t.variants))
                changed = True
    if changed:
        write_json(path, Glossary(terms=list(terms.values())))
    return list(terms.values())
