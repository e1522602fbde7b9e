"""Where the scenes stage spends its time, per operation, on a benchmark lecture.

    .venv/bin/python -m bench.profile_scenes --minutes 10

Times, per scored frame, the conversions the detector could be fed with (swscale to BGR, the
luma plane shrunk by OpenCV), the detector itself, and decoding with and without B-frames. This
is how the luma path in ``v2a/scenes/detect.py`` was chosen.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.lectures import lecture

N = 300  # frames per conversion measurement


def main(argv: list[str] | None = None) -> None:
    import av
    from scenedetect import ContentDetector, FrameTimecode
    from scenedetect.common import Timecode

    from v2a.scenes.detect import WEIGHTS, small_grey

    ap = argparse.ArgumentParser(prog="python -m bench.profile_scenes", description=__doc__)
    ap.add_argument("--minutes", type=float, default=10)
    path = str(lecture(ap.parse_args(argv).minutes))
    out: dict = {}

    for skip in ("DEFAULT", "BIDIR"):
        with av.open(path) as c:
            s = c.streams.video[0]
            s.thread_type, s.codec_context.skip_frame = "AUTO", skip
            t0, n = time.perf_counter(), 0
            for _ in c.decode(s):
                n += 1
            out[f"decode_{skip.lower()}"] = {"frames": n, "s": round(time.perf_counter() - t0, 2)}

    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type, s.codec_context.skip_frame = "AUTO", "BIDIR"
        frames = []
        for f in c.decode(s):
            frames.append(f)
            if len(frames) >= N:
                break
        rate = s.average_rate
        ways = {
            "swscale_bgr_bilinear": lambda f: f.reformat(
                width=320, height=180, format="bgr24", interpolation="BILINEAR").to_ndarray(),
            "luma_plane_opencv_area": lambda f: small_grey(f, 320, 180),
        }
        for name, fn in ways.items():
            t0 = time.perf_counter()
            smalls = [fn(f) for f in frames]
            out[f"convert_{name}_ms"] = round((time.perf_counter() - t0) / N * 1000, 3)
        det = ContentDetector(threshold=1.5, min_scene_len=2.0,
                              weights=ContentDetector.Components(*WEIGHTS))
        t0 = time.perf_counter()
        for f, small in zip(frames, smalls):
            det.process_frame(FrameTimecode(Timecode(pts=f.pts, time_base=f.time_base),
                                            fps=rate), small)
        out["detector_ms"] = round((time.perf_counter() - t0) / N * 1000, 3)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
