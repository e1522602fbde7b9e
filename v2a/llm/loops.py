"""Detecting a reply that repeats itself, while it streams, so a looping small model is cut off
early instead of being paid for up to its token cap."""

from __future__ import annotations

import re

WINDOW = 3000  # characters of the reply's end that are examined
SHORT = 20  # a span shorter than this must repeat more often to count (table rules, "- - -")
_SENTENCE = re.compile(r"[^.!?\n]{25,}?[.!?\n]")


def loop_start(text: str, repeats: int = 3, min_period: int = 4) -> int | None:
    """Where ``text`` starts repeating itself (the end of its first copy), or None.

    Two shapes of a loop: the text ends in one span repeated back to back ("the the the", a
    JSON fragment over and over) — 3 times for a span of 20+ characters, 8 times for a shorter
    one — or one sentence of 25+ characters occurs ``repeats`` times anywhere.
    """
    tail_start = max(0, len(text) - WINDOW)
    tail = text[tail_start:]
    n = len(tail)
    for p in range(min_period, n // repeats + 1):
        span = tail[n - p:]
        if not span.strip():
            continue
        need = repeats if p >= SHORT else max(repeats, 8)
        if n < p * need or tail[n - p * need:] != span * need:
            continue
        copies = need
        while n >= p * (copies + 1) and tail[n - p * (copies + 1): n - p * copies] == span:
            copies += 1
        return tail_start + n - p * (copies - 1)
    seen: dict[str, list[int]] = {}
    for m in _SENTENCE.finditer(text):
        key = " ".join(m.group(0).lower().split())
        seen.setdefault(key, []).append(m.end())
        if len(seen[key]) >= repeats:
            return seen[key][0]
    return None
