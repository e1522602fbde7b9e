"""All doubts about one work folder, ranked, with the coverage strip: ``checks.json``."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import V2AError
from ..models import Draft, Outline, Screen, Transcript
from ..stages import AUDIO, CHAPTERS, OUTLINE, SCREEN, TRANSCRIPT
from ..workspace import Workspace, write_json
from . import doubts as d
from .models import Checks, Coverage, Doubt, Span
from .second import Cut, Opinion


def _chapter_of(outline: Outline | None):
    chapters = sorted(outline.chapters, key=lambda c: c.start) if outline else []

    def chapter_of(t: float) -> int | None:
        hit = [c.index for c in chapters if c.start <= t + 1e-6]
        return hit[-1] if hit else (chapters[0].index if chapters else None)

    return chapter_of


def find_doubts(transcript: Transcript, screen: Screen | None = None,
                outline: Outline | None = None, draft: Draft | None = None,
                unsure_threshold: float = d.UNSURE, timings: dict[str, float] | None = None,
                opinion: Opinion | None = None) -> tuple[list[Doubt], list[d.Para]]:
    """Every detector over the artifacts there are; the doubts ranked, likeliest first."""
    timings = {} if timings is None else timings
    chapter_of = _chapter_of(outline)
    found: list[Doubt] = []

    def timed(name: str, fn, *args, **kw):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - t0, 4)
        return out

    shown = d.screen_words(screen)
    found += timed("unsure", d.unsure, transcript, shown, unsure_threshold, chapter_of, opinion)
    found += timed("screen", d.screen_conflicts, transcript, screen, chapter_of)
    found += timed("code", d.code_disagreements, screen)
    if outline is not None:
        found += timed("title", d.titles, outline, transcript, found)
    paras: list[d.Para] = []
    if outline is not None and draft is not None:
        paras = timed("sources", d.prose_paragraphs, draft, outline, transcript)
        found += timed("unsaid", d.unsaid, paras, outline, transcript, screen)
        found += timed("unsupported", d.unsupported, paras, transcript)
        found += timed("uncovered", d.uncovered, paras, outline, transcript, draft)
        found += timed("retried", d.retried, draft, outline)
    return rank(found), paras


def rank(found: list[Doubt]) -> list[Doubt]:
    """Likeliest real errors first; one doubt per place and kind (the highest score kept), and
    a word doubted by both the recogniser and the screen counts once, more strongly."""
    best: dict[str, Doubt] = {}
    for x in found:
        if x.id not in best or x.score > best[x.id].score:
            best[x.id] = x
    out = list(best.values())
    screen = [x for x in out if x.kind == "screen"]
    keep = []
    for x in out:
        twin = x.kind == "unsure" and next((s for s in screen if s.start < x.end + 0.05
                                            and x.start < s.end + 0.05), None)
        if twin:  # the screen's doubt says more (a suggestion); it takes the recogniser's weight
            twin.score = round(min(1.0, twin.score + 0.5 * x.score), 3)
            twin.severity = d.severity(twin.score)  # type: ignore[assignment]
            twin.evidence += f"; {x.evidence}"
            continue
        keep.append(x)
    return sorted(keep, key=lambda x: (-x.score, x.start))


def coverage(transcript: Transcript, paras: list[d.Para], found: list[Doubt],
             written: bool) -> Coverage:
    """Covered, uncovered and doubtful stretches of the speech, for the timeline strip."""
    segs = transcript.segments
    speech = sum(s.end - s.start for s in segs)
    covered = [not written] * len(segs)
    for a, b in d.covered_ranges(paras, transcript):
        for k in range(a, b + 1):
            covered[k] = True
    serious = [x for x in found if x.severity == "high"]
    spans: list[Span] = []
    for s, cov in zip(segs, covered):
        doubtful = any(x.start < s.end and s.start < x.end + 0.01 for x in serious)
        state = "doubtful" if doubtful else "covered" if cov else "uncovered"
        if spans and spans[-1].state == state and s.start - spans[-1].end < 5.0:
            spans[-1].end = s.end
        else:
            spans.append(Span(start=s.start, end=s.end, state=state))  # type: ignore[arg-type]
    cov_s = sum(s.end - s.start for s, c in zip(segs, covered) if c)
    return Coverage(speech_s=round(speech, 1), covered_s=round(cov_s, 1),
                    share=round(cov_s / speech, 3) if speech else 1.0,
                    paragraphs=len(paras), paragraphs_with_sources=sum(bool(p.sources) for p in paras),
                    spans=spans)


def resolutions(root: Path) -> dict[str, str]:
    """The editor's decisions on doubts (``review.json`` ``doubts``: id → fixed/correct/ignore),
    read loosely so a review file from before doubts existed is fine."""
    path = root / "review.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    got = data.get("doubts") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in got.items()
            if v in ("fixed", "correct", "ignore")} if isinstance(got, dict) else {}


BUDGET = 12.0  # seconds of audio the second listen hears per minute of speech (--listen-budget)
# auto hears this much audio at least: all of a talk up to this long (the spans of a short talk
# found a third of its errors; the whole listen four in five, bench/results/doubts.json)
AUTO_S = 20 * 60.0
LISTEN_MODES = ("auto", "spans", "whole", "off")


def auto_listen(transcript: Transcript, budget: float = BUDGET) -> tuple[str, float]:
    """What ``auto`` hears: ``("whole", 0)`` for speech up to ``AUTO_S`` long, else ``("spans",
    per_minute)`` with the budget raised to hear ``AUTO_S`` of it in all."""
    from .second import duration

    seconds = duration(transcript)
    if seconds <= AUTO_S:
        return "whole", 0.0
    return "spans", round(max(budget, AUTO_S / (seconds / 60)), 2)


def listen_again(ws: Workspace, transcript: Transcript, cuts: list[Cut] | None, threads: int = 2,
                 device: str = "cpu", cache_dir: Path | None = None) -> Opinion | None:
    """The second model's reading of ``cuts`` of the speech (None: no audio or no model; with
    ``cuts`` None, only what was heard before, if anything)."""
    from .second import hear, second_model

    model = second_model(transcript)
    audio = ws.path(AUDIO.name)
    if model is None or not audio.exists() or not transcript.segments:
        return None
    return hear(audio, cuts or [], model, transcript.language, threads,
                ws.meta / "second_opinion.json", cached_only=cuts is None, device=device,
                cache_dir=cache_dir)


def build(ws: Workspace, unsure_threshold: float = d.UNSURE, listen: str | None = None,
          threads: int = 2, budget: float = BUDGET, device: str = "cpu",
          cache_dir: Path | None = None, decisions: bool = True) -> Checks:
    """The checks of a work folder from its artifacts (transcript.json at least). ``listen``:
    where a second model hears the speech again (``v2a.checks.second``) — ``spans`` (the
    stretches that need it most, ``budget`` seconds per minute of speech), ``whole``, ``auto``
    (``auto_listen``: whole for a short talk) or ``off``; None: only what an earlier listen
    heard, if anything. ``decisions``: with the editor's (review.json); the checks stage leaves
    them out (its artifact is a function of the pipeline's artifacts)."""
    from . import spans
    from .second import duration, whole

    t0 = time.perf_counter()
    if not ws.path(TRANSCRIPT.name).exists():
        raise V2AError(f"{ws.root} has no {TRANSCRIPT.name}: run `v2a run` first")
    if listen not in (None, *LISTEN_MODES):
        raise V2AError(f"listen {listen!r} is not one of: {', '.join(LISTEN_MODES)}")
    transcript = ws.read(TRANSCRIPT)
    screen = ws.read(SCREEN) if ws.path(SCREEN.name).exists() else None
    outline = ws.read(OUTLINE) if ws.path(OUTLINE.name).exists() else None
    draft = ws.read(CHAPTERS) if ws.path(CHAPTERS.name).exists() else None
    timings: dict[str, float] = {}
    notes: list[str] = []
    opinion = None
    if listen == "auto":
        listen, budget = auto_listen(transcript, budget)
    if listen != "off":
        cuts: list[Cut] | None = None
        if listen == "whole":
            cuts = whole(transcript)
        elif listen == "spans":  # where the doubts found without it point, first
            first, paras = find_doubts(transcript, screen, outline, draft, unsure_threshold)
            cuts = spans.plan(transcript, screen, first, paras, budget, duration(transcript))
        t1 = time.perf_counter()
        opinion = listen_again(ws, transcript, cuts, threads, device, cache_dir)
        if opinion is None and listen is not None and not ws.path(AUDIO.name).exists():
            notes.append(f"no second listen: no {AUDIO.name} in this folder")
        if opinion is not None:
            timings["listen"] = round(opinion.wall_s if opinion.cached
                                      else time.perf_counter() - t1, 3)
            timings["listen_audio_s"] = round(opinion.audio_s, 1)
            timings["listen_new_s"] = opinion.new_s
    found, paras = find_doubts(transcript, screen, outline, draft, unsure_threshold, timings,
                               opinion)
    decided = resolutions(ws.root) if decisions else {}
    for x in found:
        x.resolved = decided.get(x.id)  # type: ignore[assignment]
    cov = coverage(transcript, paras, found, written=draft is not None)
    timings["total"] = round(time.perf_counter() - t0, 4)
    return Checks(doubts=found, coverage=cov, timings=timings, notes=notes)


def with_decisions(checks: Checks, root: Path) -> Checks:
    """``checks`` with the editor's decisions of ``root``'s review.json."""
    decided = resolutions(root)
    for x in checks.doubts:
        x.resolved = decided.get(x.id)  # type: ignore[assignment]
    return checks


def write(ws: Workspace, checks: Checks) -> Path:
    path = ws.checks_json
    write_json(path, checks)
    return path
