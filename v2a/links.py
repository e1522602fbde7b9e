"""Links to an exact second of the original video, per platform."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .models import Source


def timestamp_url(source: Source, seconds: float, media_href: str | None = None) -> str:
    """URL that opens the source at ``seconds``.

    YouTube: ``watch?v=ID&t=123s``; Vimeo: ``#t=123s``; other web pages keep their URL with a
    ``t`` parameter when yt-dlp's extractor is known to honour it; local and direct files use the
    W3C media fragment ``file.mp4#t=123`` (``media_href``: how the article refers to the file).
    """
    t = max(0, int(seconds))
    ex = (source.extractor or "").lower()
    if ex.startswith("youtube") and source.id:
        return f"https://www.youtube.com/watch?v={source.id}&t={t}s"
    if ex.startswith("vimeo") and source.url:
        return f"{source.url.split('#')[0]}#t={t}s"
    if ex in ("twitch:vod", "dailymotion") and source.url:
        return _with_query(source.url, t=f"{t}s" if ex.startswith("twitch") else str(t))
    if source.kind == "url" and source.media_url and ex == "generic":
        return f"{source.media_url.split('#')[0]}#t={t}"
    base = media_href or source.media_path
    return f"{base.split('#')[0]}#t={t}"


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    q = [(k, v) for k, v in parse_qsl(parts.query) if k not in params] + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(q)))


def fmt_time(seconds: float) -> str:
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


_SECRET_PARAMS = re.compile(r"(?i)^(?:api[_-]?key|key|token|access[_-]?token|secret|sig|"
                            r"signature|password|auth)$")


def safe_url(url: str | None) -> str:
    """The URL as it may be shown or stored: a password in it and secret-looking query values
    replaced by ***."""
    if not url:
        return url or ""
    try:
        u = urlsplit(url)
    except ValueError:
        return "(an unparseable URL)"
    netloc = u.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        name = user.split(":", 1)[0]
        netloc = f"{name}:***@{host}" if ":" in user else f"***@{host}"
    query = u.query
    if query:
        pairs = [(k, "***" if _SECRET_PARAMS.match(k) else v)
                 for k, v in parse_qsl(query, keep_blank_values=True)]
        query = urlencode(pairs, safe="*")
    return urlunsplit((u.scheme, netloc, u.path, query, u.fragment))
