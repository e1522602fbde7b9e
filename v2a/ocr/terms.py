"""Terms worth spelling right, from the screen; and fixing the transcript with them.

A term is what speech recognition gets wrong and a reader notices: identifiers (``get_stats``,
``cl100k_base``), names with digits or inner capitals (``UTF-8``, ``GPT-4``, ``tiktoken``'s
``RapidOCR``-style), acronyms, Title Case names, and an acronym's expansion ("byte pair encoding
(BPE)"). Plain words of the language are not terms.

``respell`` writes misheard terms as the screen writes them, by spelling, by sound (a Metaphone
key from jellyfish: "Google column" → Google Colab) and by letters and digits ("Dpt2", "DPT two"
→ GPT-2; "Bp", "B P E" → BPE; "LMS" → LLMs, letters whose names rhyme counting half). How much
support a match needs from the screen depends on its strength: an unusual spelling or a matching
version number anywhere in the talk; capitals one rhyme off, or everyday words ("tick token"),
only within a few minutes of a frame showing the term; weak ones ("Bp" → BPE) only within
``NEAR_S`` seconds; a far-off sound ("number 2" → Llama 2) only when a word said around it is on
that frame's line too. Each change comes with the frame that shows the term (``Respelling``).
Plain words of the language are left alone: "merge" heard where the screen says ``merges``, or
"most common" for ``most_common``, is the speaker's English, not a mishearing.

Where the recogniser cut or joined a term's words, a stretch of 1-3 heard words is matched on
Double Metaphone keys with the word boundaries removed ("real U" → ReLU, "my parent coding" →
byte pair encoding), only where it guessed a word of it and the screen shows the term near; an
everyday phrase ("the code") only while the term is on screen and the whole stretch is unsure.
An identifier the code shows heard as a noun of the doer ("mergers" for ``merges``: never on
screen, one sound more) is respelled near that code, but never the word's regular English
forms ("merged", "merging"). An identifier said as its words ("zero grad") is respelled while
the screen shows it if the recogniser doubted it. The talk's own vocabulary — terms heard
surely elsewhere, the video's title and description (``metadata_terms``) — backs only strong
matches ("DPT-4" → GPT-4): it has no time on screen.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ..models import GlossaryTerm, Respelling, Screen, Word
from ..stopwords import STOP as _STOP

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:-\d+)?")
_METHOD = re.compile(r"(?<=[\w)\]])\.([A-Za-z_]\w{3,})\b(?![.\w])")
_TITLE_RUN = re.compile(r"\b(?:[A-Z][a-z]+(?:\s+|$)){2,4}")
# "Llama 2", "Python 3.12": a name with its version number (not "Step 2", "Figure 1")
_NAME_NUMBER = re.compile(r"\b([A-Z][a-z]{2,})[ -](\d+(?:\.\d+)?)\b")
_NUMBERED_PARTS = set("""step figure fig table part chapter section page line cell lecture
lesson version week day level exercise example item slide question""".split())
# a capitalised word inside a line ("open it in Colab"): a name, when it is not a plain word
_INNER_CAPITAL = re.compile(r"(?<=[a-z0-9,;:] )[A-Z][a-z]{3,}\b")
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


def extract(texts: list[str], limit: int = 100) -> list[str]:
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
                found.update(p for p in tok.split(".") if (len(p) >= 5 and _is_name(p))
                             or _is_term(p))  # nn.ReLU: ReLU
        for m in _METHOD.finditer(text):
            # a method or attribute that is no everyday word: .iloc[, .fillna(
            if _is_term(m.group(1)) or (_is_name(m.group(1)) and not ordinary(m.group(1))):
                found.add(m.group(1))
        for m in _ACRONYM_DEF.finditer(text):
            words, acro = m.group(1).split(), m.group(2)
            if len(words) >= len(acro):
                tail = words[-len(acro):]
                if "".join(w[0] for w in tail).upper() == acro:
                    found.add(" ".join(tail))
                    found.add(acro)
        for m in _NAME_NUMBER.finditer(text):
            if m.group(1).lower() not in _NUMBERED_PARTS and _is_name(m.group(1)):
                found.add(f"{m.group(1)} {m.group(2)}")
        for m in _INNER_CAPITAL.finditer(text):
            if _is_name(m.group(0)) and not ordinary(m.group(0).lower()) and \
                    not ordinary(m.group(0)):
                found.add(m.group(0))
        for m in _TITLE_RUN.finditer(text):
            run = m.group(0).split()
            while run and run[0].lower() in _COMMON:  # "The Llama": the sentence's "The"
                run.pop(0)
            if len(run) < 2:
                continue
            phrase = " ".join(run)
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


# --- respelling by sound, letters and digits, with the screen as evidence -------------------------
# Letters whose names rhyme, which speech recognition swaps ("Dpt2" for GPT-2, "B" for "P")
_LETTER_GROUPS = ("BCDEGPTVZ", "AJK", "FLMNSX", "IY", "QUW", "HR")
_SOUND_OF = {c: g for g in _LETTER_GROUPS for c in g}
# number words only: "to"/"for" after a name are far more often the sentence ("GPT to write")
_NUMBER_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ACRO_TERM = re.compile(r"([A-Z]{2,6})(s?)(?:[- ]?(\d+(?:\.\d+)?))?")
_NAME_DIGIT_TERM = re.compile(r"([A-Z][a-z]{2,})[- ](\d+(?:\.\d+)?)")
_HEARD_TOKEN = re.compile(r"([A-Za-z]{1,6})(?:-?(\d+(?:\.\d+)?))?")
NEAR_S = 90.0  # a weak match needs the term on screen this close (seconds) to where it is said
# capitals one rhyme off ("LMS" for LLMs, but also "PPE" for BPE) need the term on screen within
# a few minutes; an unusual spelling or a matching version number ("Dpt2") anywhere in the talk
SAME_PART_S = 300.0
ANYWHERE = float("inf")
_EDGE = ".,;:!?\"')"


@dataclass(frozen=True)
class Sighting:
    """Where the screen shows a term: a keyframe, from ``time`` until the next one."""

    time: float
    end: float
    scene: int
    keyframe: str
    line: str  # the line of text that shows it (its other words are context)


def sightings(screen: Screen | None, wanted: list[str]) -> dict[str, list[Sighting]]:
    """For each term, the frames whose text shows it (any case; a plural's singular counts)."""
    if screen is None or not screen.frames:
        return {}
    frames = sorted(screen.frames, key=lambda f: f.time)
    out: dict[str, list[Sighting]] = {}
    pats = {t: _shown_pattern(t) for t in wanted}
    for k, f in enumerate(frames):
        end = frames[k + 1].time if k + 1 < len(frames) else f.time + NEAR_S
        lines = [normalize(x.text) for x in f.lines] + ([normalize(f.title)] if f.title else [])
        for term, pat in pats.items():
            line = next((x for x in lines if pat.search(x)), None)
            if line is not None:
                out.setdefault(term, []).append(Sighting(f.time, end, f.scene, f.keyframe, line))
    return out


def _shown_pattern(term: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", term.rstrip("s") if
                                           _ACRO_TERM.fullmatch(term) else term) if p]
    return re.compile(r"(?<![\w])" + r"[\s\-]*".join(parts) + r"s?(?![\w])", re.IGNORECASE)


