"""Unusable inputs through the real CLI: one line on stderr, non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from v2a.audio import PARTIAL, extract_audio
from v2a.errors import InputError, MediaError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bad_media(lecture, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad_media")
    text = d / "notes.mp4"
    text.write_text("these are my lecture notes, not a video\n" * 20)
    silent = d / "silent.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=navy:s=320x240:r=25:d=12", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(silent)], check=True)
    cut = d / "cut.mp4"
    data = lecture.video.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])  # an interrupted download
    return {"text": text, "silent": silent, "cut": cut, "missing": d / "no-such-file.mp4"}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case,expect", [
    ("text", "notes.mp4 is not a readable audio/video file"),
    ("silent", "silent.mp4 has no audio stream: nothing to transcribe"),
    ("cut", "cut.mp4 is truncated"),
    ("missing", "file not found:"),
])
def test_cli_one_line_error(bad_media, tmp_path, case, expect):
    res = run_cli("transcribe", str(bad_media[case]), "--out", str(tmp_path / "out"), "--quiet",
                  cwd=tmp_path)
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and expect in lines[0], res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_audio_stage_checks_on_its_own(bad_media, lecture, tmp_path):
    """The audio stage does not rely on ingest having probed: it reports each case itself."""
    out = tmp_path / "audio.wav"
    with pytest.raises(InputError, match="not a readable audio/video file"):
        extract_audio(bad_media["text"], out)
    with pytest.raises(MediaError, match="has no audio stream"):
        extract_audio(bad_media["silent"], out)
    with pytest.raises(MediaError, match=r"truncated: only \d+ s of 91 s of audio"):
        extract_audio(bad_media["cut"], out)
    assert not out.exists() and not (tmp_path / PARTIAL).exists()
    assert extract_audio(lecture.video, out) == pytest.approx(lecture.duration, abs=0.2)
