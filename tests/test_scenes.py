"""The scenes stage with real PySceneDetect, PyAV/ffmpeg decoding and generated slide videos."""

from __future__ import annotations

import contextlib
import json
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from v2a.config import Config
from v2a.models import Scenes
from v2a.pipeline import run_pipeline
from v2a.samples import render_slide
from v2a.scenes.keyframes import heading_changes
from v2a.workspace import read_model

DECK = json.loads(resources.files("v2a").joinpath("data/sample_lecture.json").read_text())


def _bullets(speech: str) -> list[str]:
    for ch in DECK["chapters"] + DECK["extra_topics"]:
        for sl in ch["slides"]:
            if sl["speech"] == speech:
                return sl["bullets"]
    raise KeyError(speech)


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32)


@pytest.fixture(scope="module")
def lecture_scenes(lecture, tmp_path_factory):
    wd = tmp_path_factory.mktemp("scenes") / "work"
    report = run_pipeline(str(lecture.video), Config(workdir=wd), target="scenes")
    return wd, report, read_model(wd / "scenes.json", Scenes)


def test_every_slide_change_found_and_nothing_else(lecture, lecture_scenes):
    _, _, sc = lecture_scenes
    found = sc.cuts
    assert len(found) == len(lecture.cuts), f"found {found}, truth {lecture.cuts}"
    for got, want in zip(found, lecture.cuts):
        assert abs(got - want) <= 0.5, f"cut at {got}, slide changes at {want}"
    assert sc.scenes[0].start == 0 and sc.scenes[-1].end == pytest.approx(lecture.duration,
                                                                           abs=0.1)
    assert sc.fps == 25 and sc.frames == pytest.approx(lecture.duration * 25, abs=2)
    assert sc.detector["threshold"] == Config().scene_threshold
    assert sc.timings["detect_s"] > 0 and sc.timings["fps_processed"] > 0


def test_slide_title_changes_are_the_chapter_starts(lecture, lecture_scenes):
    """Every slide of a chapter shares its title: the title band changes exactly at chapters."""
    _, _, sc = lecture_scenes
    assert all(s.head_hash for s in sc.scenes)
    got = heading_changes(sc)
    want = [c["start"] for c in lecture.chapters[1:]]
    assert len(got) == len(want), f"title changes at {got}, chapters start at {want}"
    assert all(abs(g - w) <= 0.5 for g, w in zip(got, want))


def test_one_keyframe_per_slide_showing_that_slide(lecture, lecture_scenes, tmp_path):
    wd, _, sc = lecture_scenes
    assert len(sc.scenes) == len(lecture.slides)
    refs = []
    for sl in lecture.slides:  # the slides as the generator drew them, before video encoding
        png = tmp_path / f"slide-{sl.index}.png"
        render_slide(png, sl.title, _bullets(sl.speech), sl.index + 1, DECK["title"])
        refs.append(_pixels(png))
    for scene, slide in zip(sc.scenes, lecture.slides):
        assert scene.duplicate_of is None and scene.keyframe == \
            f"keyframes/scene-{scene.index:03d}.jpg"
        # representative, not a transition frame: well inside the slide's time on screen
        assert slide.start + 0.5 <= scene.keyframe_time <= slide.end - 0.5
        img = Image.open(wd / scene.keyframe)
        assert img.size == (1280, 720)  # full resolution, not the downscaled detection frame
        kf = _pixels(wd / scene.keyframe)
        mse = [float(np.mean((kf - r) ** 2)) for r in refs]
        best = int(np.argmin(mse))
        assert best == slide.index, f"scene {scene.index} looks like slide {best}: {mse}"
        runner_up = sorted(mse)[1]
        assert mse[best] < runner_up / 4  # clearly that slide, not merely the least unlike


def test_rerun_is_cached(lecture, lecture_scenes):
    wd, _, _ = lecture_scenes
    report = run_pipeline(str(lecture.video), Config(workdir=wd), target="scenes")
    assert {s.name: s.status for s in report.stages}["scenes"] == "cached"


def test_audio_only_source_has_no_scenes(lecture_audio, tmp_path):
    wd = tmp_path / "work"
    report = run_pipeline(str(lecture_audio.video), Config(workdir=wd), target="scenes")
    sc = read_model(wd / "scenes.json", Scenes)
    assert sc.audio_only and sc.scenes == [] and sc.cuts == []
    assert not list(wd.glob("keyframes/*.jpg"))
    details = {s.name: s.detail for s in report.stages}
    assert report.ok and details["scenes"] == "audio only: no scenes"
    assert details["screen"] == "audio only: nothing on screen"


# --- a repeated slide, a stream without B-frames, and the progress bar ------------------------


class _Recorder:
    """A Progress that remembers every update (the CLI's rich bars get the same calls)."""

    def __init__(self):
        self.tasks: dict[str, dict] = {}

    @contextlib.contextmanager
    def task(self, description, total=None):
        rec = self.tasks.setdefault(description, {"total": total, "completed": [], "adv": 0})
        parent = self

        class T:
            def update(self, completed=None, total=None, description=None):
                if total is not None:
                    rec["total"] = total
                if completed is not None:
                    rec["completed"].append(completed)

            def advance(self, amount=1.0):
                rec["adv"] += amount

        yield T()
        assert parent is self

    def log(self, message):
        pass


