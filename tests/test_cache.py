"""Stage caching on the real ingest + audio stages, proven from .v2a/stages.log (not timing)."""

from __future__ import annotations

import importlib.util
import subprocess
import wave
from pathlib import Path

import pytest

from tests.fixtures.media import copy_into
from v2a.audio import PARTIAL, WAV_NAME
from v2a.config import Config
from v2a.models import Source
from v2a.pipeline import open_workspace, run_pipeline, run_stage
from v2a.workspace import read_model

STAGES = ("ingest", "audio")


def run(src: Path, out: Path, **cfg) -> dict[str, str]:
    """One invocation (a fresh context, as a new CLI process would have): stage → action."""
    ctx = open_workspace(str(src), Config(out_root=out, **cfg))
    before = len(ctx.ws.stage_log())
    for name in STAGES:
        run_stage(ctx, name)
    return {e["stage"]: e["action"] for e in ctx.ws.stage_log()[before:]}


def wav_info(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes() / w.getframerate()


@pytest.fixture
def talk(lecture, tmp_path) -> Path:
    d = tmp_path / "media"
    d.mkdir()
    return copy_into(d, lecture.video, "talk.mp4")


def workdir(out: Path) -> Path:
    [d] = [p for p in out.iterdir() if p.is_dir()]
    return d


def test_second_run_is_all_cached(talk, lecture, tmp_path):
    out = tmp_path / "out"
    assert run(talk, out) == {"ingest": "ran", "audio": "ran"}
    root = workdir(out)
    wav = root / WAV_NAME
    assert wav_info(wav)[:3] == (16000, 1, 2)
    assert wav_info(wav)[3] == pytest.approx(lecture.duration, abs=0.2)
    stat = wav.stat()
    assert run(talk, out) == {"ingest": "cached", "audio": "cached"}
    assert run(talk, out) == {"ingest": "cached", "audio": "cached"}
    after = wav.stat()
    assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)  # not rewritten


def test_config_and_input_changes(talk, tmp_path):
    out = tmp_path / "out"
    run(talk, out)
    # ingest's own config field: ingest re-runs; its output is identical, so audio stays cached
    assert run(talk, out, max_minutes=60) == {"ingest": "ran", "audio": "cached"}
    assert run(talk, out, max_minutes=60) == {"ingest": "cached", "audio": "cached"}
    # a sidecar subtitle appears: ingest re-runs and records it; source.json changed, so the
    # stages after it re-run too (the runner keys on whole upstream outputs)
    (talk.parent / "talk.en.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n")
    assert run(talk, out, max_minutes=60) == {"ingest": "ran", "audio": "ran"}
    assert [t.lang for t in read_model(workdir(out) / "source.json", Source).subtitles] == ["en"]
    # the file itself is replaced by a 12 s cut: both stages re-run
    short = talk.with_name("short.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(talk), "-t", "12", "-c", "copy",
                    str(short)], check=True)
    short.replace(talk)
    assert run(talk, out, max_minutes=60) == {"ingest": "ran", "audio": "ran"}
    assert wav_info(workdir(out) / WAV_NAME)[3] == pytest.approx(12, abs=0.3)


def test_force_reruns_only_that_stage(talk, tmp_path):
    out = tmp_path / "out"
    run(talk, out)
    ctx = open_workspace(str(talk), Config(out_root=out, force=["audio"]))
    before = len(ctx.ws.stage_log())
    for name in STAGES + STAGES:  # a second pass in the same invocation: forced only once
        run_stage(ctx, name)
    assert [(e["stage"], e["action"]) for e in ctx.ws.stage_log()[before:]] == [
        ("ingest", "cached"), ("audio", "ran"), ("ingest", "cached"), ("audio", "cached")]


def test_killed_stage_resumes(talk, lecture, tmp_path):
    out = tmp_path / "out"
    run(talk, out)
    root = workdir(out)
    # what a kill in the middle of the audio stage leaves: the runner dropped the record when
    # the stage started, ffmpeg's output is half written, the final file was never renamed
    (root / ".v2a" / "stages" / "audio.json").unlink()
    (root / WAV_NAME).unlink()
    (root / PARTIAL).write_bytes(b"RIFF" + b"\0" * 1000)
    assert run(talk, out) == {"ingest": "cached", "audio": "ran"}
    assert not (root / PARTIAL).exists()
    assert wav_info(root / WAV_NAME)[3] == pytest.approx(lecture.duration, abs=0.2)
    assert run(talk, out) == {"ingest": "cached", "audio": "cached"}


@pytest.mark.skipif(importlib.util.find_spec("v2a.transcribe.stage") is None,
                    reason="transcribe stage not in this tree yet")
def test_transcribe_target_second_run_cached(talk, tmp_path):
    """The real pipeline: every stage of `v2a transcribe` is served from cache the second time."""
    cfg = Config(out_root=tmp_path / "out", asr_threads=2)
    first = run_pipeline(str(talk), cfg, target="transcribe")
    names = ["ingest", "audio", "scenes", "screen", "transcribe"]  # the screen's terms first
    assert [(s.name, s.status) for s in first.stages] == [(n, "ran") for n in names]
    second = run_pipeline(str(talk), cfg, target="transcribe")
    assert [(s.name, s.status) for s in second.stages] == [(n, "cached") for n in names]
    log = Path(second.workdir, ".v2a", "stages.log").read_text().splitlines()
    assert sum('"cached"' in line for line in log) == 5
