"""ffprobe (via ffmpeg-python): duration, streams, chapters; rejects non-media and cut-off files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, MediaError
from ..models import PlatformChapter

# MP4/MOV files start with an 'ftyp' box; one whose index ('moov') is missing was cut off.
_MP4_MAGIC = b"ftyp"
# how far before the stated end the last packet may lie (last GOP, audio padding)
_TAIL_TOLERANCE_S = 6.0


@dataclass
class MediaInfo:
    duration: float | None
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    title: str | None = None
    chapters: list[PlatformChapter] = field(default_factory=list)


def _last_line(stderr: bytes | str | None) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else (stderr or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _ffprobe(path: Path, **kw) -> dict:
    """ffprobe's JSON (``kw`` as in ``ffmpeg.probe``: ``show_chapters=None`` → ``-show_chapters``).
    Run here rather than through ``ffmpeg.probe``, which lets the child inherit the terminal
    as its input: a child must never read or reconfigure the terminal (``v2a … &``)."""
    import json
    import subprocess

    args = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json"]
    for k, v in kw.items():
        args += [f"-{k}"] + ([] if v is None else [str(v)])
    try:
        res = subprocess.run([*args, str(path)], stdin=subprocess.DEVNULL, capture_output=True)
    except FileNotFoundError:
        raise MediaError("ffprobe is not installed (Debian: apt-get install ffmpeg)") from None
    if res.returncode == 0:
        try:
            return json.loads(res.stdout.decode("utf-8", "replace"))
        except ValueError:
            raise MediaError(f"ffprobe gave no readable answer for {path.name}") from None
    err = res.stderr.decode("utf-8", "replace")
    if "moov atom not found" in err and looks_like_mp4(path):
        raise MediaError(f"{path.name} is incomplete (its MP4 index is missing: "
                         "truncated download or copy?)")
    raise InputError(f"{path.name} is not a readable audio/video file "
                     f"(ffprobe: {_last_line(err).replace(str(path) + ': ', '')})")


def looks_like_mp4(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(12)[4:8] == _MP4_MAGIC


def _float(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and f > 0 else None  # NaN and 0 mean "unknown"


def probe(path: Path) -> MediaInfo:
    """Streams and duration of a local media file; raises a one-line error for unusable files."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a media file")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty")
    data = _ffprobe(path, show_chapters=None)
    streams = data.get("streams") or []
    # cover art (mp3/m4a thumbnails) is a 'video' stream with one frame: not video
    video = [s for s in streams if s.get("codec_type") == "video"
             and not (s.get("disposition") or {}).get("attached_pic")]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video and not audio:
        raise InputError(f"{path.name} has no audio or video stream")
    fmt = data.get("format") or {}
    duration = _float(fmt.get("duration")) or max(
        (d for s in streams if (d := _float(s.get("duration")))), default=None)
    tags = {k.lower(): v for k, v in (fmt.get("tags") or {}).items()}
    chapters = [
        PlatformChapter(title=((c.get("tags") or {}).get("title") or f"Chapter {i + 1}").strip(),
                        start=float(c["start_time"]), end=_float(c.get("end_time")))
        for i, c in enumerate(data.get("chapters") or []) if c.get("start_time") is not None
    ]
    info = MediaInfo(duration=duration, has_video=bool(video), has_audio=bool(audio),
                     width=video[0].get("width") if video else None,
                     height=video[0].get("height") if video else None,
                     title=(tags.get("title") or "").strip() or None, chapters=chapters)
    check_complete(path, info, _float(fmt.get("start_time")) or 0.0)
    return info


def check_complete(path: Path, info: MediaInfo, start_time: float = 0.0) -> None:
    """Raise if the file ends well before its header says it should (cut-off download or copy).

    A faststart MP4 cut at 60% still probes with its full duration, as do cut Matroska/WebM and
    MP3 files. Seeking near the end and listing packets (nothing is decoded, ~0.1 s) returns none
    for the MP4 and only packets from where the data stops for the others. The seek may land on
    a keyframe up to ~10 s early, so packets are read to the end and only their last time counts.
    """
    if not info.duration or info.duration < 8:
        return
    seek = max(0.0, start_time + info.duration - 3.0)
    data = _ffprobe(path, read_intervals=f"{seek:.3f}%{start_time + info.duration + 1:.3f}",
                    show_entries="packet=pts_time")
    times = [t for p in data.get("packets") or [] if (t := _float(p.get("pts_time"))) is not None]
    last = max(times, default=None)
    if last is None or last - start_time < info.duration - _TAIL_TOLERANCE_S:
        got = f"{last - start_time:.0f} s" if last is not None else "nothing near the end"
        raise MediaError(f"{path.name} is truncated: the header says {info.duration:.0f} s but the "
                         f"data ends early ({got}); incomplete download or copy?")