def nearest(seen: list[Sighting], start: float, end: float) -> tuple[float, Sighting] | None:
    """The sighting closest in time to [start, end], with its distance in seconds (0: on
    screen while it is said)."""
    best = None
    for s in seen:
        d = max(0.0, s.time - end, start - s.end)
        if best is None or d < best[0]:
            best = (d, s)
    return best


def _letter_cost(heard: str, term: str) -> float:
    """Edit cost between two letter sequences: a rhyming letter costs 0.5, another 1; a doubled
    letter heard once ("LMS" for LLMs) costs 0.5, any other missing or extra letter 1."""
    n, m = len(heard), len(term)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = float(i)
    for j in range(1, m + 1):
        d[0][j] = d[0][j - 1] + (0.5 if j > 1 and term[j - 1] == term[j - 2] else 1.0)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            a, b = heard[i - 1], term[j - 1]
            sub = 0.0 if a == b else 0.5 if _SOUND_OF.get(a, a) == _SOUND_OF.get(b, b) else 1.0
            skip = 0.5 if j > 1 and term[j - 1] == term[j - 2] else 1.0
            d[i][j] = min(d[i - 1][j - 1] + sub, d[i - 1][j] + 1.0, d[i][j - 1] + skip)
    return d[n][m]


def _bare(text: str) -> str:
    return text.strip().strip(_EDGE).strip("(\"'")


@dataclass
class _Heard:
    letters: str  # as heard, original case
    digits: str | None
    n: int  # words taken
    caps: bool  # written as capitals or spelled letter by letter: not an English word


def _heard_acronym(plain: list[str], i: int) -> list[_Heard]:
    """Readings of the words from ``i`` as an acronym, with a number after it or not:
    "Dpt2", "DPT-2", "DPT two", "B P E", "Bp", "LMS"."""
    out: list[_Heard] = []
    tok = plain[i]
    m = _HEARD_TOKEN.fullmatch(tok)
    letters, digits, n, caps = "", None, 0, False
    if m and len(m.group(1)) >= 2:
        word = m.group(1)
        if word.isupper():
            # "GET", "AND": capitals of an everyday word are the word, shouted or HTTP's
            if len(word) >= 3 and ordinary(word.lower()) and word.lower() not in _NON_WORDS \
                    and m.group(2) is None:
                return []
            letters, caps = word, True
        elif not ordinary(word) and len(word) <= 5:
            letters = word  # "Bp", "Dpt": not an English word
        else:
            return []
        digits, n = m.group(2), 1
    else:  # letter by letter: "B P E", "B. P. E."
        j = i
        while j < len(plain) and j - i < 6 and re.fullmatch(r"[A-Za-z]\.?", plain[j]):
            j += 1
        if j - i < 2:
            return []
        letters, n, caps = "".join(p[0] for p in plain[i:j]).upper(), j - i, True
    out.append(_Heard(letters, digits, n, caps))
    if digits is None and i + n < len(plain):
        nxt = plain[i + n].lower().lstrip("-")
        num = nxt if re.fullmatch(r"\d+(?:\.\d+)?", nxt) else _NUMBER_WORDS.get(nxt)
        if num is not None:
            out.append(_Heard(letters, num, n + 1, caps))
    return out


# all-capital forms that are everyday tokens but never words a speaker says as a word
_NON_WORDS = {"lms", "llm", "gpu", "cpu", "api", "ocr"}


@dataclass
class _Match:
    n: int
    term: str  # as it will be written
    score: float  # 0..100
    how: str
    within: float  # seconds from a sighting of the term that it needs (ANYWHERE: none)
    glued: str = ""  # letters heard run into the term ("MS" of "MSUTF8"), kept before it


