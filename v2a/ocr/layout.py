"""From OCR'd lines to what a reader needs: a slide's title, and code with its indentation.

No engine keeps leading spaces: indentation is rebuilt from where each line starts, on the grid
of a monospace font (column = (x − x_min) / character width). Gutter line numbers, notebook
prompts ("In [3]:") and a window's toolbar are left out of code.
"""

from __future__ import annotations

import re
import statistics

from ..models import ScreenLine

_CODE = re.compile(r"[=()\[\]{}:;]|^\s*(?:def|class|import|from|return|for|while|if|else|elif|"
                   r"print|const|let|var|function|#include|public|private)\b|->|\+=|==|\.\w+\(")
_PROMPT = re.compile(r"^\s*(?:In|Out)\s*\[\s*\d*\s*\]\s*:?\s*$")
_LINENO = re.compile(r"^\s*\d{1,4}\s*$")
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


def code(lines: list[ScreenLine], height: float) -> list[str] | None:
    """The frame's code lines with their indentation, or None when no code is shown.

    Code is the longest run of rows that look like code (other short rows may sit inside it:
    ``else:``, output, blank-ish lines), with at least two rows of code in it.
    """
    content = [ln for ln in lines if ln.box[1] >= 0.07 * height and not _PROMPT.match(ln.text)]
    grouped = rows(content)
    # an editor's gutter: a column of bare numbers at the left of most rows
    gutter = [r[0] for r in grouped if len(r) > 1 and _LINENO.match(r[0].text)]
    if len(gutter) >= max(2, len(grouped) // 2):
        grouped = [r[1:] if len(r) > 1 and _LINENO.match(r[0].text) else r for r in grouped]
    grouped = [r for r in grouped if r and not all(_LINENO.match(x.text) for x in r)]
    texts = [" ".join(x.text for x in r) for r in grouped]
    kinds = [_kind(t) for t in texts]
    best: tuple[int, int] = (0, 0)
    i = 0
    while i < len(kinds):
        if kinds[i] != "code":
            i += 1
            continue
        j = i
        while j + 1 < len(kinds) and kinds[j + 1] != "prose":
            j += 1
        while kinds[j] != "code":  # a run ends on code, not on trailing other rows
            j -= 1
        if kinds[i:j + 1].count("code") >= 2 and j + 1 - i > best[1] - best[0]:
            best = (i, j + 1)
        i = j + 1
    if best[1] - best[0] < 2:
        return None
    # notebook output right under the cell belongs with it
    end = best[1]
    while end < len(kinds) and kinds[end] == "other":
        end += 1
    grouped, texts = grouped[best[0]:end], texts[best[0]:end]
    widths = [(r[-1].box[2] - r[0].box[0]) / max(1, len(t)) for r, t in zip(grouped, texts)
              if len(t) >= 4]
    if not widths:
        return None
    char_w = statistics.median(widths)
    x0 = min(r[0].box[0] for r in grouped)
    gaps = [b[0].box[1] - a[0].box[1] for a, b in zip(grouped, grouped[1:])]
    spacing = min(gaps) if gaps else 0.0
    cols = [(r[0].box[0] - x0) / char_w for r in grouped]
    unit = _indent_unit(cols)
    out: list[str] = []
    prev_top = None
    for r, t, col in zip(grouped, texts, cols):
        top = r[0].box[1]
        if prev_top is not None and spacing > 0:
            out += [""] * min(1, max(0, round((top - prev_top) / spacing) - 1))
        prev_top = top
        out.append(" " * (unit * round(col / unit)) + t.strip())
    return out


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
