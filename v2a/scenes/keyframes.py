"""One representative keyframe per scene, picked during the detection pass, and de-duplication.

While a scene is open the picker keeps at most ``KEEP`` evenly spaced full-resolution frames
(halving them when full), so memory stays bounded however long the scene. When the scene
closes it takes the ``CANDIDATES`` kept frames nearest mid-scene that lie at least
``MARGIN_S`` from both cuts (never a fade or half-drawn transition frame) and keeps the
sharpest (variance of the Laplacian); identical slide frames tie, and the tie goes to the frame
nearest mid-scene.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Scenes

KEEP = 12
CANDIDATES = 3
MARGIN_S = 0.5  # or a quarter of the scene, if shorter
JPEG_QUALITY = 90
HEAD_BAND = 0.16  # top share of the frame where slide decks put the title
HEAD_GRID = (64, 8)  # the title band, shrunk: wide, because titles are wide
HEAD_CHANGE = 24  # of 512 bits: a different title (measured: same title 0, another >= 31)


@dataclass
class Keyframe:
    time: float
    jpeg: bytes  # full-resolution JPEG, written by the caller (duplicates never are)
    phash: str
    sharpness: float
    head_hash: str | None = None  # band hash of the title band only (``band_hash``)


def _sharpness(frame) -> float:
    import cv2

    gray = frame.to_ndarray(format="gray")  # the luma plane: no colour conversion needed
    # int16 holds a 3x3 Laplacian of 8-bit data exactly, and is ~4x faster than float64
    _, std = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S))
    return float(std[0][0]) ** 2


def band_hash(img) -> str:
    """Hash of an image's title band: the band shrunk to ``HEAD_GRID``, a bit per cell brighter
    than the band's median, as hex.

    It tells a new section (the slide title changes) from the next slide of the same section
    (only the body changes); the outline weighs the two kinds of cut differently. A square
    perceptual hash squashes a wide band so much that two titles of similar length look alike
    (phash: 4-6 bits apart on the 60-minute benchmark lecture); this grid keeps them apart.
    """
    import numpy as np
    from PIL import Image

    band = img.convert("L").crop((0, 0, img.width, max(1, round(img.height * HEAD_BAND))))
    a = np.asarray(band.resize(HEAD_GRID, Image.Resampling.BOX))
    return np.packbits(a > np.median(a)).tobytes().hex()


def hash_distance(a: str, b: str) -> int:
    """Differing bits of two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def heading_changes(scenes: Scenes) -> list[float]:
    """Cuts where the title band of the keyframe changes too (a new slide *title*)."""
    return [b.start for a, b in zip(scenes.scenes, scenes.scenes[1:])
            if a.head_hash and b.head_hash and len(a.head_hash) == len(b.head_hash)
            and hash_distance(a.head_hash, b.head_hash) >= HEAD_CHANGE]


def _encode(frame) -> tuple[bytes, str, str]:
    """(JPEG, phash of the frame, ``band_hash`` of its title band)."""
    import imagehash

    img = frame.to_image()  # RGB PIL image at full resolution
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=JPEG_QUALITY)
    # phash shrinks to 32x32 with Lanczos: box-reducing first gives the same hash ~35x faster
    small = img.reduce(max(1, img.width // 256))
    return buf.getvalue(), str(imagehash.phash(small)), band_hash(small)


def choose(items: list[tuple[float, object]], start: float, end: float):
    """The (time, frame) to use for scene [start, end) from the frames kept for it."""
    if not items:
        return None
    mid = (start + end) / 2
    margin = min(MARGIN_S, (end - start) / 4)
    safe = [it for it in items if start + margin <= it[0] <= end - margin] or items
    near = sorted(safe, key=lambda it: abs(it[0] - mid))[:CANDIDATES]
    scored = [(round(_sharpness(f), 1), -rank, t, f) for rank, (t, f) in enumerate(near)]
    best = max(scored, key=lambda s: (s[0], s[1]))  # sharper wins; on a tie, nearer mid
    return best[2], best[3], best[0]


class KeyframePicker:
    """A ``detect.FrameSink``: collects one Keyframe (or None) per scene, in order."""

    def __init__(self) -> None:
        self.keyframes: list[Keyframe | None] = []
        self.busy_s = 0.0  # time spent choosing and encoding (reported as keyframes_s)
        self._start = 0.0
        self._items: list[tuple[float, object]] = []
        self._stride, self._seen = 1, 0

    def offer(self, t: float, frame) -> None:
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        self._items.append((t, frame))
        if len(self._items) > KEEP:  # thin out evenly: every other frame, and offer less often
            self._items = self._items[::2]
            self._stride *= 2

    def cut(self, t: float) -> None:
        before = [it for it in self._items if it[0] < t]
        self._items = [it for it in self._items if it[0] >= t]
        self._close(before, self._start, t)
        self._start, self._stride, self._seen = t, 1, 0

    def end(self, t: float) -> None:
        self._close(self._items, self._start, t)
        self._items = []

    def _close(self, items, start: float, end: float) -> None:
        t0 = time.perf_counter()
        got = choose(items, start, end)
        if got is None:
            self.keyframes.append(None)
        else:
            t, frame, sharp = got
            jpeg, ph, head = _encode(frame)
            self.keyframes.append(Keyframe(time=round(t, 3), jpeg=jpeg, phash=ph, sharpness=sharp,
                                           head_hash=head))
        self.busy_s += time.perf_counter() - t0


def find_duplicates(hashes: list[str | None], max_distance: int,
                    heads: list[str | None] | None = None) -> list[int | None]:
    """For each keyframe, the index of an earlier *kept* keyframe whose perceptual hash is
    within ``max_distance`` (exclusive) Hamming distance, else None. Comparing against every
    earlier one catches a slide shown again after a detour, not only back-to-back repeats.
    With ``heads`` (title-band hashes), a slide whose title differs is never a duplicate: a
    whole-frame hash weighs a changed title like any other small change."""
    import imagehash

    heads = heads or [None] * len(hashes)
    kept: list[tuple[int, imagehash.ImageHash]] = []
    dup: list[int | None] = []
    for i, h in enumerate(hashes):
        if h is None:
            dup.append(None)
            continue
        ph = imagehash.hex_to_hash(h)
        hi = heads[i]
        near = min(((ph - k, j) for j, k in kept
                    if not (hi and (hj := heads[j]) and hash_distance(hi, hj) >= HEAD_CHANGE)),
                   default=None)
        if near is not None and near[0] < max_distance:
            dup.append(near[1])
        else:
            dup.append(None)
            kept.append((i, ph))
    return dup