def _match_acronym(plain: list[str], i: int, term: str) -> _Match | None:
    tm = _ACRO_TERM.fullmatch(term)
    if tm is None:
        return None
    base, plural, tdigits = tm.group(1), tm.group(2), tm.group(3)
    best = None
    for h in _heard_acronym(plain, i):
        if (h.digits or None) != (tdigits or None):
            continue
        up = h.letters.upper()
        forms = [(up, "")]
        if up.endswith("S") and len(up) > 2 and (plural or h.letters[-1] == "s"):
            forms.append((up[:-1], "s"))  # "LMS" heard for LLMs: plural s
        readings = []
        for letters, s in forms:
            spelled = base + s + (("-" + tdigits) if tdigits else "")
            if "-" in term or " " in term:
                spelled = base + s + term[len(base) + len(plural):]
            readings.append((_letter_cost(letters, base), spelled))
        if any(c == 0 and " ".join(plain[i:i + h.n]) == sp for c, sp in readings):
            continue  # already right ("LLMs" is not an extra S on LLM)
        for cost, spelled in readings:
            # an acronym heard in capitals is one the recogniser knows ("GPT", "BP"): only a
            # letter one rhyme away turns it into another
            limit = 0.5 if h.caps and (len(h.letters) >= 3 or ordinary(h.letters.lower())) \
                else 1.0
            if cost > limit or (len(base) <= 2 and cost > 0):
                continue
            score = 100.0 * (1 - cost / max(len(base), 1))
            if cost == 0 or (cost <= 0.5 and h.digits is not None and len(base) >= 3):
                within = ANYWHERE
            elif cost <= 0.5 and len(base) >= 3:
                within = SAME_PART_S
            else:
                within = NEAR_S
            if best is None or (within, score) > (best.within, best.score):
                best = _Match(h.n, spelled, score, "letters", within)
    return best


_GLUED = re.compile(r"([A-Z]{1,3})([A-Z]{2,6})-?(\d+(?:\.\d+)?)")


def _match_glued(plain: list[str], i: int, term: str) -> _Match | None:
    """An acronym with its number run into the word before it: "MSUTF8" (as UTF-8) → MS UTF-8.
    Only the exact letters and number count: the number is the evidence."""
    tm = _ACRO_TERM.fullmatch(term)
    m = _GLUED.fullmatch(plain[i])
    if tm is None or m is None or tm.group(3) is None or tm.group(2):
        return None
    letters, base = m.group(1) + m.group(2), tm.group(1)
    if m.group(3) != tm.group(3) or not letters.endswith(base) or len(letters) - len(base) > 3:
        return None
    return _Match(1, term, 100.0, "letters", SAME_PART_S, glued=letters[:-len(base)])


def _match_name_digit(plain: list[str], i: int, term: str) -> _Match | None:
    """"Lama 2", "Llama two" → Llama 2; a far-off sound ("number 2") only as a weak match."""
    tm = _NAME_DIGIT_TERM.fullmatch(term)
    if tm is None or i + 1 >= len(plain):
        return None
    from rapidfuzz import fuzz

    name, digits = tm.group(1), tm.group(2)
    nxt = plain[i + 1].lower()
    num = nxt if re.fullmatch(r"\d+(?:\.\d+)?", nxt) else _NUMBER_WORDS.get(nxt)
    word = plain[i]
    if num != digits or not word.isalpha() or word.lower() in _COMMON - {"number"}:
        return None
    if word.lower() == name.lower() and plain[i + 1] == digits and \
            " ".join(plain[i:i + 2]) == term:
        return None
    spell = fuzz.ratio(word.lower(), name.lower())
    sound = fuzz.ratio(_key(word), _key(name))
    score = (spell + sound) / 2
    if score >= 70:
        return _Match(2, term, score, "sound", ANYWHERE)
    if sound >= 30:
        return _Match(2, term, score, "context", NEAR_S)
    return None


SURE_P = 0.85  # a term heard at least this surely is one the talk uses


def said_surely(words: list[Word]) -> list[str]:
    """Terms the recogniser heard surely ("GPT-4", its "-4" a word of its own), in order."""
    out: list[str] = []
    groups: list[list[Word]] = []
    for w in words:
        if groups and not w.text[:1].isspace() and w.text[:1] in "-.0123456789":
            groups[-1].append(w)  # " GPT" "-4": one token
        else:
            groups.append([w])
    for g in groups:
        probs = [w.probability for w in g]
        if any(p is None or p < SURE_P for p in probs):
            continue
        tok = _bare("".join(w.text for w in g))
        if _is_term(tok) and tok not in out:
            out.append(tok)
    return out


def metadata_terms(title: str | None, description: str | None = None,
                   chapters: list[str] | None = None) -> list[str]:
    """Terms the video's own title, description and chapter names give ("GPT-4" in the
    title): the talk's vocabulary, with no time on screen (only strong matches use them)."""
    texts = [x for x in [title, description, *(chapters or [])] if x]
    return extract([ln for x in texts for ln in x.splitlines()]) if texts else []


# a digit said as a word that sounds like another: "GPT for" (GPT-4) when the recogniser
# doubted the "for"; a sure "for" is the sentence's ("GPT for the summaries")
_DIGIT_HOMOPHONES = {"for": "4", "fore": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}


