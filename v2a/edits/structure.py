"""The editor's chapter cuts (splits and merges), applied over any generated outline.

The outline stage applies them after it places and names chapters, so a re-run (another model,
a fixed transcript) keeps the editor's cuts; the review app applies one at a time. Applying is
idempotent: a cut that is already there, or a start that is already gone, changes nothing.
"""

from __future__ import annotations

from ..models import Outline, OutlineChapter, Transcript
from ..workspace import Workspace
from .models import Structure


def section_key(chapter: OutlineChapter) -> str:
    """A section's identity: the segment its chapter starts at (stable across LLM re-runs)."""
    return str(chapter.first_segment)


def apply_structure(outline: Outline, transcript: Transcript, structure: Structure) -> Outline:
    """``outline`` with the editor's merges and splits applied (chapters re-indexed)."""
    if not structure.added and not structure.removed:
        return outline
    chapters = [c.model_copy() for c in sorted(outline.chapters, key=lambda c: c.first_segment)]
    removed = set(structure.removed)
    merged: list[OutlineChapter] = []
    notes = []
    for ch in chapters:
        if merged and ch.first_segment in removed:
            prev = merged[-1]
            prev.last_segment, prev.end = ch.last_segment, ch.end
            notes.append(f"editor merged the chapter at segment {ch.first_segment} into the one before")
        else:
            merged.append(ch)
    segs = transcript.segments
    pos = {s.id: i for i, s in enumerate(segs)}
    for sid_text, title in sorted(structure.added.items(), key=lambda kv: int(kv[0])):
        sid = int(sid_text)
        same = next((c for c in merged if c.first_segment == sid), None)
        if same is not None:
            same.title = title  # the editor's title for a start that exists anyway
            continue
        host = next((c for c in merged if c.first_segment < sid <= c.last_segment), None)
        if host is None or sid not in pos or pos[sid] == 0:
            continue  # the segment is gone (a new transcript): the cut cannot be placed
        seg = segs[pos[sid]]
        new = OutlineChapter(index=0, title=title, summary="", first_segment=sid,
                             last_segment=host.last_segment, start=round(seg.start, 3),
                             end=host.end)
        host.last_segment, host.end = segs[pos[sid] - 1].id, new.start
        merged.insert(merged.index(host) + 1, new)
        notes.append(f"editor split a chapter at segment {sid}")
    for k, ch in enumerate(merged):
        ch.index = k
    return outline.model_copy(update={"chapters": merged, "notes": outline.notes + notes})


def load_structure(ws: Workspace) -> Structure:
    """The editor's cuts in this work folder (none without a review.json)."""
    from .store import load

    return load(ws).structure
