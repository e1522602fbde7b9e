"""A short summary of each part for the book's front page, from the part's outline.

``outline`` (the default, no model): the part's chapter titles. ``llm``: one call per part,
from its chapter titles and the outline's one-line chapter summaries (never the transcript),
through the per-call cache in the book's folder; a reply that is not two plain sentences, or an
LLM that fails, falls back to the titles. ``book.json`` keeps each summary under the hash of the
outline it came from, so an unchanged part never asks again.
"""

from __future__ import annotations

import hashlib
import json
import re

from ..config import Config
from ..errors import V2AError
from ..llm.prompts import language_name, render, template_hash
from ..stage import StageContext
from .models import BookState, PartData

TEMPLATE = "summarize_part.user.j2"
VERSION = 2  # of the reply's clean-up: a new one re-reads the (cached) replies
# small models open with the prompt's own framing despite being asked not to
_LEAD = re.compile(r"^(?:this|in this) (?:part|video|lesson|section)(?: of the course)?,? "
                   r"(?:teaches|covers|explains|introduces|is about|we learn)(?: you)?"
                   r"(?: about)?\s+", re.IGNORECASE)


def from_outline(part: PartData) -> str:
    return "; ".join(t for t, _ in part.outline) + "." if part.outline else ""


def outline_hash(part: PartData, course: str, mode: str) -> str:
    return hashlib.sha256(json.dumps([VERSION, mode, course, part.title, part.outline, part.lang])
                          .encode()).hexdigest()[:20]


def summarize(parts: list[PartData], course: str, state: BookState, mode: str,
              ctx: StageContext | None) -> dict[str, tuple[str, str]]:
    """Entry key → (by, summary): by "outline" or the model's name."""
    out: dict[str, tuple[str, str]] = {}
    for n, p in enumerate(parts, 1):
        key = outline_hash(p, course, mode)
        if key in state.summaries:
            out[p.key] = state.summaries[key]
            continue
        made = ("outline", from_outline(p))
        if mode == "llm" and ctx is None:  # no model at hand (the review app): a stand-in,
            out[p.key] = made  # not kept, so the next build with the model asks for it
            continue
        if mode == "llm" and ctx is not None and p.outline:
            text = _ask(ctx, p, n, course)
            if text:
                made = (ctx.llm().model_name or "LLM", text)
        state.summaries[key] = out[p.key] = made
    return out


def _ask(ctx: StageContext, p: PartData, number: int, course: str) -> str | None:
    cfg: Config = ctx.config
    prompt = render(cfg, TEMPLATE, number=number, course=course, title=p.title,
                    chapters=p.outline, language=language_name(p.lang))
    try:
        reply = ctx.llm().complete([{"role": "user", "content": prompt}], max_tokens=160,
                                   temperature=0.2, tag={"prompt": template_hash(cfg, TEMPLATE)})
    except (V2AError, OSError) as e:  # the book is still made: the titles stand in
        ctx.progress.log(f"summary of part {number}: {e}; its chapter titles stand in")
        return None
    text = " ".join(reply.text.split()).strip().strip('"')
    text = _LEAD.sub("", text)
    text = text[:1].upper() + text[1:]
    sentences = re.findall(r"[^.!?]+[.!?]", text)
    if not 1 <= len(sentences) <= 4 or len(text) > 600 or re.search(r"[#*`\[\]<>]", text):
        return None
    return text
