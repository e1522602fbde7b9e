"""yt-dlp through its Python API: quiet options, short error messages, one-video downloads."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import DownloadError, InputError
from ..models import PlatformChapter, SubtitleTrack

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Keep video for scene detection but not more pixels than slides need; `?` lets formats with an
# unknown height (direct links, feeds) through; the last fallbacks cover audio-only sources.
FORMAT = "bv*[height<=?720]+ba/b[height<=?720]/bv*+ba/b/ba"
SUB_EXTS = ("vtt", "srt")


def is_url(src: str) -> bool:
    return bool(_URL.match(src))


class QuietLogger:
    """yt-dlp logger that prints nothing; errors reach us as exceptions anyway."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)

    def error(self, msg: str) -> None:
        pass


def short_error(exc: BaseException) -> str:
    """yt-dlp's message without the 'ERROR:' prefix, colour codes and '(caused by ...)' tail."""
    msg = _ANSI.sub("", str(exc)).strip()
    msg = re.sub(r"^ERROR:\s*", "", msg)
    msg = re.sub(r"^\[[\w:.-]+\]\s*(?:[^\s:]+:\s+)?", "", msg)  # "[youtube] abc123: " prefix
    msg = re.sub(r"\s*\(caused by .*\)\s*$", "", msg, flags=re.S)
    msg = re.sub(r";\s*please report this issue.*$", "", msg, flags=re.S | re.I)
    return msg.splitlines()[0] if msg else type(exc).__name__


def base_options(config: Config | None = None, **extra: Any) -> dict:
    opts: dict[str, Any] = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": QuietLogger(),
        "noplaylist": True,
    }
    if config is not None and config.cookies:
        if not Path(config.cookies).is_file():
            raise InputError(f"cookies file not found: {config.cookies}")
        opts["cookiefile"] = str(config.cookies)
    opts.update(extra)
    return opts


def _raise_for(exc: BaseException, url: str) -> None:
    from yt_dlp.utils import UnsupportedError

    info = getattr(exc, "exc_info", None)
    cause = info[1] if info else None
    if isinstance(cause, UnsupportedError) or isinstance(exc, UnsupportedError):
        raise InputError(f"unsupported URL (yt-dlp found no video or playlist there): {url}") from None
    raise DownloadError(f"cannot download {url}: {short_error(exc)}") from None


def extract(url: str, config: Config | None = None, flat: bool = True, **extra: Any) -> dict:
    """Metadata only (no download). ``flat`` lists playlist entries without resolving each."""
    import yt_dlp

    opts = base_options(config, **extra)
    if flat:
        opts["extract_flat"] = "in_playlist"
    try:
        with yt_dlp.YoutubeDL(opts) as ydl:
            info = ydl.extract_info(url, download=False)
    except yt_dlp.utils.YoutubeDLError as exc:
        _raise_for(exc, url)
    if not info:
        raise DownloadError(f"yt-dlp returned nothing for {url}")
    return info


def upload_date(info: dict) -> str | None:
    if info.get("upload_date"):
        return str(info["upload_date"])
    ts = info.get("timestamp") or info.get("release_timestamp")
    if ts:
        return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y%m%d")
    return None


def chapters(info: dict) -> list[PlatformChapter]:
    out: list[PlatformChapter] = []
    for ch in info.get("chapters") or []:
        if ch.get("start_time") is None:
            continue
        out.append(PlatformChapter(title=(ch.get("title") or "").strip() or f"Chapter {len(out) + 1}",
                                   start=float(ch["start_time"]),
                                   end=float(ch["end_time"]) if ch.get("end_time") is not None else None))
    return out


def _wanted(lang: str, langs: list[str]) -> bool:
    base = lang.split("-")[0].lower()
    return lang in langs or base in {x.split("-")[0].lower() for x in langs}


def subtitle_tracks(info: dict, root: Path, langs: list[str]) -> list[SubtitleTrack]:
    """Human tracks (all languages) and automatic ones in ``langs``, with downloaded paths.

    Auto-captions are filtered because platforms offer machine translations into ~100 languages.
    """
    got = info.get("requested_subtitles") or {}
    human = info.get("subtitles") or {}
    tracks = []
    for automatic, table in ((False, human), (True, info.get("automatic_captions") or {})):
        for lang, fmts in table.items():
            if lang == "live_chat" or (
                    automatic and not (_wanted(lang, langs) or lang.endswith("-orig"))):
                continue
            fmts = fmts or []
            chosen = next((f for ext in SUB_EXTS for f in fmts if f.get("ext") == ext),
                          fmts[-1] if fmts else {})
            path = None
            dl = got.get(lang)
            # yt-dlp downloads one file per language, the human track when there is one
            if (dl and dl.get("filepath") and Path(dl["filepath"]).exists()
                    and automatic == (lang not in human)):
                chosen = dl
                path = Path(dl["filepath"]).resolve().relative_to(root.resolve()).as_posix()
            tracks.append(SubtitleTrack(lang=lang, ext=chosen.get("ext") or "vtt",
                                        automatic=automatic, url=chosen.get("url"), path=path))
    return tracks


def download(url: str, media_dir: Path, config: Config,
             on_progress: Callable[[dict], None] | None = None,
             check: Callable[[dict], None] | None = None) -> dict:
    """Download one video (plus info JSON and wanted subtitles) into ``media_dir``.

    ``check(info)`` runs after extraction and before any media is fetched (duration limits).
    Returns yt-dlp's info dict (with ``requested_downloads``/``requested_subtitles``).
    """
    import yt_dlp

    media_dir.mkdir(parents=True, exist_ok=True)
    opts = base_options(
        config,
        paths={"home": str(media_dir), "temp": str(media_dir)},
        # a fixed name: ids from generic pages can be long or odd, and one folder holds one video
        outtmpl={"default": "source.%(ext)s"},
        format=FORMAT,
        writeinfojson=True,
        writesubtitles=True,
        writeautomaticsub=True,
        subtitleslangs=list(config.sub_langs) + ["-live_chat"],
        subtitlesformat="vtt/srt/best",
        progress_hooks=[on_progress] if on_progress else [],
    )
    try:
        with yt_dlp.YoutubeDL(opts) as ydl:
            info = ydl.extract_info(url, download=False)
            if info.get("_type") == "playlist":
                raise InputError(f"{url} is a playlist; use `v2a batch {url}` to process its videos")
            if check:
                check(info)
            # the same path as --load-info-json: download what was just resolved, no re-extraction
            info = ydl.process_ie_result(ydl.sanitize_info(info, True), download=True)
    except yt_dlp.utils.YoutubeDLError as exc:
        _raise_for(exc, url)
    return info