def _match_said_digit(plain: list[str], words: list[Word], i: int, term: str
                      ) -> _Match | None:
    """The term's exact letters, then its digit heard as a doubted word that sounds like it
    ("GPT for" → GPT-4): strong, since the term is the talk's (screen, metadata or heard
    surely)."""
    tm = _ACRO_TERM.fullmatch(term)
    if tm is None or tm.group(3) is None or i + 1 >= len(plain):
        return None
    nxt = words[i + 1]
    if plain[i] != tm.group(1) + tm.group(2) or \
            _DIGIT_HOMOPHONES.get(_bare(plain[i + 1]).lower()) != tm.group(3) or \
            nxt.probability is None or nxt.probability >= DOUBT_P:
        return None
    return _Match(2, term, 90.0, "letters", ANYWHERE)


# --- across word boundaries, and other forms of a word: Double Metaphone ------------------------
GUESS_P = 0.25  # a word below this probability is one the recogniser guessed
DOUBT_P = 0.5  # a term's last word below this: the recogniser doubted the term


def _doubted(words: list[Word]) -> bool:
    p = words[-1].probability
    return p is not None and p < DOUBT_P


def _guessed(words: list[Word]) -> bool:
    """A word of the stretch is a guess of the recogniser ("my", p 0.07, of "my parent
    coding")."""
    return any(w.probability is not None and w.probability < GUESS_P for w in words)


@lru_cache(maxsize=8192)
def _dm(text: str) -> tuple[str, ...]:
    """Double Metaphone keys (primary and alternate) of the letters of ``text``, with the word
    boundaries removed: "and code" and encode, "the code" and decode share a sound."""
    from doublemetaphone import doublemetaphone

    letters = re.sub(r"[^a-z]", "", text.lower())
    return tuple(sorted({k for k in doublemetaphone(letters) if k})) if letters else ()


def _dm_distance(a: str, b: str) -> int:
    from rapidfuzz.distance import Levenshtein

    ka, kb = _dm(a), _dm(b)
    if not ka or not kb:
        return 99
    return min(Levenshtein.distance(x, y) for x in ka for y in kb)


_TITLE_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")


def title_terms(titles: list[str | None]) -> list[str]:
    """Slide headings that name one thing ("Byte pair encoding", "Positional encoding"), as a
    sentence writes them: two to four words, none a function word ("Why tokens matter",
    "Encoding and decoding" name no term), in lower case but for acronyms and names with inner
    capitals. A heading is where a talk names its term of art; the respeller still needs the
    recogniser's doubt before it uses one."""
    out: list[str] = []
    for title in titles:
        words = normalize(title or "").split()
        if not 2 <= len(words) <= 4 or not all(_TITLE_WORD.fullmatch(w) for w in words) or \
                any(w.lower() in _STOP for w in words):
            continue
        term = " ".join(w if re.search(r"[A-Z]", w[1:]) else w.lower() for w in words)
        if term not in out:
            out.append(term)
    return out


def _sound_targets(terms: list[str]) -> list[tuple[str, list[str]]]:
    """(term, its spoken words) for the sound matcher across word boundaries: terms without
    digits (those are matched by their letters and numbers) of four letters or more when said
    (iloc, ReLU)."""
    out = []
    for term in terms:
        if re.search(r"\d", term) or _ACRO_TERM.fullmatch(term):
            continue
        sp = spoken(term).split()
        if len("".join(sp)) >= 4:
            out.append((term, sp))
    return out


def _match_sound(plain: list[str], words: list[Word], i: int, term: str, sp: list[str],
                 guessed: bool = False) -> _Match | None:
    """A stretch of 1-3 heard words that sounds like the term once word boundaries are removed
    (Double Metaphone): "soft match" → softmax, "real U" → ReLU, "my parent coding" → byte pair
    encoding. Only where the recogniser guessed a word of it (``GUESS_P``) and the screen shows
    the term near; a stretch with a function word ("the code", "and code") only while the
    screen shows the term and the recogniser doubted the whole stretch."""
    from rapidfuzz import fuzz

    t = "".join(sp)
    key = _dm(t)
    if not key:
        return None
    short = max(len(k) for k in key) < 4
    best = None
    for n in range(1, 4):
        if i + n > len(plain):
            break
        span = words[i:i + n]
        if not (guessed or _guessed(span)):
            continue
        window = [_norm(p) for p in plain[i:i + n]]
        h = "".join(window).replace("-", "")  # "I" "-lock"
        if not h or not h.isalpha() or h == t or all(w in _COMMON for w in window):
            continue
        if n == 1 and (short or len(t) < 7):
            continue  # one short word ("real" for ReLU) is a word, not a term cut in two
        if window[-1] in _COMMON:
            continue  # the sentence after the term, not the term
        d = _dm_distance(h, t)
        # a long term of several words keeps its sound through two slips ("by parent
        # coding": PPRNTKTNK, byte pair encoding: PTPRNKTNK) if its letters stay close
        long = len(sp) >= 3 and min(len(k) for k in key) >= 8
        if d > (0 if short else 2 if long else 1) or fuzz.ratio(h, t) < (80 if d > 1 else 70):
            continue
        if window[0] in _COMMON and not (long and n >= 3):
            # an everyday phrase ("the code", "a merge"): the term on screen at that moment,
            # and the recogniser unsure of the stretch as a whole
            if not unsure(span):
                continue
            m = _Match(n, term, 100.0 - 10 * d, "phonetic", 0.0)
        else:
            m = _Match(n, term, 100.0 - 10 * d, "phonetic", NEAR_S)
        if best is None or m.score > best.score:
            best = m
    if best is None and not guessed and len(sp) >= 3 and i + 1 < len(plain) and \
            _guessed(words[i:i + 1]):
        # the first word of a long term heard as a word the recogniser guessed ("my" for
        # byte): the rest of the term must sound right on its own
        rest = _match_sound(plain, words, i + 1, " ".join(sp[1:]), sp[1:], guessed=True)
        if rest is not None and rest.within > 0:
            best = _Match(rest.n + 1, term, rest.score - 10, "phonetic", NEAR_S)
    return best


