"""Code as the author wrote it, from the OCR lines of one code column.

* Chrome is left out: notebook run buttons and counts (``[ ]``, ``[7]``, ``In [3]:``,
  ``Out[3]:``), gutter line numbers, REPL and shell prompts (``>>>``, ``...``, ``$``).
* Indentation is rebuilt on the grid of the monospace font (no OCR engine keeps leading spaces).
* A column may hold several cells (a notebook page); each is returned with its output apart.
* Python is checked with ``ast``: a quote or bracket the OCR lost is put back only where the
  repaired cell parses further than the one read (``print('.join(chars))`` → ``print(''.join(
  chars))``); nothing else is ever rewritten.
"""

from __future__ import annotations

import ast
import re
import statistics
import textwrap
from dataclasses import dataclass, field

from ..models import ScreenLine
from . import layout
from .classify import CHROME, Layout, classify, columns, row_kind

_IN = re.compile(r"^\s*(?:In\s*\[\s*[\d*]*\s*\]\s*:?|\[\s*[\d*]{0,4}\s*\]\s*:?)")
_OUT = re.compile(r"^\s*Out\s*\[\s*[\d*]*\s*\]\s*:?")
_NUM = re.compile(r"^\s*(\d{1,4})\s*$")
_NUM_PREFIX = re.compile(r"^\s*(\d{1,4})\s+(?=\S)")
_REPL = re.compile(r"^(>>>|\.\.\.(?=\s|$))\s?")
_SHELL = re.compile(r"^\$\s+(?=\S)")


@dataclass
class Row:
    text: str
    x: float  # where the text starts (after any chrome)
    top: float
    bottom: float
    char_w: float | None  # this row's character width, when it can be measured
    width: float = 0.0  # the row's first box
    boxes: int = 1
    mark: str = ""  # chrome seen on this row: "in" (a new cell), "out" (its output)
    prompt: str = ""  # ">>>", "...", "$": a prompt that was stripped
    numbered: bool = False  # a gutter number stands before it
    cut: bool = False  # chrome was cut off the front of its box: ``x`` is an estimate
    count: str = ""  # the notebook count of its mark ("7" for "[7]:")


@dataclass
class Cell:
    """One notebook cell, editor view or terminal session: its source and what it printed."""

    lines: list[str]
    output: list[str] = field(default_factory=list)
    top: float = 0.0


