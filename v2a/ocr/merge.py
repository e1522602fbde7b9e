"""One code block per cell, however many frames show it: voted line by line.

Frames showing the same cell (typed, scrolled, shown again with a cursor elsewhere, edited)
are grouped by similarity. The cell's final form gives the lines; every frame's reading of a
line is aligned to it (rapidfuzz over lines), and readings that differ only by what OCR
confuses (``l``/``1``/``I``, ``O``/``0``, quotes, ``,``/``.``, spaces, a text cursor) vote
together: the most frequent reading wins, so one bad frame does not. A reading that differs by
more than that is an edit: the latest one stands. Python cells then go through ``ast``: another
frame's reading of a line, or a quote or bracket, replaces a line only where the parse proves
it (``code.repair``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..models import CodeBlock
from . import code as codes
from . import layout

SAME_CELL = 60.0  # rapidfuzz ratio above which two frames show the same (edited) cell
LINE_MATCH = 70.0  # two readings of one line
_CONFUSED = str.maketrans({"l": "1", "i": "1", "|": "1", "!": "1", "o": "0", ";": ":",
                           ",": ".", "'": None, '"': None, "`": None, " ": None})


@dataclass
class Seen:
    """One cell as one frame shows it."""

    scene: int
    time: float
    end: float  # the frame (and its duplicates) shown until
    cell: codes.Cell


def ocr_key(line: str) -> str:
    """What is left of a line when every difference OCR makes by mistake is ignored."""
    return line.strip().rstrip("|").lower().translate(_CONFUSED)


def _sim(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    a, b = a.strip(), b.strip()
    if not a or not b:
        return 100.0 if a == b else 0.0
    return float(fuzz.ratio(a, b))


def align(base: list[str], other: list[str]) -> dict[int, str]:
    """``other``'s reading of each line of ``base`` (lines kept in order; unmatched left out)."""
    n, m = len(base), len(other)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = _sim(base[i], other[j])
            best = max(score[i + 1][j], score[i][j + 1])
            if s >= LINE_MATCH:
                best = max(best, s + score[i + 1][j + 1])
            score[i][j] = best
    out: dict[int, str] = {}
    i = j = 0
    while i < n and j < m:
        s = _sim(base[i], other[j])
        if s >= LINE_MATCH and score[i][j] == s + score[i + 1][j + 1]:
            out[i] = other[j]
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


def vote(readings: list[str]) -> tuple[str, list[str]]:
    """The winning reading of one line (``readings`` in time order, the final form's last) and
    the other readings that count as the same text, most frequent first."""
    latest = readings[-1]
    pool = [r for r in readings if ocr_key(r) == ocr_key(latest)]
    counts = Counter(pool)
    last_seen = {r: k for k, r in enumerate(readings)}
    ranked = sorted(counts, key=lambda r: (counts[r], last_seen[r]), reverse=True)
    return ranked[0], ranked[1:]


def _same_cell(a: list[str], b: list[str]) -> bool:
    from rapidfuzz import fuzz

    x, y = "\n".join(a), "\n".join(b)
    return fuzz.ratio(x, y) >= SAME_CELL or fuzz.partial_ratio(x, y) >= 95


def group(seen: list[Seen], window: int = 4) -> list[list[Seen]]:
    """Cells in time order grouped: the same cell again (typed further, edited) joins its group."""
    groups: list[list[Seen]] = []
    for s in seen:
        for g in reversed(groups[-window:]):
            if _same_cell(g[-1].cell.lines, s.cell.lines):
                g.append(s)
                break
        else:
            groups.append([s])
    return groups


def merge_group(g: list[Seen]) -> CodeBlock:
    """One block: the final form's lines, each voted over every frame that shows it."""
    final = g[0]
    for s in g[1:]:  # the later, fuller form is the final one (a shorter one is scrolled)
        if sum(map(len, s.cell.lines)) >= 0.8 * sum(map(len, final.cell.lines)):
            final = s
    base = final.cell.lines
    others = [align(base, s.cell.lines) for s in g if s is not final]
    lines: list[str] = []
    alternatives: dict[int, list[str]] = {}
    for i, line in enumerate(base):
        readings = [o[i] for o in others if i in o] + [line]
        won, rest = vote(readings)
        lines.append(won)
        if rest:
            alternatives[i] = rest
    lang = layout.language(lines)
    repairs: list[str] = []
    if lang == "python":
        lines, repairs = codes.repair(lines, alternatives)
    return CodeBlock(language=lang, lines=lines + final.cell.output, start=g[0].time,
                     end=max(s.end for s in g), scenes=list(dict.fromkeys(s.scene for s in g)),
                     source_lines=len(lines), repairs=repairs, frames=len(g))


def merge(seen: list[Seen]) -> list[CodeBlock]:
    return [merge_group(g) for g in group(seen)]
