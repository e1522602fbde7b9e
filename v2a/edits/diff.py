"""Word-level diffs for the editor: what a proposal or a re-run changes, as safe HTML."""

from __future__ import annotations

import difflib
import re

from markupsafe import Markup, escape

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def diff_html(old: str, new: str) -> Markup:
    """``new`` against ``old`` with <del>/<ins> marks; every piece of text is escaped."""
    a, b = tokens(old), tokens(new)
    out: list[str] = []
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(a[i1:i2]))))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return Markup("".join(out))


def changed_phrases(old: str, new: str) -> list[tuple[str, str]]:
    """The words replaced between two versions of a transcript line: [(misheard, fixed)]."""
    a, b = old.split(), new.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "replace":
            strip = ".,;:!?\"'()"
            find = " ".join(a[i1:i2]).strip(strip)
            repl = " ".join(b[j1:j2]).strip(strip)
            if find and repl and find != repl:
                out.append((find, repl))
    return out