def _rows(lines: list[ScreenLine]) -> list[Row]:
    """Visual rows with notebook chrome and gutter numbers taken off."""
    grouped = layout.rows(lines)
    out: list[Row] = []
    pending = pending_count = ""  # an ``In [3]:`` or ``[ ]`` apart from the row it belongs to
    numbered = sum(bool(_NUM.match(r[0].text) or _NUM_PREFIX.match(r[0].text)) for r in grouped)
    gutter = numbered >= max(2, len(grouped) // 2)
    # chrome sits in the margin, left of where the text starts ("[5303]" printed is not chrome)
    starts = [b.box[0] for b in lines if not CHROME.match(b.text) and not _IN.match(b.text)
              and not _OUT.match(b.text) and not (gutter and _NUM_PREFIX.match(b.text))]
    margin = min(starts) if starts else float("inf")
    for r in grouped:
        mark = count = ""
        boxes = list(r)
        numbered = False
        while boxes and _is_chrome(boxes[0], len(boxes), gutter, margin):
            t = boxes[0].text
            numbered = numbered or bool(_NUM.match(t))
            count = "".join(c for c in t if c.isdigit()) if _IN.match(t) else count
            mark = "out" if _OUT.match(t) else "in" if _IN.match(t) else mark
            boxes.pop(0)
        if not boxes:
            pending = mark or pending
            pending_count = count or pending_count
            continue
        first = boxes[0]
        text = " ".join(b.text for b in boxes).strip()
        width = first.box[2] - first.box[0]
        cw = width / len(first.text) if len(first.text) >= 4 else None
        cut = 0
        for rx in (_OUT, _IN):  # chrome read into the line's box, in the margin ("[0] * n" is code)
            m = rx.match(text)
            if m and len(text) > m.end() and first.box[0] < margin - 1:
                mark = "out" if rx is _OUT else "in"
                cut = m.end()
                count = "".join(c for c in m.group(0) if c.isdigit())
                break
        if not cut and gutter and (m := _NUM_PREFIX.match(text)):
            cut, numbered = m.end(), True
        if cut:
            rest = text[cut:].lstrip()
            if cw:  # the text starts where its first character stands
                x = first.box[0] + (len(text) - len(rest)) * cw
            else:
                x = first.box[0]
            text = rest
        else:
            x = first.box[0]
        out.append(Row(text=text, x=x, top=min(b.box[1] for b in boxes),
                       bottom=max(b.box[3] for b in boxes), char_w=cw, width=width,
                       boxes=len(boxes), mark=mark or pending, numbered=numbered,
                       cut=bool(cut), count=count or pending_count))
        pending_count = ""
        pending = ""
    _strip_prompts(out)
    return out


def _is_chrome(b: ScreenLine, on_row: int, gutter: bool, margin: float) -> bool:
    """A gutter number (when the column has a gutter); a run button or prompt followed by text
    on its row or standing in the margin ("[5303]" printed under the code is text)."""
    if not CHROME.match(b.text):
        return False
    if _NUM.match(b.text):
        return gutter
    return on_row > 1 or b.box[0] < margin - 1


def _strip_prompts(rows: list[Row]) -> None:
    """REPL (``>>>``/``...``) and shell (``$``) prompts off, where the column uses them."""
    repl = any(r.text.startswith(">>>") for r in rows)
    shell = any(_SHELL.match(r.text) for r in rows)
    if not (repl or shell):
        return
    cw = _char_width(rows)
    for r in rows:
        m = _REPL.match(r.text) if repl else _SHELL.match(r.text)
        if not m:
            continue
        r.prompt = m.group(1) if repl else "$"
        rest = r.text[m.end():].lstrip()
        if cw:
            r.x += (4 if r.prompt == ">>>" else m.end()) * cw  # ">>>" and its space, shown
            if r.prompt == "...":  # OCR keeps one space after "...": the rest is indentation
                r.x += max(0, round(r.width / cw) - len(r.text)) * cw
        r.text = rest


def _char_width(rows: list[Row]) -> float | None:
    widths = [r.char_w for r in rows if r.char_w]
    return statistics.median(widths) if widths else None


def cells(lines: list[ScreenLine]) -> list[Cell]:
    """The code cells in one column, top to bottom (none when it holds no code)."""
    rows = _rows(lines)
    if not rows:
        return []
    kinds = ["code" if r.prompt else row_kind(r.text) for r in rows]
    first = next((i for i, r in enumerate(rows) if r.prompt), len(rows))
    for i in range(first, len(rows)):  # after a prompt, unprompted rows are what it printed
        if not rows[i].prompt:
            kinds[i] = "output"
    # segments: a new cell at every "In"/[ ] mark; output from an "Out" mark
    last = ""
    for r in rows:  # JupyterLab marks an output with its cell's count: "[1]:" again
        if r.mark == "in" and r.count:
            if r.count == last:
                r.mark = "out"
            last = r.count
    segs: list[list[int]] = [[]]
    for i, r in enumerate(rows):
        if r.mark == "in" and segs[-1]:
            segs.append([])
        segs[-1].append(i)
    out: list[Cell] = []
    for seg in segs:
        out += _seg_cells(rows, kinds, seg)
    return out


def _seg_cells(rows: list[Row], kinds: list[str], seg: list[int]) -> list[Cell]:
    """Runs of code rows (other short rows may sit inside a run), each with its output."""
    found: list[Cell] = []
    i, n = 0, len(seg)
    while i < n:
        if kinds[seg[i]] != "code" or rows[seg[i]].mark == "out":
            i += 1
            continue
        j = i
        while j + 1 < n and kinds[seg[j + 1]] not in ("prose", "output") \
                and rows[seg[j + 1]].mark != "out" and not _far(rows, seg[j], seg[j + 1]):
            j += 1
        while kinds[seg[j]] != "code":  # a run ends on code
            j -= 1
        run = [seg[t] for t in range(i, j + 1)]
        if any(rows[t].numbered for t in run):
            # an editor numbers every line of the file: a row at either end of the run with no
            # number and not on the code's left edge is outside it (breadcrumbs, a status bar);
            # one on the edge lost its number to the OCR
            edge = min(rows[t].x for t in run if rows[t].numbered)
            cw = _char_width([rows[t] for t in run]) or 1.0
            while len(run) > 1 and _outside(rows[run[0]], edge, cw):
                run.pop(0)
            while len(run) > 1 and _outside(rows[run[-1]], edge, cw):
                run.pop()
        n_code = sum(kinds[t] == "code" for t in run)
        if n_code < 2 and not (rows[run[0]].mark == "in" or rows[run[0]].prompt):
            i = j + 1
            continue
        # output: from an "Out" mark on, or plain rows right under the code
        end, shown = j + 1, False
        while end < n:
            r, k = rows[seg[end]], kinds[seg[end]]
            shown = shown or r.mark == "out"
            if r.prompt or not (shown or k in ("other", "data", "output")) or \
                    _far(rows, seg[end - 1], seg[end]):
                break
            end += 1
        run_w = _char_width([rows[t] for t in run])
        found.append(Cell(lines=_indent([rows[t] for t in run]),
                          output=[_respace(rows[seg[t]], run_w) if run_w else rows[seg[t]].text
                                  for t in range(j + 1, end)],
                          top=rows[run[0]].top))
        i = end
    return _join_repl(found, rows, seg)


def _outside(r: Row, edge: float, cw: float) -> bool:
    return not r.numbered and r.x < edge - cw


def _far(rows: list[Row], a: int, b: int) -> bool:
    """Rows more than three line heights apart: another panel (a terminal under the editor),
    not blank lines inside the code."""
    return rows[b].top - rows[a].bottom > 3.2 * (rows[a].bottom - rows[a].top)


def _join_repl(found: list[Cell], rows: list[Row], seg: list[int]) -> list[Cell]:
    """A REPL session is one cell: every prompted line, in order, with all it printed."""
    if not any(rows[t].prompt in (">>>", "...") for t in seg) or len(found) < 2:
        return found
    return [Cell(lines=[ln for c in found for ln in c.lines],
                 output=[ln for c in found for ln in c.output], top=found[0].top)]


def _indent(rows: list[Row]) -> list[str]:
    """Each row's text at its column on the font's grid; blank lines where rows are apart."""
    char_w = _char_width(rows)
    if char_w is None:
        return [r.text for r in rows]
    # a row whose chrome was cut off its box starts about where we estimate: within 1.5
    # characters of the others' left edge it is on that edge
    uncut = min((r.x for r in rows if not r.cut), default=None)
    xs = [uncut if r.cut and uncut is not None and abs(r.x - uncut) < 1.5 * char_w else r.x
          for r in rows]
    # the left edge: the middle of the rows that start within 1.5 characters of the leftmost
    # (a box's edge jitters by a character in a small frame)
    x0 = statistics.median(x for x in xs if x < min(xs) + 1.5 * char_w)
    cols = [max(0.0, (x - x0) / char_w) for x in xs]
    unit = layout._indent_unit(cols)
    gaps = [b.top - a.top for a, b in zip(rows, rows[1:])]
    spacing = min(g for g in gaps if g > 0) if any(g > 0 for g in gaps) else 0.0
    out: list[str] = []
    for k, (r, col) in enumerate(zip(rows, cols)):
        if k and spacing > 0:
            out += [""] * min(2, max(0, round((r.top - rows[k - 1].top) / spacing) - 1))
        out.append(" " * (unit * round(col / unit)) + _respace(r, char_w))
    return out


# where OCR drops a character that was there (group 1 ends where it goes): a space after a
# comma, after a comment's ``#``, before an inline comment (PEP 8's two), after a keyword glued
# to a name, around a lone ``=``; the second underscore closing a dunder name
_SPOTS = [(re.compile(p), ch) for p, ch in (
    (r"(,)[^\s)\]}]", " "), (r"^(#)[^\s!#]", " "), (r"(\S) # ", " "),
    (r"^(def|class|return|import|from|for|if|elif|while|with|print)[A-Za-z_](?!\w*\s*=[^=])", " "),
    (r"([\w)\]])=\s", " "), (r"\s(=)[^\s=]", " "),
    (r"\b(__[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)_(?![_\w])", "_"))]


def _spots(text: str) -> list[tuple[int, str]]:
    return sorted((m.end(1), ch) for rx, ch in _SPOTS for m in rx.finditer(text))


def _respace(r: Row, char_w: float) -> str:
    """Characters OCR dropped inside a line, put back where the box is that many characters
    wider than its text and there are exactly that many usual places for one (``_SPOTS``)."""
    text = r.text.strip()
    if r.char_w is None or r.boxes > 1:
        return text
    missing = round(len(text) * r.char_w / char_w) - len(text)
    spots = _spots(text)
    if missing < 1 or len(spots) != missing:
        return text
    for at, ch in reversed(spots):
        text = text[:at] + ch + text[at:]
    return text


# --- ast: which reading parses, and the repairs a parse proves ----------------------------------


def _prepared(lines: list[str]) -> str:
    """Source for ``ast``: notebook magics (``!pip``, ``%time``) as ``pass``, common indent off."""
    src = [re.sub(r"^(\s*)[!%].*$", r"\1pass", ln) for ln in lines]
    return textwrap.dedent("\n".join(src))


def parse_error(lines: list[str]) -> int | None:
    """The 1-based line where parsing fails, or None when the lines parse (0: no line known)."""
    try:
        ast.parse(_prepared(lines))
    except SyntaxError as exc:
        return exc.lineno or 0
    except (ValueError, RecursionError):
        return 0
    return None


def _better(before: int | None, after: int | None) -> bool:
    if before is None:
        return False
    return after is None or (after > before and before > 0)


_OPENER = re.compile(r"^\s*(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|"
                     r"with)\b")


def _candidates(line: str, last: bool = False) -> list[str]:
    """One-character repairs of quotes, brackets and a block's colon, in a fixed order.

    The last line of a cell may be one being typed: nothing is added at its end there.
    """
    out: list[str] = []
    s = line.rstrip()
    if s.endswith("|"):  # a text cursor read as a bar
        out.append(s[:-1].rstrip())
    for q in ("'", '"'):
        if s.count(q) % 2:
            out += [s[:i] + q + s[i:] for i, c in enumerate(s) if c == q]
    for a, b in ("()", "[]", "{}"):
        diff = s.count(a) - s.count(b)
        if diff > 0 and not last:
            body, colon = (s[:-1], ":") if s.endswith(":") else (s, "")
            out.append(body + b * diff + colon)
        elif diff < 0:
            out += [s[:i] + s[i + 1:] for i, c in enumerate(s) if c == b]
    if _OPENER.match(s) and not s.endswith(":") and not last:
        out.append(s[:-1] + ":" if s[-1:] in ";.|i" else s + ":")
    return [c for c in dict.fromkeys(out) if c != line]


_HEADER = re.compile(r"^\s*(?:async\s+)?(?:def|class)\b.*:\s*$")
_PROSE = re.compile(r"^[A-Za-z][A-Za-z'-]*(?:[ ,;:]+[A-Za-z0-9'()-]+){2,}[.:]?$")


def _docstring(lines: list[str]) -> list[str] | None:
    """The lines with ``\"\"\"`` put back around a docstring: prose right under a ``def`` or
    ``class`` (OCR drops a line of bare quotes; an editor's gutter leaves its slot blank)."""
    for h, head in enumerate(lines):
        if not _HEADER.match(head):
            continue
        k = h + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        run = k
        while run < len(lines) and _PROSE.match(lines[run].strip()) and \
                parse_error([lines[run].strip()]) is not None:
            run += 1
        if run == k:
            continue
        indent = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
        quote = indent + '"""'
        # a blank slot on either side takes the quotes; else they are added
        slot = run < len(lines) and not lines[run].strip()
        return lines[:h + 1] + [quote] + lines[h + 2:k] + lines[k:run] + [quote] + \
            lines[run + slot:]
    return None


def repair(lines: list[str], alternatives: dict[int, list[str]] | None = None,
           limit: int = 5) -> tuple[list[str], list[str]]:
    """Lines where a parse proves a fix: another frame's reading of a line, or one quote or
    bracket. Returns the lines and what was changed ("old → new")."""
    lines = list(lines)
    fixes: list[str] = []
    for _ in range(limit):
        err = parse_error(lines)
        if err is None or not err:
            break
        done = False
        for k in (err - 1, err - 2):  # an open bracket is reported on the next line too
            if not 0 <= k < len(lines) or not lines[k].strip():
                continue
            indent = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
            options = [a for a in (alternatives or {}).get(k, []) if a != lines[k]]
            last = not any(ln.strip() for ln in lines[k + 1:])
            options += [indent + c.lstrip() for c in _candidates(lines[k], last)]
            for cand in options:
                trial = lines[:k] + [cand] + lines[k + 1:]
                if _better(err, parse_error(trial)):
                    fixes.append(f"{lines[k].strip()} → {cand.strip()}")
                    lines = trial
                    done = True
                    break
            if done:
                break
        if not done:
            quoted = _docstring(lines)
            if quoted is None or not _better(err, parse_error(quoted)):
                break
            fixes.append('docstring without its quotes → """ put back')
            lines = quoted
    return lines, fixes


def read_frame(lines: list[ScreenLine], width: float, height: float) -> tuple[Layout, list[Cell]]:
    """What the screen is, and its code cells when it is a code screen (none otherwise)."""
    lay = classify(lines, width, height)
    if lay.kind != "code" or lay.code is None:
        return lay, []
    return lay, cells(lay.code.lines)


def as_lines(found: list[Cell]) -> list[str] | None:
    """Cells as one listing (source, then output; a blank line between cells)."""
    out: list[str] = []
    for c in found:
        out += ([""] if out else []) + c.lines + c.output
    return out or None


def text_of(lines: list[ScreenLine], width: float) -> str:
    """The screen's text column by column, row by row (an image's alt text)."""
    return "\n".join(" ".join(x.text for x in r) for c in columns(lines, width)
                     for r in layout.rows(c.lines))
