"""From OCR'd lines to rows, a slide's title, what a row looks like (code, prose) and the
language of code. What a screen is lives in ``classify``; code itself in ``code``.
"""

from __future__ import annotations

import re
import statistics

from ..models import ScreenLine

_CODE = re.compile(r"[=()\[\]{}:;]|^\s*(?:def|class|import|from|return|for|while|if|else|elif|"
                   r"print|const|let|var|function|#include|public|private)\b|->|\+=|==|\.\w+\(")
_PY = re.compile(r"^\s*(?:def |import |from \S+ import|class |elif |print\()|:\s*$|\bself\.|"
                 r"\bNone\b|\bTrue\b|\bFalse\b", re.MULTILINE)
_JS = re.compile(r"\bfunction\b|\bconst |\blet |=>|;\s*$|console\.log")
_SHELL = re.compile(r"^\s*(?:\$|pip |python |cd |ls |git |npm )")


def _h(line: ScreenLine) -> float:
    return line.box[3] - line.box[1]


def rows(lines: list[ScreenLine]) -> list[list[ScreenLine]]:
    """Lines grouped into visual rows (top to bottom), each row left to right."""
    if not lines:
        return []
    med = statistics.median(_h(ln) for ln in lines) or 1.0
    out: list[list[ScreenLine]] = []
    for ln in sorted(lines, key=lambda x: (x.box[1] + x.box[3]) / 2):
        cy = (ln.box[1] + ln.box[3]) / 2
        if out:
            last = out[-1][0]
            if abs(cy - (last.box[1] + last.box[3]) / 2) < 0.5 * med:
                out[-1].append(ln)
                continue
        out.append([ln])
    return [sorted(r, key=lambda x: x.box[0]) for r in out]


def title(lines: list[ScreenLine], height: float) -> str | None:
    """A heading: the first row in the top third set clearly larger than the body text."""
    body = [_h(ln) for ln in lines if not _CODE.search(ln.text)]
    if len(lines) < 2 or not body:
        return None
    med = statistics.median(_h(ln) for ln in lines)
    for r in rows(lines):
        top = min(ln.box[1] for ln in r)
        if top > height / 3:
            break
        # a toolbar or tab bar is set no larger than the body: size alone makes a heading
        if min(_h(ln) for ln in r) >= 1.25 * med and not _CODE.search(r[0].text):
            return " ".join(ln.text.strip() for ln in r)
    return None


_STRONG = re.compile(r"\w\(|\s=\s|==|\+=|-=|->|=>|[\[\]{}]|:\s*$|^\s*#|^\s*(?:def|class|import|"
                     r"from|return|for|while|if|elif|else|print|const|let|var|function)\b|"
                     r"\w\.\w+", re.MULTILINE)


def _is_prose(text: str) -> bool:
    """A sentence: five or more words, mostly plain ones, ending like a sentence."""
    words = text.split()
    plain = sum(bool(re.fullmatch(r"[A-Za-z][a-z'’-]*[,.;:!?]?", w)) for w in words)
    return len(words) >= 5 and plain >= 0.7 * len(words) and text.rstrip()[-1:] in ".:!?"


def _kind(text: str) -> str:
    if _is_prose(text):
        return "prose"
    if _STRONG.search(text):
        return "code"
    return "other"


def _indent_unit(cols: list[float]) -> int:
    """4 or 2 when the indents sit on that grid (a box a pixel or two off is snapped back)."""
    indents = [c for c in cols if c > 1.5]
    for unit in (4, 2):
        if indents and sum(abs(c / unit - round(c / unit)) * unit <= 1.2 for c in indents) \
                >= 0.8 * len(indents):
            return unit
    return 1


def language(lines: list[str]) -> str:
    text = "\n".join(lines)
    if _PY.search(text) or re.search(r"^\s*(?:def|for|while|if)\b.*:\s*$", text, re.MULTILINE):
        return "python"
    if _JS.search(text):
        return "javascript"
    if _SHELL.search(text):
        return "bash"
    return ""
