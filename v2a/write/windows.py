"""Cutting a transcript into what a prompt can hold: candidate blocks, windows, excerpts."""

from __future__ import annotations

from dataclasses import dataclass

from ..llm.usage import count_tokens
from ..models import Segment
from .candidates import Candidate


@dataclass
class Block:
    """A run of segments between two candidate boundaries: the unit the model picks from."""

    id: int  # segment id of its first segment (what the model answers)
    index: int  # position of that segment in the transcript
    text: str


def make_blocks(segments: list[Segment], cands: list[Candidate]) -> list[Block]:
    starts = [0] + [c.index for c in cands]
    bounds = starts + [len(segments)]
    return [Block(id=segments[a].id, index=a,
                  text=" ".join(s.text.strip() for s in segments[a:b]))
            for a, b in zip(bounds, bounds[1:]) if b > a]


def split_windows(blocks: list[Block], budget_tokens: int) -> list[list[Block]]:
    """Consecutive groups of blocks whose text fits ``budget_tokens`` (at least one block each)."""
    windows: list[list[Block]] = [[]]
    used = 0
    for b in blocks:
        n = count_tokens(b.text) + 6
        if windows[-1] and used + n > budget_tokens:
            windows.append([])
            used = 0
        windows[-1].append(b)
        used += n
    return windows


def excerpt(text: str, max_tokens: int) -> str:
    """The beginning of ``text``, about ``max_tokens`` long."""
    n = count_tokens(text)
    if n <= max_tokens:
        return text
    words = text.split()
    keep = max(20, len(words) * max_tokens // n)
    return " ".join(words[:keep]) + " …"