_CODE_LINE = re.compile(r"[=(\[{]|\w\.\w|:\s*$")


def _derived_targets(terms: list[str]) -> list[str]:
    """Plain words the screen shows as identifiers (``merges`` of ``merges.items``)."""
    return [t for t in terms if re.fullmatch(r"[a-z]{4,}", t)]


def _forms(stem: str) -> set[str]:
    """The regular English forms of a word: the speaker's English, never respelled."""
    out = {stem}
    for base in {stem, stem.removesuffix("s"), stem.removesuffix("es")}:
        for b in (base, base.removesuffix("e")):
            out |= {b, b + "e", b + "s", b + "es", b + "ed", b + "d", b + "ing"}
    return out


def _match_derived(plain: list[str], i: int, term: str, shown: set[str]) -> _Match | None:
    """A word never on screen that is an identifier on screen made a noun of the doer, one
    sound more: "mergers" while the code says ``merges``. Its regular forms ("merged",
    "merging", "merge") are the speaker's English and stay, and so does another word of the
    same letters ("status" near ``stats``). Needs the term in a code line near (checked by the
    caller)."""
    low = _bare(plain[i]).lower()
    if not low.isalpha() or low in shown or low in _forms(term) or low in _COMMON:
        return None
    stems = {term.removesuffix("s"), term.removesuffix("es")} - {term}
    if not any(low.startswith(s) and low[len(s):] in _DOER for s in stems if len(s) >= 4):
        return None
    if _dm_distance(low, term) > 1:
        return None
    return _Match(1, term, 90.0, "derived", NEAR_S)


# endings that make a noun of the doer: what the recogniser hears for a plural identifier
# ("mergers" for merges, "encoders" for encodes)
_DOER = {"r", "rs", "er", "ers", "or", "ors"}


@lru_cache(maxsize=65536)
def _norm(word: str) -> str:
    """A heard word in lower case, without punctuation (once per word, not once per term)."""
    return re.sub(r"[^\w'-]+", "", word.lower())


def _key(text: str) -> str:
    """A phonetic key (Metaphone, from jellyfish): spellings that sound alike share it."""
    import jellyfish

    return jellyfish.metaphone(text).replace(" ", "")


def _word_targets(terms: list[str]) -> list[tuple[str, str, int, bool]]:
    """(term, spoken form, words, plain): unusual terms, and identifiers made of plain words
    (``get_stats``: ``plain``), whose near misses ("gets test") are sought only on screen."""
    targets = []
    for term in terms:
        if _ACRO_TERM.fullmatch(term) or _NAME_DIGIT_TERM.fullmatch(term):
            continue
        sp = spoken(term)
        if len(sp.replace(" ", "")) < 5:
            continue
        if unusual(term):
            targets.append((term, sp, len(sp.split()), False))
        elif (re.search(r"\w[_.]\w", term) or _CAMEL.fullmatch(term)) and len(sp.split()) >= 2:
            targets.append((term, sp, len(sp.split()), True))
    return targets


# a class name joined from words: DataLoader, CrossEntropyLoss (not PyTorch-style brand names,
# which are unusual and matched by spelling)
_CAMEL = re.compile(r"(?:[A-Z][a-z]+){2,}")


