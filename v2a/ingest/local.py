"""Local files: probe in place (big files are not copied) and pick up sidecar subtitles."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from ..models import Source, SubtitleTrack
from ..workspace import Workspace
from .probe import probe

SUB_EXTS = (".vtt", ".srt")
# "en", "pt-BR", "zh-Hans", "en_US": what sits between the stem and .vtt in talk.en.vtt
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
UNDETERMINED = "und"  # BCP 47 code for "no language given" (talk.vtt)


def local_id(path: Path) -> str:
    """Stable short id of a local file: its resolved path (renaming/moving means a new source)."""
    return hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]


def find_sidecars(media: Path) -> list[tuple[str, Path]]:
    """Subtitle files next to ``media``: talk.vtt, talk.srt, talk.en.vtt, talk.pt-BR.srt.

    Returns (lang, path) pairs; the language is 'und' when the name carries none.
    """
    media = Path(media)
    found = []
    for p in sorted(media.parent.glob(f"{glob_escape(media.stem)}.*")):
        if p == media or p.suffix.lower() not in SUB_EXTS or not p.is_file():
            continue
        middle = p.name[len(media.stem) + 1: -len(p.suffix)]
        if not middle:
            found.append((UNDETERMINED, p))
        elif _LANG.match(middle):
            found.append((middle.replace("_", "-"), p))
    return found


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def sidecar_fingerprint(media: Path) -> list:
    """Names, sizes and mtimes of sidecars: adding or editing one re-runs ingest."""
    out = []
    for lang, p in find_sidecars(media):
        st = p.stat()
        out.append([p.name, lang, st.st_size, st.st_mtime_ns])
    return out


def ingest_local(src: str, path: Path, ws: Workspace) -> Source:
    path = Path(path).resolve()
    info = probe(path)
    tracks = []
    for old in ws.media_dir.glob("sidecar.*"):
        old.unlink()  # a sidecar removed since the last ingest must not linger
    for lang, sub in find_sidecars(path):
        # copied (they are small) so the work folder keeps working if the original moves
        dst = ws.media_dir / f"sidecar.{lang}{sub.suffix.lower()}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sub, dst)
        tracks.append(SubtitleTrack(lang=lang, ext=sub.suffix.lower().lstrip("."), automatic=False,
                                    path=dst.relative_to(ws.root).as_posix()))
    return Source(
        input=src, id=local_id(path), title=info.title or path.stem, kind="local",
        extractor="local", media_path=str(path), duration=info.duration,
        chapters=info.chapters, subtitles=tracks, has_video=info.has_video,
        has_audio=info.has_audio, width=info.width, height=info.height,
    )
