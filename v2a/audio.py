"""The audio stage: the source's sound as audio.wav, 16 kHz mono 16-bit PCM (what ASR wants)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError, MediaError
from .ingest.probe import looks_like_mp4
from .stage import StageContext, StageResult
from .stages import AUDIO

RATE = 16000
WAV_NAME = AUDIO.name
PARTIAL = ".audio.wav.part"  # ffmpeg writes here; renamed only when complete
# the decoded audio may fall short of the container's duration by encoder padding, not more
_SHORT_TOLERANCE_S = 2.0
# what ffmpeg's demuxers say (at -v error, exit code still 0) when a file's data stops early
_CUT_MARKERS = ("partial file", "File ended prematurely", "Truncating packet")


def wav_seconds(path: Path) -> float:
    """Duration of a PCM s16 mono WAV from its size (the 44-byte header ffmpeg writes)."""
    return max(0, Path(path).stat().st_size - 44) / (2 * RATE)


def _reason(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _audio_stream_seconds(media: Path) -> float | None:
    """The audio stream's stated duration (not the container's: video may outlast the sound)."""
    import ffmpeg

    try:
        streams = ffmpeg.probe(str(media), select_streams="a:0").get("streams") or []
        return float(streams[0]["duration"]) if streams else None
    except (ffmpeg.Error, KeyError, ValueError, TypeError, FileNotFoundError):
        return None  # extraction below reports unreadable files properly


def extract_audio(media: Path, out: Path) -> float:
    """Decode ``media``'s first audio stream into ``out`` atomically; return its duration.

    Raises one-line errors for files ffmpeg cannot read, files without sound, and files whose
    data ends before their stated duration (ffmpeg itself exits 0 on those).
    """
    import ffmpeg

    tmp = out.with_name(PARTIAL)
    tmp.unlink(missing_ok=True)
    expected = _audio_stream_seconds(media)
    try:
        _, err = (
            ffmpeg.input(str(media))
            .output(str(tmp), format="wav", ac=1, ar=RATE, acodec="pcm_s16le", vn=None,
                    map="0:a:0")
            .global_args("-nostdin", "-v", "error")
            .overwrite_output()
            .run(capture_stdout=True, capture_stderr=True)
        )
    except FileNotFoundError:
        raise MediaError("ffmpeg is not installed (Debian: apt-get install ffmpeg)") from None
    except ffmpeg.Error as exc:
        tmp.unlink(missing_ok=True)
        err = (exc.stderr or b"").decode("utf-8", "replace")
        name = Path(media).name
        if "matches no streams" in err:
            raise MediaError(f"{name} has no audio stream: nothing to transcribe") from None
        if "moov atom not found" in err and looks_like_mp4(Path(media)):
            raise MediaError(f"{name} is incomplete (MP4 index missing: truncated file?)") from None
        if "Invalid data found" in err or "moov atom not found" in err:
            raise InputError(f"{name} is not a readable audio/video file") from None
        raise MediaError(f"ffmpeg could not extract audio from {name}: {_reason(err)}") from None
    err = (err or b"").decode("utf-8", "replace")
    got = wav_seconds(tmp)
    if any(m in err for m in _CUT_MARKERS) or (expected and got < expected - _SHORT_TOLERANCE_S):
        tmp.unlink(missing_ok=True)
        stated = f" of {expected:.0f} s" if expected else ""
        raise MediaError(f"{Path(media).name} is truncated: only {got:.0f} s{stated} of audio "
                         "could be decoded (incomplete download or copy?)")
    os.replace(tmp, out)
    return got


def run(ctx: StageContext) -> StageResult:
    src = ctx.source
    media = ctx.ws.resolve(src.media_path)
    if not media.exists():
        raise InputError(f"the media file is gone: {media} (re-run with --force ingest)")
    if not src.has_audio:
        raise MediaError(f"{media.name} has no audio stream: nothing to transcribe")
    with ctx.progress.task("audio", total=src.duration or None) as bar:
        got = extract_audio(media, ctx.ws.path(WAV_NAME))
        bar.update(completed=src.duration or got)
    return StageResult(f"{got:.1f} s at {RATE // 1000} kHz mono")