@pytest.fixture(scope="module")
def repeat_video(tmp_path_factory) -> Path:
    """Slides A, B, A again (new page number only), 4 s each; x264 without B-frames."""
    d = tmp_path_factory.mktemp("repeat")
    ch = DECK["chapters"][1]
    pages = [(ch["slides"][0], 1), (ch["slides"][1], 2), (ch["slides"][0], 3)]
    lines = []
    for i, (sl, num) in enumerate(pages):
        png = d / f"p{i}.png"
        render_slide(png, sl["title"], sl["bullets"], num, DECK["title"])
        lines += [f"file '{png}'", "duration 4"]
    lines.append(lines[-2])
    (d / "list.txt").write_text("\n".join(lines) + "\n")
    out = d / "repeat.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i",
                    str(d / "list.txt"), "-vf", "fps=25,format=yuv420p", "-c:v", "libx264",
                    "-bf", "0", "-preset", "veryfast", "-t", "12", str(out)], check=True)
    return out


def test_repeated_slide_is_a_duplicate_keyframe(repeat_video, tmp_path):
    wd = tmp_path / "work"
    prog = _Recorder()
    run_pipeline(str(repeat_video), Config(workdir=wd), target="scenes", progress=prog)
    sc = read_model(wd / "scenes.json", Scenes)
    assert sc.cuts == [pytest.approx(4.0, abs=0.25), pytest.approx(8.0, abs=0.25)]
    a, b, again = sc.scenes
    assert a.duplicate_of is None and b.duplicate_of is None
    # the repeat keeps its own scene and time, but reuses the first image: no second file
    assert again.duplicate_of == 0 and again.keyframe == a.keyframe
    assert 8.5 <= again.keyframe_time <= 11.5
    assert sorted(p.name for p in (wd / "keyframes").iterdir()) == ["scene-000.jpg",
                                                                   "scene-001.jpg"]
    # progress: one bar in frames (keyframes are picked in the same pass) reaching the end
    bar = prog.tasks["scenes"]
    assert bar["total"] == 300 and max(bar["completed"]) >= 295
    assert bar["completed"] == sorted(bar["completed"])


def test_stricter_dedupe_keeps_every_image(repeat_video, tmp_path):
    wd = tmp_path / "work"
    run_pipeline(str(repeat_video), Config(workdir=wd, dedupe_distance=0), target="scenes")
    sc = read_model(wd / "scenes.json", Scenes)
    assert [s.duplicate_of for s in sc.scenes] == [None, None, None]
    assert len(list((wd / "keyframes").glob("scene-*.jpg"))) == 3


@pytest.mark.parametrize("fmt", ["yuv420p", "rgb24"])
def test_scored_frames_are_the_shrunk_luma(fmt):
    """The detector sees the frame's luma (read in place for YUV, via swscale otherwise)."""
    import av

    from v2a.scenes.detect import small_grey

    rng = np.random.default_rng(0)
    img = np.zeros((720, 1280, 3), np.uint8)
    img[:, :640] = (200, 200, 200)  # bright left half, dark right half, noise on top
    img = np.clip(img.astype(int) + rng.integers(0, 20, img.shape), 0, 255).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=fmt)
    small = small_grey(frame, 320, 180)
    assert small.shape == (180, 320, 3) and small.dtype == np.uint8
    assert (small[..., 0] == small[..., 2]).all()  # grey
    want = np.asarray(Image.fromarray(img).convert("L").resize((320, 180), Image.BOX), np.float32)
    # the same picture (YUV luma is limited-range 16-235, hence correlation, not equality)
    assert np.corrcoef(small[..., 0].ravel(), want.ravel())[0, 1] > 0.99


def _slide(tmp_path, name: str, title: str, bullets: list[str]) -> Image.Image:
    p = tmp_path / f"{name}.png"
    render_slide(p, title, bullets, 1, DECK["title"])
    return Image.open(p).convert("RGB")


def test_title_band_hash_tells_titles_apart(tmp_path):
    """Titles of similar length (phash of the band: 4-6 bits apart) are far apart; the same
    title over other bullets is identical; a slide whose title differs is not a duplicate."""
    import imagehash

    from v2a.scenes.keyframes import HEAD_CHANGE, band_hash, find_duplicates, hash_distance

    a = _slide(tmp_path, "a", "Tokenizers for other languages", ["One", "Two"])
    b = _slide(tmp_path, "b", "Why tokenization matters, part 2", ["One", "Two"])
    a2 = _slide(tmp_path, "a2", "Tokenizers for other languages", ["Three", "Four"])
    c = _slide(tmp_path, "c", "Tokenizers for other languages, part 2", ["One", "Two"])
    assert hash_distance(band_hash(a), band_hash(b)) >= HEAD_CHANGE
    assert hash_distance(band_hash(a), band_hash(c)) >= HEAD_CHANGE
    assert hash_distance(band_hash(a), band_hash(a2)) == 0
    whole = [str(imagehash.phash(im)) for im in (a, c)]
    # with a loose whole-frame tolerance they would be duplicates; the title says otherwise
    assert find_duplicates(whole, 64) == [None, 0]
    assert find_duplicates(whole, 64, heads=[band_hash(a), band_hash(c)]) == [None, None]
    assert find_duplicates(whole, 64, heads=[band_hash(a), band_hash(a2)]) == [None, 0]
