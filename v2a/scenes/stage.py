"""The ``scenes`` stage: slide/scene cuts and one keyframe per scene → scenes.json, keyframes/.

A scene whose keyframe is a near-duplicate (perceptual hash) of an earlier one keeps its own
entry and time range, gets ``duplicate_of`` = that scene's index, and its ``keyframe`` points
to the earlier scene's image: no second file is written, and a renderer that ignores
``duplicate_of`` still shows a correct picture.
"""

from __future__ import annotations

import time

from ..models import Scene, Scenes
from ..stage import StageContext, StageResult
from ..stages import SCENES
from ..workspace import atomic_write_bytes, write_json
from .detect import detect_cuts
from .keyframes import KeyframePicker, find_duplicates


def run(ctx: StageContext) -> StageResult:
    cfg, ws = ctx.config, ctx.ws
    source = ctx.source
    out = ws.path(SCENES.name)
    for old in ws.keyframes_dir.glob("scene-*.jpg"):  # a re-run may find fewer scenes
        old.unlink()
    if not source.has_video:
        write_json(out, Scenes(audio_only=True))
        return StageResult("audio only: no scenes")

    media = ws.resolve(source.media_path)
    picker = KeyframePicker()
    with ctx.progress.task("scenes", total=None) as task:
        det = detect_cuts(media, cfg.scene_threshold, cfg.scene_min_len,
                          cfg.scene_downscale_width, sink=picker,
                          on_frame=lambda n: task.update(completed=n),
                          on_total=lambda n: task.update(total=n or None))
    edges = [0.0, *det.cuts, det.duration]
    bounds = [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
    frames = picker.keyframes
    assert len(frames) == len(bounds), "one keyframe slot per scene"

    t0 = time.perf_counter()
    dups = find_duplicates([k.phash if k else None for k in frames], cfg.dedupe_distance,
                           heads=[k.head_hash if k else None for k in frames])
    scenes: list[Scene] = []
    for i, ((start, end), kf, dup) in enumerate(zip(bounds, frames, dups)):
        scene = Scene(index=i, start=round(start, 3), end=round(end, 3))
        if kf is not None:
            scene.keyframe_time, scene.phash, scene.duplicate_of = kf.time, kf.phash, dup
            scene.head_hash = kf.head_hash
            if dup is None:
                rel = f"keyframes/scene-{i:03d}.jpg"
                atomic_write_bytes(ws.path(rel), kf.jpeg)
                scene.keyframe = rel
            else:
                scene.keyframe = scenes[dup].keyframe
        scenes.append(scene)
    # keyframe picking runs inside the detection pass: report it separately
    keyframes_s = picker.busy_s + time.perf_counter() - t0
    detect_s = max(0.0, det.detect_s - picker.busy_s)

    result = Scenes(
        detector=det.params, fps=det.fps, frames=det.frames, scenes=scenes,
        timings={"detect_s": round(detect_s, 3), "keyframes_s": round(keyframes_s, 3),
                 "fps_processed": round(det.frames / detect_s, 1) if detect_s else 0.0,
                 "frames_scored": float(det.processed)})
    write_json(out, result)
    n_dup = sum(d is not None for d in dups)
    return StageResult(
        f"{len(scenes)} scenes, {n_dup} duplicate keyframes; detect {detect_s:.1f} s "
        f"({result.timings['fps_processed']:.0f} frames/s), keyframes {keyframes_s:.1f} s")