def _match_word(plain: list[str], words: list[Word], i: int, term: str, sp: str, n_term: int,
                threshold: float, plain_words: bool = False) -> _Match | None:
    """A stretch that sounds or reads like a multi-letter term: "tick token" → tiktoken,
    "Google column" → Google Colab (weak: needs the screen near)."""
    from rapidfuzz import fuzz

    best = None
    t = sp.replace(" ", "")
    for n in range(max(1, n_term - 1), min(4, n_term + 2) + 1):
        if i + n > len(plain):
            break
        window = [_norm(p) for p in plain[i:i + n]]
        heard = " ".join(window)
        if not heard.replace(" ", ""):
            continue
        if heard.replace(" ", "") == t:
            if plain_words:
                # "most common" for most_common is the speaker's English; "call it vocab
                # size", "vocab size equals": the words name the code's identifier
                if named(plain, i, n) and "_" in term:
                    return _Match(n, term, 100.0, "named", NEAR_S)
                if _CAMEL.fullmatch(term):
                    # a class's name said as a noun phrase ("a data loader hands…", "that
                    # loss is cross entropy loss") while the screen shows the class
                    return _Match(n, term, 100.0, "named", NEAR_S)
                if "_" in term and _doubted(words[i:i + n]):
                    # "starts with zero grad," (p 0.35): the words the screen shows as
                    # zero_grad at that moment, and the recogniser doubted them
                    return _Match(n, term, 100.0, "unsure", 0.0)
                continue
            spelled = " ".join(w.text.strip() for w in words[i:i + n]).strip(_EDGE)
            if spelled.lower() != term.lower():
                # the right sound, spelled otherwise
                return _Match(n, term, 100.0, "spelling", ANYWHERE)
            continue
        if all(p in _COMMON for p in window):
            continue
        if re.sub(r"\D", "", heard) != re.sub(r"\D", "", t):
            continue  # a number is said and written: "model" is not model2
        # a common word at either edge is the sentence around the term, not the term
        edges = sp.split()
        # after a naming cue, one that sounds like the term's own word: "with them workers
        # equal to two" (num_workers), not "we call it the stats"
        cued = plain_words and n == n_term > 1 and named(plain, i, n)
        if (window[0] in _COMMON and not _alike(window[0], edges[0], cued)) or (
                window[-1] in _COMMON and not _alike(window[-1], edges[-1], cued)):
            continue
        h = heard.replace(" ", "")
        if not 0.8 <= len(h) / len(t) <= 1.25:
            continue
        # every heard word must sound like a piece of the term ("met" is not)
        pieces = [fuzz.partial_ratio(w, t) for w in window]
        if cued:  # an edge word that sounds like the term's own ("them" for num) is a piece
            pieces[0] = 100 if _alike(window[0], edges[0], True) else pieces[0]
            pieces[-1] = 100 if _alike(window[-1], edges[-1], True) else pieces[-1]
        piece = min(pieces)
        if piece < 50:
            continue
        spell = fuzz.ratio(h, t)
        sound = fuzz.ratio(_key(heard), _key(sp))
        everyday = all(ordinary(w) for w in window)
        if plain_words:
            # a near miss of an identifier made of plain words: word for word ("match size"
            # for batch_size), not an inflected phrase ("to tensors" is not ToTensor) nor
            # fewer words ("flattens" is not nn.Flatten) — unless the recogniser doubted the
            # words ("gets test", p 0.07) or a naming cue ("I call it") introduces them
            evidence = unsure(words[i:i + n]) or named(plain, i, n)
            if not evidence and (n != n_term or _inflected(window, sp.split())):
                continue
            bar = threshold - 10 if evidence else threshold
            if piece >= 60 and spell >= bar and (spell + sound) / 2 >= bar - 5 * evidence:
                best = _Match(n, term, (spell + sound) / 2, "sound", NEAR_S)
            continue
        if n == 1 and everyday and h in t:
            continue  # an everyday word that is a piece of the term ("types" of dtypes)
        if piece >= 60 and spell >= threshold:
            # everyday words ("collab", "tick token") only where the screen shows the term
            # a name heard as one lower-case word ("collab" for Colab) is the recogniser's
            # own word, not a name: only in the part of the talk that shows it
            lower_for_name = n == 1 and term[:1].isupper() and heard[:1].islower() and \
                words[i].text.strip()[:1].islower()
            m = _Match(n, term, spell, "spelling",
                       SAME_PART_S if everyday or lower_for_name else ANYWHERE)
        elif spell >= 70 and (spell + sound) / 2 >= 75:
            m = _Match(n, term, (spell + sound) / 2, "sound", NEAR_S)
        else:
            continue
        if best is None or (m.within, m.score) > (best.within, best.score):
            best = m
    return best


# words that introduce or follow a name in code: "I call it get_stats", "a dictionary called
# merges", "vocab_size equal to 276", "the function get_stats"
_CUE_BEFORE = re.compile(r"(?:\bcall(?:ed|s)?(?: it| them)?|\bnamed?(?: it)?|\bfunction|"
                         r"\bvariable|\bmethod|\bargument|\bparameter)$")
_CUE_AFTER = re.compile(r"^(?:equals?\b|equal to\b|is set to\b|function\b|variable\b|"
                        r"method\b|returns\b)")
UNSURE_P = 0.3  # a stretch whose words average below this probability: the recogniser guessed


def named(plain: list[str], i: int, n: int) -> bool:
    """The words ``i..i+n`` are introduced or followed as a name of code."""
    before = " ".join(_bare(p).lower() for p in plain[max(0, i - 3):i])
    after = " ".join(_bare(p).lower() for p in plain[i + n:i + n + 3])
    # the cue must touch the name: "call it" ends the words before it
    return bool(_CUE_BEFORE.search(before) or _CUE_AFTER.search(after))


def unsure(words: list[Word]) -> bool:
    """The recogniser doubted these words (their mean probability is low)."""
    probs = [w.probability for w in words if w.probability is not None]
    return bool(probs) and sum(probs) / len(probs) < UNSURE_P


def _inflected(heard: list[str], spoken_words: list[str]) -> bool:
    """The heard words are the term's words with an English ending on the last: "to tensors"."""
    if len(heard) != len(spoken_words) or heard[:-1] != spoken_words[:-1]:
        return False
    last, base = heard[-1], spoken_words[-1]
    return last != base and last.startswith(base) and last[len(base):] in ("s", "es", "ed",
                                                                          "d", "ing")


