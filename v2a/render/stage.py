"""The render stage: artifacts → the article in each configured format (``--format``)."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..edits.models import Review
from ..edits.overlay import overrides, render_fingerprint
from ..edits.store import load as load_review
from ..edits.store import review_path
from ..errors import V2AError
from ..models import Draft, Outline, Scenes, Screen, Transcript
from ..registry import RENDERERS
from ..stage import StageContext, StageResult
from ..stages import CHAPTERS, OUTLINE, SCENES, SCREEN, TRANSCRIPT
from ..workspace import ArtifactError, atomic_write_text, read_model, sha256_file, sha256_json
from .article import Article, build_article

HERE = Path(__file__).parent


def outputs(config: Config) -> tuple[str, ...]:
    return tuple(RENDERERS.get(f).filename for f in config.formats)


def fingerprint(ctx: StageContext) -> dict:
    """Templates and renderer code: editing either re-renders (nothing upstream re-runs); so
    does an editor's change to what the article shows (review.json)."""
    files = sorted(HERE.glob("*.py")) + sorted(p for p in (HERE / "templates").rglob("*") if p.is_file())
    out = {"render": sha256_json({p.relative_to(HERE).as_posix(): sha256_file(p) for p in files})}
    edits = render_fingerprint(_review(ctx))
    if edits is not None:
        out["review"] = edits
    return out


def _review(ctx: StageContext) -> Review | None:
    return load_review(ctx.ws) if review_path(ctx.ws).exists() else None


def load_article(ctx: StageContext) -> Article:
    ws = ctx.ws

    def need(name: str, cls):
        p = ws.path(name)
        if not p.exists():
            raise V2AError(f"render needs {name} in {ws.root}; run the stages before it first")
        return read_model(p, cls)

    transcript = need(TRANSCRIPT.name, Transcript)
    outline = need(OUTLINE.name, Outline)
    bad = outline.problems(transcript)
    if bad:
        raise ArtifactError(f"{ws.path(OUTLINE.name)}: {bad[0]}; fix it by hand or re-run "
                            "with --force outline")
    if not outline.chapters and transcript.segments:
        raise V2AError(f"{ws.path(OUTLINE.name)} has no chapters; fix it by hand or re-run "
                       "with --force outline")
    scenes = read_model(ws.path(SCENES.name), Scenes) if ws.path(SCENES.name).exists() else None
    draft = read_model(ws.path(CHAPTERS.name), Draft) if ws.path(CHAPTERS.name).exists() else None
    screen = read_model(ws.path(SCREEN.name), Screen) if ws.path(SCREEN.name).exists() else None
    return build_article(ctx.source, transcript, scenes, outline, draft, ws.root, screen,
                         overrides(outline, _review(ctx)))


def run(ctx: StageContext) -> StageResult:
    renderers = [RENDERERS.get(f) for f in ctx.config.formats]
    with ctx.progress.task("render article", total=len(renderers)) as bar:
        article = load_article(ctx)
        for r in renderers:
            if r.write is not None:
                r.write(article, ctx.config, ctx.ws.path(r.filename))
            else:
                atomic_write_text(ctx.ws.path(r.filename), r.render(article, ctx.config))
            bar.advance(1)
    failed = sum(s.status == "failed" for s in article.sections)
    images = sum(len(s.figures) for s in article.sections)
    if article.no_speech:
        return StageResult(f"no speech in this video: a page of its {images} keyframes")
    detail = f"{len(article.sections)} chapters, {images} images"
    return StageResult(detail=detail + (f", {failed} without text" if failed else ""))
