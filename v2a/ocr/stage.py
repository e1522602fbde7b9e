"""The ``screen`` stage: read every distinct keyframe → screen.json (text, titles, code, terms).

Runs after ``scenes`` and before ``transcribe``, so the terms on screen can guide and fix the
transcript. Only distinct keyframes are read (a slide shown again is a duplicate in
scenes.json). A notebook cell or an editor shown over several frames, growing as the speaker
types, is one code block in its final form.
"""

from __future__ import annotations

import time

from ..models import CodeBlock, Scenes, Screen, ScreenFrame
from ..registry import OCR_ENGINES
from ..stage import StageContext, StageResult
from ..workspace import read_model, write_json
from . import layout, terms

SAME_CELL = 60.0  # rapidfuzz ratio above which two frames show the same (edited) code


def _merge(blocks: list[CodeBlock], lines: list[str], frame: ScreenFrame, end: float) -> None:
    """Add one frame's code: the same cell again (or grown) replaces its earlier form."""
    from rapidfuzz import fuzz

    text = "\n".join(lines)
    for b in reversed(blocks[-3:]):
        old = "\n".join(b.lines)
        if fuzz.ratio(old, text) >= SAME_CELL or fuzz.partial_ratio(old, text) >= 95:
            if len(text) >= len(old) * 0.8:  # the later, fuller form wins
                b.lines = lines
                b.language = layout.language(lines) or b.language
            b.end = max(b.end, end)
            b.scenes.append(frame.scene)
            return
    blocks.append(CodeBlock(language=layout.language(lines), lines=lines, start=frame.time,
                            end=end, scenes=[frame.scene]))


def read_screen(ctx: StageContext, scenes: Scenes) -> Screen:
    engine = OCR_ENGINES.get(ctx.config.ocr)(ctx.config)
    todo = [s for s in scenes.scenes if s.keyframe and s.duplicate_of is None]
    screen = Screen(engine=engine.name)
    t0 = time.perf_counter()
    from PIL import Image

    with ctx.progress.task("read the screen (OCR)", total=len(todo)) as task:
        for s in todo:
            path = ctx.ws.path(s.keyframe or "")
            with Image.open(path) as im:
                height = float(im.height)
            lines = [ln.model_copy(update={"text": terms.normalize(ln.text)})
                     for ln in engine.read(path)]
            frame = ScreenFrame(scene=s.index, time=s.start, keyframe=s.keyframe or "",
                                title=layout.title(lines, height), lines=lines,
                                code=layout.code(lines, height))
            screen.frames.append(frame)
            task.advance(1)
    # a duplicate keyframe shows the same screen again: its time extends the code's range
    shown_until = {s.index: s.end for s in scenes.scenes}
    for s in scenes.scenes:
        if s.duplicate_of is not None:
            shown_until[s.duplicate_of] = max(shown_until[s.duplicate_of], s.end)
    for f in screen.frames:
        if f.code:
            _merge(screen.code, f.code, f, shown_until.get(f.scene, f.time))
    screen.terms = terms.extract([ln.text for f in screen.frames for ln in f.lines])
    screen.timings = {"ocr_s": round(time.perf_counter() - t0, 2), "frames": float(len(todo))}
    return screen


def run(ctx: StageContext) -> StageResult:
    out = ctx.ws.path("screen.json")
    scenes_path = ctx.ws.path("scenes.json")
    if ctx.config.ocr == "none" or not scenes_path.exists():
        write_json(out, Screen())
        return StageResult("off (--ocr none)" if ctx.config.ocr == "none" else "no scenes")
    scenes = read_model(scenes_path, Scenes)
    if scenes.audio_only:
        write_json(out, Screen())
        return StageResult("audio only: nothing on screen")
    screen = read_screen(ctx, scenes)
    write_json(out, screen)
    n = len(screen.frames)
    per = screen.timings["ocr_s"] / n if n else 0.0
    return StageResult(f"{n} frames read ({per:.1f} s each), {len(screen.code)} code blocks, "
                       f"{len(screen.terms)} terms")
