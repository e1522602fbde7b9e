"""The ingest stage: materialise the source in the work folder and write source.json."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..models import Source
from ..stage import StageContext, StageResult
from ..workspace import write_json
from . import ytdlp
from .local import ingest_local, sidecar_fingerprint
from .locate import local_path
from .probe import probe


def fingerprint(ctx: StageContext) -> dict:
    """Cache-key material besides config: an edited local file (or sidecar) re-ingests."""
    src = ctx.src.strip()
    if ytdlp.is_url(src):
        # which subtitle languages get downloaded depends on sub_langs
        return {"input": src, "sub_langs": list(ctx.config.sub_langs)}
    p = Path(src).expanduser()
    if not p.is_file():
        return {"input": src, "missing": True}
    st = p.stat()
    return {"input": str(p.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sidecars": sidecar_fingerprint(p)}


def _check_duration(duration: float | None, limit_minutes: float | None, what: str) -> None:
    if limit_minutes and duration and duration > limit_minutes * 60:
        raise InputError(f"{what} is {duration / 60:.1f} min long, over the --max-duration limit "
                         f"of {limit_minutes:.1f} min")


def run(ctx: StageContext) -> StageResult:
    src = ctx.src.strip()
    if ytdlp.is_url(src):
        source = _ingest_url(ctx, src)
    else:
        source = ingest_local(src, local_path(src), ctx.ws)
    _check_duration(source.duration, ctx.config.max_minutes, source.title)
    if ctx.config.title and ctx.config.title.strip():
        source.title = ctx.config.title.strip()
    write_json(ctx.ws.source_json, source)
    ctx.source = source
    kind = "video" if source.has_video else "audio only"
    dur = f"{source.duration:.0f} s" if source.duration else "unknown length"
    return StageResult(f"{source.title} ({kind}, {dur})")


def _ingest_url(ctx: StageContext, url: str) -> Source:
    ws, config = ctx.ws, ctx.config
    with ctx.progress.task("download", total=None) as bar:
        def hook(d: dict) -> None:
            total = d.get("total_bytes") or d.get("total_bytes_estimate")
            done = d.get("downloaded_bytes")
            if d.get("status") in ("downloading", "finished") and done is not None:
                bar.update(completed=done, total=total or None)

        info = ytdlp.download(
            url, ws.media_dir, config, on_progress=hook,
            check=lambda i: _check_duration(i.get("duration"), config.max_minutes,
                                            i.get("title") or url))
    downloads = info.get("requested_downloads") or []
    fp = downloads[0].get("filepath") if downloads else info.get("filepath")
    if not fp or not Path(fp).exists():
        raise InputError(f"yt-dlp finished but no media file was written for {url}")
    media = Path(fp).resolve()
    probed = probe(media)
    return Source(
        input=url, id=str(info.get("id") or "video"), title=info.get("title") or media.stem,
        kind="url", extractor=(info.get("extractor_key") or "generic").lower(),
        url=info.get("webpage_url") or url,
        media_url=info.get("url") if not info.get("requested_formats") else None,
        media_path=media.relative_to(ws.root.resolve()).as_posix(),
        duration=probed.duration or info.get("duration"),
        uploader=info.get("uploader") or info.get("channel"),
        upload_date=ytdlp.upload_date(info), description=info.get("description"),
        chapters=ytdlp.chapters(info) or probed.chapters,
        subtitles=ytdlp.subtitle_tracks(info, ws.root, list(config.sub_langs)),
        has_video=probed.has_video, has_audio=probed.has_audio,
        width=probed.width, height=probed.height,
    )
