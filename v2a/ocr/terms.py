"""Terms worth spelling right, from the screen; and fixing the transcript with them.

A term is what speech recognition gets wrong and a reader notices: identifiers (``get_stats``,
``cl100k_base``), names with digits or inner capitals (``UTF-8``, ``GPT-4``, ``tiktoken``'s
``RapidOCR``-style), acronyms, Title Case names, and an acronym's expansion ("byte pair encoding
(BPE)"). Plain words of the language are not terms.

``fix_words`` replaces 1–4-word stretches of the transcript that sound like a term (≥ 80%
similar once both are spelled as spoken: "tick token" → ``tiktoken``). Only unusual terms are
sought — ones that are not made of ordinary words (``tiktoken``, ``cl100k_base``), since
"merge" heard where the screen says ``merges``, or "most common" for ``most_common``, is the
speaker's English, not a mishearing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from ..models import GlossaryTerm, Word
from ..write.candidates import _STOP

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:-\d+)?")
_TITLE_RUN = re.compile(r"\b(?:[A-Z][a-z]+(?:\s+|$)){2,4}")
_ACRONYM_DEF = re.compile(r"((?:[A-Za-z]+\s+){1,4}[A-Za-z]+)\s*\(([A-Z]{2,6})\)")
# common English words that look like names when they start a line or a title
_COMMON = set(_STOP) | set("""the this that with from into over then when what will build one
use used using make made list new next first last each more most only also just like here there
we our you your they their it its is are was were be been has have had not no yes true false none
numbers number text string strings word words line lines value values data file files code name
names print return import def class for while if else elif in of to and or as at by on up out
pre split per chunk groups group apply readme""".split())
PYTHON_BUILTINS = {"print", "len", "list", "range", "dict", "set", "int", "str", "max", "min",
                   "open", "read", "zip", "bytes", "join", "items", "encode", "decode", "append",
                   "key", "get", "self", "idx", "ids", "out", "pair", "i", "p0", "p1"}


def normalize(text: str) -> str:
    """NFKC (full-width punctuation from OCR → ASCII) and single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _is_term(tok: str) -> bool:
    t = tok.strip("._-")
    if len(t) < 3 or t.lower() in _COMMON or t.lower() in PYTHON_BUILTINS:
        return False
    if "_" in t or "." in t:
        return True  # snake_case, dotted.names
    if re.search(r"\d", t) and re.search(r"[A-Za-z]", t):
        return True  # UTF-8, GPT-4, cl100k
    if re.fullmatch(r"[A-Z]{2,6}s?", t):
        return True  # BPE, UTF
    return bool(re.search(r"[a-z][A-Z]|[A-Z]{2}[a-z]", t))  # camelCase, RapidOCR


def _is_name(part: str) -> bool:
    return part.lower() not in _COMMON and part.lower() not in PYTHON_BUILTINS


def extract(texts: list[str], limit: int = 40) -> list[str]:
    """Terms on screen, most frequent first (a term counts once per frame)."""
    counts: Counter[str] = Counter()
    for text in texts:
        found: set[str] = set()
        text = normalize(text)
        for m in _IDENT.finditer(text):
            tok = m.group(0).rstrip(".")
            if _is_term(tok):
                found.add(tok)
            if "." in tok:  # tiktoken.get_encoding: the module's name is a term of its own
                found.update(p for p in tok.split(".") if len(p) >= 5 and _is_name(p))
        for m in _ACRONYM_DEF.finditer(text):
            words, acro = m.group(1).split(), m.group(2)
            if len(words) >= len(acro):
                tail = words[-len(acro):]
                if "".join(w[0] for w in tail).upper() == acro:
                    found.add(" ".join(tail))
                    found.add(acro)
        for m in _TITLE_RUN.finditer(text):
            phrase = m.group(0).strip()
            if not all(w.lower() in _COMMON for w in phrase.split()):
                found.add(phrase)
        # sorted: a set's order changes with every process (string hashing), and the order of
        # ties would change the prompts, so the LLM cache would miss on the same talk
        counts.update(sorted(found))
    return [t for t, _ in counts.most_common(limit)]


def ordinary(word: str) -> bool:
    """A word of everyday text: one token of a large BPE vocabulary (cl100k), as " word"."""
    from ..llm.usage import count_tokens

    return not word or count_tokens(" " + word) == 1


