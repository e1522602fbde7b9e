"""The ``screen`` stage: read every distinct keyframe → screen.json (text, titles, code, terms).

Runs after ``scenes`` and before ``transcribe``, so the terms on screen can guide and fix the
transcript. Only distinct keyframes are read (a slide shown again is a duplicate in
scenes.json). Each frame is classified first (code, slide, prose, UI, image: ``classify``);
only a code screen's code column becomes code. A cell shown over several frames (typed,
edited, shown again) is one code block in its final form, voted line by line (``merge``).
"""

from __future__ import annotations

import time

from ..models import Scenes, Screen, ScreenFrame
from ..registry import OCR_ENGINES
from ..stage import StageContext, StageResult
from ..stages import SCENES, SCREEN
from ..workspace import read_model, write_json
from . import code, layout, merge, terms


def read_screen(ctx: StageContext, scenes: Scenes) -> Screen:
    engine = OCR_ENGINES.get(ctx.config.ocr)(ctx.config)
    todo = [s for s in scenes.scenes if s.keyframe and s.duplicate_of is None]
    screen = Screen(engine=engine.name)
    t0 = time.perf_counter()
    seen: list[merge.Seen] = []
    spent = 0.0  # classifying and reading code, after OCR
    from PIL import Image

    with ctx.progress.task("read the screen (OCR)", total=len(todo)) as task:
        for s in todo:
            path = ctx.ws.path(s.keyframe or "")
            with Image.open(path) as im:
                width, height = float(im.width), float(im.height)
            lines = [ln.model_copy(update={"text": terms.normalize(ln.text)})
                     for ln in engine.read(path)]
            t1 = time.perf_counter()
            lay, cells = code.read_frame(lines, width, height)
            spent += time.perf_counter() - t1
            frame = ScreenFrame(scene=s.index, time=s.start, keyframe=s.keyframe or "",
                                title=layout.title(lines, height), lines=lines,
                                code=code.as_lines(cells), kind=lay.kind,
                                text=code.text_of(lines, width))
            screen.frames.append(frame)
            seen += [merge.Seen(scene=s.index, time=s.start, end=s.end, cell=c) for c in cells]
            task.advance(1)
    # a duplicate keyframe shows the same screen again: its time extends the code's range
    shown_until = {s.index: s.end for s in scenes.scenes}
    for s in scenes.scenes:
        if s.duplicate_of is not None:
            shown_until[s.duplicate_of] = max(shown_until[s.duplicate_of], s.end)
    for x in seen:
        x.end = shown_until.get(x.scene, x.end)
    t1 = time.perf_counter()
    screen.code = merge.merge(seen)
    spent += time.perf_counter() - t1
    screen.terms = terms.extract([ln.text for f in screen.frames for ln in f.lines])
    known = {t.lower() for t in screen.terms}
    screen.terms += [t for t in terms.title_terms([f.title for f in screen.frames])
                     if t.lower() not in known]
    screen.timings = {"ocr_s": round(time.perf_counter() - t0, 2), "frames": float(len(todo)),
                      "layout_s": round(spent, 3)}
    return screen


def run(ctx: StageContext) -> StageResult:
    out = ctx.ws.path(SCREEN.name)
    scenes_path = ctx.ws.path(SCENES.name)
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
