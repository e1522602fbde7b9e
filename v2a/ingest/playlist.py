"""Expand a playlist, channel or feed (or a local list file) into entries, downloading nothing."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..errors import InputError
from ..models import Playlist, PlaylistEntry
from ..workspace import slugify
from .local import local_id
from .ytdlp import extract, is_url, upload_date

LIST_SUFFIXES = (".txt", ".list")


def list_entries(src: str, config: Config | None = None) -> Playlist | None:
    """The entries of ``src``, or None when it is a single video (or a single local file).

    Accepts anything yt-dlp lists (YouTube playlists/channels, RSS/podcast feeds with
    enclosures, HTML pages with several <video> tags) and a local text file with one URL or
    path per line (blank lines and # comments ignored).
    """
    src = src.strip()
    if not is_url(src):
        p = Path(src).expanduser()
        if p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            return _from_list_file(p)
        return None
    # a watch URL that also names a list (YouTube's ?v=..&list=..) means the list here
    info = extract(src, config, noplaylist=False)
    if info.get("_type") != "playlist":
        return None
    entries = []
    for i, e in enumerate(info.get("entries") or [], start=1):
        if not e:
            continue  # unavailable entries come back as None
        url, vid = _entry_url(e)
        if not url:
            continue
        idx = int(e.get("playlist_index") or i)
        entries.append(PlaylistEntry(
            index=idx, id=str(vid or f"{info.get('id') or 'item'}-{idx}"),
            title=(e.get("title") or vid or url).strip(), url=url,
            duration=float(e["duration"]) if e.get("duration") else None,
            upload_date=upload_date(e)))
    return Playlist(input=src, id=str(info.get("id") or slugify(src)),
                    title=info.get("title") or info.get("id") or src,
                    url=info.get("webpage_url") or src, entries=entries)


def _entry_url(e: dict) -> tuple[str | None, str | None]:
    """A plain URL per entry (feeds hide the guid in a 'smuggled' URL fragment; unwrap it)."""
    from yt_dlp.utils import unsmuggle_url

    # "url" is per entry (the media, or the watch page of a flat entry); pages with several
    # <video> tags give every entry the same webpage_url
    url = e.get("url") or e.get("webpage_url")
    if not url:
        return None, e.get("id")
    url, extra = unsmuggle_url(url, {})
    if not is_url(url) and e.get("ie_key") == "Youtube":
        url = f"https://www.youtube.com/watch?v={url}"  # flat YouTube entries may give bare ids
    return url, e.get("id") or (extra or {}).get("force_videoid")


def _from_list_file(path: Path) -> Playlist:
    entries: list[PlaylistEntry] = []
    base = path.parent
    for line in path.read_text("utf-8").splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if not is_url(item):
            p = Path(item).expanduser()
            p = p if p.is_absolute() else base / p  # relative paths are relative to the list
            if not p.exists():
                raise InputError(f"{path.name}: file not found: {item}")
            item = str(p.resolve())
            ident, title = local_id(p), p.stem
        else:
            ident, title = slugify(item, 40), item
        entries.append(PlaylistEntry(index=len(entries) + 1, id=ident, title=title, url=item))
    if not entries:
        raise InputError(f"{path} lists no URLs or files")
    return Playlist(input=str(path), id=local_id(path), title=path.stem, url=None, entries=entries)