def _alike(heard: str, word: str, by_sound: bool = False) -> bool:
    """A common word heard at the edge of a term that is that edge's word, inflected or one
    letter off ("gets" for the get of get_stats); ``by_sound``: or its sound key half the
    same ("them" for num)."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    return heard == word or (len(word) >= 3 and heard[:3] == word[:3]
                             and Levenshtein.distance(heard, word) <= 1) or (
        by_sound and fuzz.ratio(_key(heard), _key(word)) >= 50)


def _context_shared(plain: list[str], i: int, n: int, line: str) -> bool:
    """A content word said around the stretch is also on the screen line showing the term."""
    around = {re.sub(r"\W+", "", p.lower()) for p in plain[max(0, i - 4):i] + plain[i + n:i + n + 4]}
    shown = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", line)}
    return bool({w for w in around if len(w) >= 3 and w not in _COMMON} & shown)


def respell(words: list[Word], terms: list[str],
            seen: dict[str, list[Sighting]] | None = None, threshold: float = 80.0
            ) -> tuple[list[Word], list[Respelling]]:
    """Words with misheard terms written as the screen writes them, and each change with its
    evidence. A strong match (an unusual spelling, or letters one rhyme away: "Dpt2" → GPT-2,
    "LMS" → LLMs) is respelled anywhere in the talk; a weak one ("Bp" → BPE, "Google column" →
    Google Colab, "number 2 paper" → Llama 2 paper) only while the screen shows the term nearby
    (``NEAR_S``), and a far-off sound only when a word said around it is on that screen line."""
    # no screen times at all (a glossary alone): "the same part of the talk" cannot be checked
    timeless = seen is None
    seen = seen or {}
    # the talk's own vocabulary: a term the recogniser heard surely somewhere ("GPT-4") is
    # evidence for its strong near misses elsewhere ("DPT-4"); it has no screen time, so the
    # weak matches, which need the screen near, never use it
    known = {re.sub(r"[\W_]+", "", t.lower()) for t in terms}  # "UTF8" is utf-8's
    terms = list(terms) + [t for t in said_surely(words)
                           if re.sub(r"[\W_]+", "", t.lower()) not in known]
    acronyms = [t for t in terms if _ACRO_TERM.fullmatch(t)]
    # code writes a standard's name in lower case ("utf-8"); prose writes it in capitals
    acronyms += [t.upper() for t in terms if re.fullmatch(r"[a-z]{2,6}-\d+", t)
                 and t.upper() not in acronyms]
    named = [t for t in terms if _NAME_DIGIT_TERM.fullmatch(t)]
    targets = _word_targets(terms)
    sounds = _sound_targets(terms)
    derived = _derived_targets(terms)
    # words the screen shows on the lines of its terms: a heard word among them is no mishearing
    shown = {w.lower() for ss in seen.values() for s in ss
             for w in re.findall(r"[A-Za-z]+", s.line)}
    if not words or not (acronyms or named or targets or sounds):
        return words, []
    plain = [_bare(w.text) for w in words]
    out: list[Word] = []
    fixes: list[Respelling] = []
    i = 0
    while i < len(words):
        cands: list[tuple[_Match, str]] = []
        for t in acronyms:
            m = _match_acronym(plain, i, t) or _match_glued(plain, i, t)
            if m:
                cands.append((m, t))
        for t in named:
            m = _match_name_digit(plain, i, t)
            if m:
                cands.append((m, t))
        for t in acronyms:
            m = _match_said_digit(plain, words, i, t)
            if m:
                cands.append((m, t))
        for t, sp, n_term, plain_words in targets:
            m = _match_word(plain, words, i, t, sp, n_term, threshold, plain_words)
            if m:
                cands.append((m, t))
        # sounds across word boundaries only where the recogniser guessed a word
        for t, said in sounds if _guessed(words[i:i + 4]) else ():
            m = _match_sound(plain, words, i, t, said)
            if m:
                cands.append((m, t))
        if not cands:
            for t in derived:
                m = _match_derived(plain, i, t, shown)
                if m:
                    cands.append((m, t))
        chosen = None
        # the strongest first: the one that needs the least support from the screen
        for m, t in sorted(cands, key=lambda c: (-c[0].within, -c[0].score, -c[0].n)):
            span = words[i:i + m.n]
            if not m.glued and m.term in (" ".join(plain[i:i + m.n]),
                                          _bare("".join(w.text for w in span))):
                continue  # already written so ("GPT" "-4" is GPT-4): no change to record
            # UTF-8 for the code's utf-8: the screen shows it in lower case
            near = nearest(seen.get(t) or seen.get(t.lower(), []), span[0].start, span[-1].end)
            if m.within < ANYWHERE and not (timeless and m.within >= SAME_PART_S):
                if near is None or near[0] > m.within:
                    continue
                if m.how == "context" and not _context_shared(plain, i, m.n, near[1].line):
                    continue
                if m.how == "derived" and not any(
                        _CODE_LINE.search(s.line) for s in seen.get(t, [])
                        if max(0.0, s.time - span[-1].end, span[0].start - s.end) <= m.within):
                    continue  # the identifier is code on that screen, not a heading's word
            chosen = (m, near)
            break
        if chosen is None:
            out.append(words[i])
            i += 1
            continue
        m, near = chosen
        span = words[i:i + m.n]
        tail = re.sub(r"^.*?([.,;:!?]*)$", r"\1", span[-1].text)
        lead = span[0].text[: len(span[0].text) - len(span[0].text.lstrip())]
        heard = " ".join(w.text.strip() for w in span)
        sight = near[1] if near else None
        if re.fullmatch(r"[a-z]{3,}s", m.term) and \
                re.sub(r"[^a-z]", "", heard.lower()) == m.term[:-1]:
            # "D -type" where the code shows dtypes: the screen's spelling, the speaker's number
            m.term = m.term[:-1]
        fixes.append(Respelling(
            heard=heard.strip(_EDGE), term=m.term, start=span[0].start, end=span[-1].end,
            how=m.how, score=round(m.score, 1),
            shown_at=sight.time if sight else None, keyframe=sight.keyframe if sight else None,
            scene=sight.scene if sight else None))
        written = f"{m.glued} {m.term}" if m.glued else m.term
        # a phrase of plain words ("byte pair encoding") starts a sentence with its capital;
        # an identifier (merges, get_stats) keeps the screen's case wherever it stands
        if not m.glued and re.fullmatch(r"[a-z]+(?: [a-z]+)+", written) and \
                heard[:1].isupper() and (i == 0 or re.search(r"[.!?][\"')]*$", words[i - 1].text)):
            written = written[0].upper() + written[1:]
        out.append(Word(start=span[0].start, end=span[-1].end, text=lead + written + tail,
                        probability=span[0].probability))
        i += m.n
    return out, fixes


def fix_words(words: list[Word], terms: list[str], threshold: float = 80.0
              ) -> tuple[list[Word], list[tuple[str, str]]]:
    """Words with misheard terms replaced, without the screen's times (strong matches only);
    returns (words, [(heard, term)])."""
    out, fixes = respell(words, terms, None, threshold)
    return out, [(f.heard, f.term) for f in fixes]


def respell_text(text: str, terms: list[str], seen: dict[str, list[Sighting]] | None = None,
                 start: float = 0.0, end: float = 0.0) -> str:
    """A line of text (a title) with its misheard terms respelled; ``start``/``end`` place it
    in the talk, for the weak matches that need the term on screen nearby."""
    toks = text.split()
    if not toks:
        return text
    step = (end - start) / len(toks) if end > start else 0.0
    words = [Word(start=start + k * step, end=start + (k + 1) * step, text=(" " if k else "") + t)
             for k, t in enumerate(toks)]
    fixed, fixes = respell(words, terms, seen)
    return "".join(w.text for w in fixed) if fixes else text


def keep_title_terms(title: str, respellings: list[Respelling], start: float = 0.0,
                     end: float = ANYWHERE) -> str:
    """A chapter title with the misheard forms the transcript was respelled from written as
    the term: "Parent Coding: Merging Symbols" → "Byte Pair Encoding: Merging Symbols" when
    "my parent coding" became byte pair encoding. A form of several words counts anywhere in
    the talk (a title that copies it copies the mishearing); a single word ("mergers") only
    where it was respelled in the chapter (``start``..``end``). The last words of a long form
    count on their own ("parent coding" of "my parent coding": its first word was the
    recogniser's guess)."""
    forms: dict[tuple[str, ...], str] = {}
    for r in respellings:
        heard = tuple(re.findall(r"[\w'-]+", r.heard.lower()))
        if not heard or r.heard == "(nothing)" or " ".join(heard) == r.term.lower():
            continue
        if len(heard) == 1 and not start <= r.start < end:
            continue
        forms.setdefault(heard, r.term)
        if len(heard) >= 3:
            forms.setdefault(heard[1:], r.term)
    if not forms:
        return title
    toks = re.findall(r"[\w'-]+|[^\w'-]+", title)
    words = [(k, t.lower()) for k, t in enumerate(toks) if re.match(r"[\w'-]", t)]
    out = list(toks)
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            key = tuple(w for _, w in words[i:i + n])
            term = forms.get(key) if len(key) == n else None
            if term is None:
                continue
            first, last = words[i][0], words[i + n - 1][0]
            shown = toks[first:last + 1]
            if term == term.lower() and " " in term and all(
                    t[:1].isupper() for t in shown if re.match(r"[\w]", t)):
                term = term.title()  # a Title Case heading: "Byte Pair Encoding"
            out[first:last + 1] = [term] + [""] * (last - first)
            i += n
            break
        else:
            i += 1
    return "".join(out)


def keep_terms(markdown: str, respellings: list[Respelling]) -> tuple[str, int]:
    """Prose written from a respelled transcript, with the terms kept as the screen spells them:
    a misheard form the writer brought back ("Dpt2", "MSUTF8") and a term it wrote as plain words
    ("cl100k base", "get stats" for ``get_stats``) become the term again. Only the respellings of
    the chapter's own transcript count, and a heard form made of everyday words ("tick token",
    "Python") is left alone: the writer may mean the word. Code fences are not touched."""
    forms: dict[str, str] = {}
    for r in respellings:
        if r.heard and r.heard != "(nothing)" and unusual(r.heard) and \
                r.heard.lower() != r.term.lower():
            forms[r.heard.lower()] = r.term
        sp = spoken(r.term)
        if re.search(r"[_\d]|[a-z][A-Z]", r.term) and " " in sp:
            forms[sp] = r.term
    if not forms:
        return markdown, 0
    pat = re.compile(r"(?<![\w`])(" + "|".join(re.escape(f).replace(r"\ ", r"[ _-]?")
                                             for f in sorted(forms, key=len, reverse=True))
                     + r")(?![\w`])", re.IGNORECASE)
    n = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal n
        key = " ".join(re.split(r"[ _-]", m.group(1))).lower() if m.group(1).lower() not in \
            forms else m.group(1).lower()
        term = forms.get(key) or forms.get(m.group(1).lower())
        if term is None or m.group(1) == term:
            return m.group(1)
        n += 1
        return term

    parts = re.split(r"(```.*?```)", markdown, flags=re.DOTALL)
    out = [p if p.startswith("```") else pat.sub(sub, p) for p in parts]
    return "".join(out), n
