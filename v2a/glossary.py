"""The glossary of a video: terms read off its screen plus the ones editors fixed by hand.

``glossary.json`` next to a video's artifacts holds that video's editor terms; one in a batch
root (the folder with ``batch.json``) holds terms for every video of the batch. Both are
optional and hand-editable (``Glossary`` in ``v2a.models``): a term, and the misheard forms
(``variants``) to replace with it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import V2AError
from .models import Glossary, GlossaryTerm, Screen
from .workspace import Workspace, read_model, sha256_file

if TYPE_CHECKING:
    from .stage import StageContext

NAME = "glossary.json"


def paths(ws: Workspace) -> list[Path]:
    """The batch's glossary (if this folder is a batch's video) and this video's own."""
    out = []
    root = ws.root.parent.parent
    if (root / "batch.json").exists():
        out.append(root / NAME)
    out.append(ws.path(NAME))
    return [p for p in out if p.exists()]


def editor_terms(ws: Workspace) -> list[GlossaryTerm]:
    terms: dict[str, GlossaryTerm] = {}
    for p in paths(ws):
        try:
            g = read_model(p, Glossary)
        except V2AError:
            raise
        for t in g.terms:
            terms[t.term.lower()] = t  # the video's own entry wins over the batch's
    return list(terms.values())


def screen_terms(ws: Workspace) -> list[str]:
    p = ws.path("screen.json")
    return read_model(p, Screen).terms if p.exists() else []


def all_terms(ws: Workspace, limit: int = 30) -> list[str]:
    """Editor terms first, then the screen's, without repeats."""
    seen: dict[str, str] = {}
    for t in [g.term for g in editor_terms(ws)] + screen_terms(ws):
        seen.setdefault(t.lower(), t)
    return list(seen.values())[:limit]


def fingerprint(ctx: StageContext) -> dict:
    """Cache-key material: the editor glossaries' contents."""
    return {str(p.name if p.parent == ctx.ws.root else "batch"): sha256_file(p)
            for p in paths(ctx.ws)}


def apply_variants(text: str, terms: list[GlossaryTerm]) -> tuple[str, int]:
    """Replace every editor-listed misheard form with its term (case-insensitive, whole words)."""
    n = 0
    for t in terms:
        for v in sorted(t.variants, key=len, reverse=True):
            if not v.strip():
                continue
            pattern = re.compile(rf"(?<!\w){re.escape(v.strip())}(?!\w)", re.IGNORECASE)
            text, k = pattern.subn(t.term, text)
            n += k
    return text, n
