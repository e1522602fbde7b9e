"""``checks.json``: the doubts about one article, ranked, and how much of the speech it covers.

The models are artifacts of the checks stage, so they live with the others in ``v2a.models``
(the stage graph names them); the kinds' descriptions are here.
"""

from __future__ import annotations

from ..models import Checks, Coverage, Doubt, Resolution, Severity, Span
from ..models import DoubtKind as Kind

KINDS: dict[str, str] = {
    "unsure": "a word the recogniser was unsure of",
    "screen": "a word that conflicts with a term on screen",
    "unsaid": "a number, name or identifier in the prose the speaker did not say",
    "unsupported": "a prose sentence with little support in its source",
    "uncovered": "speech no paragraph covers",
    "code": "code whose frames disagree",
    "retried": "a chapter kept after retries or written by a fallback",
    "title": "a chapter title with a word the recogniser doubted in that chapter",
}

__all__ = ["KINDS", "Checks", "Coverage", "Doubt", "Kind", "Resolution", "Severity", "Span"]
