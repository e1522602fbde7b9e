"""Subtitle files: read .srt/.vtt into transcript segments, write them back, pick a track.

Reading (both formats) and WebVTT writing go through webvtt-py. What it leaves to us is clean-up:
markup, entities and the rolling lines of platform auto-captions, where every cue repeats the
previous line before adding a new one.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

from .config import Config
from .errors import InputError
from .models import Segment, Source, SubtitleTrack, Word
from .workspace import atomic_write_text

SUB_EXTS = ("vtt", "srt")
_TAG = re.compile(r"<[^>]*>")  # WebVTT: every <...> is markup (a literal '<' is &lt;)
_SRT_TAG = re.compile(r"</?(?:i|b|u|s|font)\b[^>]*>", re.I)  # SubRip: only these are markup
_ASS = re.compile(r"\{\\[^}]*\}")  # {\an8} and friends in SubRip files converted from ASS
_INLINE_TS = re.compile(r"<(\d{1,2}:)?\d{2}:\d{2}\.\d{3}>")
_SPACE = re.compile(r"[ \t\u00a0]+")


def _seconds(ts) -> float:
    return ts.in_milliseconds() / 1000.0


def _clean(line: str, srt: bool = False) -> str:
    line = _ASS.sub("", (_SRT_TAG if srt else _TAG).sub("", line))
    return _SPACE.sub(" ", line if srt else html.unescape(line)).strip()


def _read(path: Path):
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    ext = path.suffix.lower().lstrip(".")
    if ext not in SUB_EXTS:
        raise InputError(f"unsupported subtitle format {path.suffix!r} ({path.name}): use .srt or .vtt")
    try:
        return webvtt.from_srt(str(path)) if ext == "srt" else webvtt.read(str(path))
    except (MalformedFileError, MalformedCaptionError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read subtitles {path.name}: {exc}") from None


def _words(raw_line: str, start: float, end: float) -> list[Word]:
    """Word times from auto-caption karaoke tags: ``hello<00:00:01.200><c> world</c>``."""
    from webvtt.models import Timestamp

    parts = re.split(r"<((?:\d{1,2}:)?\d{2}:\d{2}\.\d{3})>", raw_line)
    chunks: list[tuple[float, str]] = [(start, parts[0])]
    for i in range(1, len(parts) - 1, 2):
        chunks.append((_seconds(Timestamp.from_string(parts[i])), parts[i + 1]))
    words = []
    for j, (t, text) in enumerate(chunks):
        text = _clean(text)
        if not text:
            continue
        t_end = chunks[j + 1][0] if j + 1 < len(chunks) else end
        words.append(Word(start=round(t, 3), end=round(max(t, t_end), 3), text=text))
    return words


def parse_subtitles(path: Path) -> list[Segment]:
    """Segments (ids 0..n-1) from a .srt or .vtt file, markup removed, rolling repeats dropped.

    A line that repeats a line of the cue just before it is dropped; a cue left with no new
    line is skipped. That turns auto-captions' three-cues-per-line pattern into one segment per
    spoken line and merely merges accidental duplicates in human subtitles.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"subtitle file not found: {path}")
    srt = path.suffix.lower() == ".srt"
    segments: list[Segment] = []
    prev_lines: set[str] = set()
    for cap in _read(path).captions:
        start, end = _seconds(cap.start_time), _seconds(cap.end_time)
        raw_lines = cap.raw_text.split("\n")
        fresh, words = [], []
        for raw in raw_lines:
            text = _clean(raw, srt)
            if not text or text in prev_lines:
                continue
            fresh.append(text)
            if not srt and _INLINE_TS.search(raw):
                words += _words(raw, start, end)
        prev_lines = {t for t in (_clean(r, srt) for r in raw_lines) if t}
        if not fresh or end < start:
            continue
        segments.append(Segment(id=len(segments), start=round(start, 3), end=round(end, 3),
                                text=" ".join(fresh), words=words))
    return segments


def _clock(seconds: float) -> str:
    from webvtt.models import Timestamp

    return str(Timestamp.from_seconds(max(0.0, seconds)))


def _cue_text(s: Segment) -> str:
    # an arrow inside the text would read as a timing line
    return " ".join(s.text.split()).replace("-->", "->") or " "


def write_vtt(segments: list[Segment], path: Path) -> None:
    from webvtt import Caption, WebVTT

    caps = [Caption(_clock(s.start), _clock(max(s.start, s.end)),
                    html.escape(_cue_text(s), quote=False))  # '<' and '&' start markup in WebVTT
            for s in segments]
    buf = io.StringIO()
    WebVTT(captions=caps).write(buf, format="vtt")
    atomic_write_text(Path(path), buf.getvalue())


def write_srt(segments: list[Segment], path: Path) -> None:
    # written directly: webvtt-py's SubRip writer drops anything that looks like a tag, and
    # SubRip has no escapes, so text like "a <tag>" must go out verbatim
    blocks = [f"{i}\n{_clock(s.start).replace('.', ',')} --> "
              f"{_clock(max(s.start, s.end)).replace('.', ',')}\n{_cue_text(s)}\n"
              for i, s in enumerate(segments, start=1)]
    atomic_write_text(Path(path), "\n".join(blocks))


def _lang_rank(lang: str, wanted: list[str]) -> int | None:
    """Position of ``lang`` in the wanted list: exact tags first, then same base language."""
    low = [w.lower() for w in wanted]
    lang_l = lang.lower().removesuffix("-orig")
    if lang_l in low:
        return low.index(lang_l)
    base = lang_l.split("-")[0]
    for i, w in enumerate(low):
        if w.split("-")[0] == base:
            return len(low) + i
    return None


def pick_subtitle_track(source: Source, config: Config) -> SubtitleTrack | None:
    """The subtitle track to use as the transcript, or None (then Whisper runs).

    Human subtitles in ``config.sub_langs`` come first (in that order; then a sidecar without a
    language tag, which the user put there on purpose); platform auto-captions only when
    ``config.auto_captions`` allows them. Only tracks downloaded/copied into the work folder
    (``path`` set) in a readable format count.
    """
    usable = [t for t in source.subtitles if t.path and t.ext.lower() in SUB_EXTS]
    for automatic in (False, True):
        if automatic and not config.auto_captions:
            break
        ranked = []
        for t in (t for t in usable if t.automatic == automatic):
            r = _lang_rank(t.lang, config.sub_langs)
            if r is None and not automatic and t.lang == "und":
                r = 10_000
            if r is not None:
                ranked.append((r, t.ext != "vtt", t))  # vtt keeps karaoke word times; prefer it
        if ranked:
            return min(ranked, key=lambda x: (x[0], x[1]))[2]
    return None