def unusual(term: str) -> bool:
    """A term not made only of ordinary words: worth respelling a near miss into."""
    return not all(ordinary(w) for w in spoken(term).split())


def spoken(term: str) -> str:
    """How a term sounds, written as plain lowercase words: get_stats → get stats."""
    t = re.sub(r"[_.\-]+", " ", term)
    t = re.sub(r"([a-z])([A-Z])", r"\1 \2", t)
    return " ".join(t.lower().split())


def fix_words(words: list[Word], terms: list[str], threshold: float = 80.0
              ) -> tuple[list[Word], list[tuple[str, str]]]:
    """Words with misheard terms replaced; returns (words, [(heard, term)])."""
    from rapidfuzz import fuzz

    targets = []
    for term in terms:
        sp = spoken(term)
        letters = sp.replace(" ", "")
        if len(letters) >= 5 and unusual(term):
            targets.append((term, sp, len(sp.split())))
    if not targets or not words:
        return words, []
    out: list[Word] = []
    fixes: list[tuple[str, str]] = []
    i = 0
    plain = [re.sub(r"[^\w'-]+", "", w.text.lower()) for w in words]
    while i < len(words):
        best = None
        for term, sp, n_term in targets:
            for n in range(max(1, n_term - 1), min(4, n_term + 2) + 1):
                if i + n > len(words):
                    break
                heard = " ".join(plain[i:i + n])
                if not heard:
                    continue
                if heard.replace(" ", "") == sp.replace(" ", ""):
                    spelled = " ".join(w.text.strip() for w in words[i:i + n]).strip(".,;:!?")
                    if spelled.lower() != term.lower() and (best is None or best[0] < 100.0):
                        best = (100.0, n, term)  # the right sound, spelled otherwise
                    continue
                window = plain[i:i + n]
                if all(p in _COMMON for p in window):
                    continue
                # a common word at either edge is the sentence around the term, not the term
                edges = sp.split()
                if (window[0] in _COMMON and window[0] != edges[0]) or (
                        window[-1] in _COMMON and window[-1] != edges[-1]):
                    continue
                h, t = heard.replace(" ", ""), sp.replace(" ", "")
                if not 0.8 <= len(h) / len(t) <= 1.25:
                    continue
                # every heard word must sound like a piece of the term ("met" is not)
                if any(fuzz.partial_ratio(w, t) < 60 for w in window):
                    continue
                score = fuzz.ratio(h, t)
                if score >= threshold and (best is None or score > best[0]):
                    best = (score, n, term)
        if best is None:
            out.append(words[i])
            i += 1
            continue
        _, n, term = best
        span = words[i:i + n]
        tail = re.sub(r"^.*?([.,;:!?]*)$", r"\1", span[-1].text)
        heard = " ".join(w.text.strip() for w in span)
        if heard.strip(".,;:!?") != term:
            fixes.append((heard, term))
        lead = span[0].text[: len(span[0].text) - len(span[0].text.lstrip())]
        out.append(Word(start=span[0].start, end=span[-1].end, text=lead + term + tail,
                        probability=span[0].probability))
        i += n
    return out, fixes


def replace_variants(words: list[Word], editor: list[GlossaryTerm]
                     ) -> tuple[list[Word], list[tuple[str, str]]]:
    """Words with each editor-listed misheard form ("Parent Coding") replaced by its term."""
    forms = []
    for t in editor:
        for v in t.variants:
            toks = [re.sub(r"[^\w'-]+", "", w.lower()) for w in v.split()]
            if toks:
                forms.append((toks, t.term))
    forms.sort(key=lambda f: -len(f[0]))
    plain = [re.sub(r"[^\w'-]+", "", w.text.lower()) for w in words]
    out: list[Word] = []
    fixes: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        for toks, term in forms:
            n = len(toks)
            if plain[i:i + n] == toks:
                span = words[i:i + n]
                tail = re.sub(r"^.*?([.,;:!?]*)$", r"\1", span[-1].text)
                fixes.append((" ".join(w.text.strip() for w in span), term))
                lead = span[0].text[: len(span[0].text) - len(span[0].text.lstrip())]
                out.append(Word(start=span[0].start, end=span[-1].end, text=lead + term + tail,
                                probability=span[0].probability))
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out, fixes
