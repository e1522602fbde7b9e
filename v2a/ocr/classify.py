"""What a screen is, before any of it is read as code: its columns, and its kind.

Kinds: ``code`` (an editor, a notebook cell, a terminal), ``slide`` (a heading and short
lines), ``prose`` (sentences: a page being read), ``ui`` (a web app or program window: panels
of labels and data), ``image`` (no readable text: a photo, a face). Only a code screen's code
column is read as code; two panels side by side are never read as one (rows are built per
column), so a web app's input box and its token ids cannot be interleaved line by line.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from ..models import ScreenLine
from . import layout

KINDS = ("code", "slide", "prose", "ui", "image")

# chrome a notebook, an editor or a terminal draws around the code
CHROME = re.compile(r"^\s*(?:(?:In|Out)\s*\[\s*[\d*]*\s*\]\s*:?|\[\s*[\d*]{0,4}\s*\]\s*:?|"
                    r"\d{1,4})\s*$")
_BLOCK = re.compile(r"^(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|with)"
                    r"\b[^.!?]*:$")
_PROMPT = re.compile(r"^(?:\$|>>>)\s*\S")  # a shell's or Python's prompt and a command
_DATA = re.compile(r"[\d\s,.\[\]()\-:;%]+")


@dataclass
class Column:
    """OCR lines that sit in one vertical band of the screen (a panel, a sidebar)."""

    lines: list[ScreenLine]
    x0: float
    x1: float

    @property
    def chars(self) -> int:
        return sum(len(ln.text) for ln in self.lines)


def _h(ln: ScreenLine) -> float:
    return ln.box[3] - ln.box[1]


def columns(lines: list[ScreenLine], width: float) -> list[Column]:
    """Lines clustered by x into columns, left to right.

    A column boundary is an empty vertical band (no box crosses it) at least 2.5 text heights
    wide. Boxes wider than half the content (a title, a toolbar across panels) are left out
    when looking for bands, and go to the column under their start.
    """
    if not lines:
        return []
    med_h = statistics.median(_h(ln) for ln in lines) or 1.0
    lo = min(ln.box[0] for ln in lines)
    hi = max(ln.box[2] for ln in lines)
    wide = 0.5 * (hi - lo)
    spans = sorted((ln.box[0], ln.box[2]) for ln in lines if ln.box[2] - ln.box[0] <= wide)
    cuts: list[float] = []
    reach = spans[0][1] if spans else hi
    for a, b in spans[1:]:
        if a - reach >= max(2.5 * med_h, 0.03 * width):
            cuts.append((a + reach) / 2)
        reach = max(reach, b)
    bands = list(zip([-1e9, *cuts], [*cuts, 1e9]))
    cols = [Column([], a, b) for a, b in bands]
    for ln in lines:
        x = ln.box[0] + min(ln.box[2] - ln.box[0], med_h) / 2  # where it starts, not its centre
        for c in cols:
            if c.x0 <= x < c.x1:
                c.lines.append(ln)
                break
    return [c for c in cols if c.lines]


def row_kind(text: str) -> str:
    """``code``, ``prose``, ``data`` (numbers: token ids, a table), ``chrome`` or ``other``."""
    t = text.strip()
    if not t:
        return "other"
    if CHROME.match(t):
        return "chrome"
    if (t.startswith("#") and not t.startswith("#!")) or _BLOCK.match(t) or _PROMPT.match(t):
        return "code"  # a comment, a block's head, a prompt: however much it reads like prose
    if sum(c.isdigit() for c in t) >= 3 and _DATA.fullmatch(t):
        return "data"
    return layout._kind(t)


def _prose_like(texts: list[str]) -> bool:
    """Running sentences: mostly plain words, with sentence punctuation, eight words or more."""
    words = " ".join(texts).split()
    plain = sum(bool(re.fullmatch(r"[A-Za-z][a-z'’-]*[,.;:!?]?", w)) for w in words)
    return len(words) >= 8 and plain >= 0.75 * len(words) and \
        bool(re.search(r"[a-z][.!?,;]", " ".join(texts)))


@dataclass
class Layout:
    kind: str
    columns: list[Column]
    code: Column | None = None  # the code column of a code screen


def classify(lines: list[ScreenLine], width: float, height: float) -> Layout:
    """The kind of screen, its columns, and which column holds the code."""
    body = [ln for ln in lines if ln.box[1] >= 0.06 * height]  # a window's title bar
    cols = columns(body, width)
    if not cols or sum(len(ln.text.strip()) for ln in body) < 3:
        return Layout("image", cols)
    total = sum(c.chars for c in cols) or 1
    kinds = [[row_kind(" ".join(x.text for x in r)) for r in layout.rows(c.lines)] for c in cols]
    big = [i for i, c in enumerate(cols) if len(kinds[i]) >= 3 and c.chars >= 0.15 * total]
    # a notebook page may hold a text cell over a short code cell: three code rows suffice;
    # a terminal starts with a prompt, whatever its output looks like
    coded = [i for i in big if (kinds[i].count("code") >= 2 and (
        kinds[i].count("code") >= 3 or
        kinds[i].count("code") >= 0.5 * sum(k != "chrome" for k in kinds[i])))
        or _PROMPT.match(layout.rows(cols[i].lines)[0][0].text)]
    if coded:
        main = max(coded, key=lambda i: cols[i].chars)
        rivals = [i for i in big if i != main and cols[i].chars >= 0.5 * cols[main].chars]
        if not rivals:
            return Layout("code", cols, cols[main])
        return Layout("ui", cols)  # panels side by side, code-ish text in one: an app
    if layout.title(body, height) is not None:
        return Layout("slide", cols)
    if len(big) >= 2:
        return Layout("ui", cols)
    texts = [ln.text for ln in body]
    if _prose_like(texts):
        return Layout("prose", cols)
    if any(k.count("data") >= 2 for k in kinds) or (len(body) >= 12 and \
            statistics.median(len(t) for t in texts) < 12):
        return Layout("ui", cols)  # numbers, or many short labels
    return Layout("slide", cols)
