"""The batch's static site: every article, a playlist table of contents, offline full-text search.

MkDocs with the Material theme does the work: its search plugin builds a lunr index at build
time and searches in the browser. ``theme.font: false`` keeps Material from linking Google
Fonts, so the built site fetches nothing from the internet. Material's ``offline`` plugin
(search from ``file://``) is not used: it loads a shim from a CDN. Pages and links work from
``file://``; search needs any local web server (``python -m http.server -d site``).

Layout in the batch root: ``mkdocs.yml`` and ``docs/`` (generated, rewritten on every build) and
``site/`` (the output; open ``site/index.html``). Each article becomes ``docs/<slug>/index.md``
with its keyframes linked beside it; render puts each chapter's timestamped transcript in a
``<details markdown="1">`` block, so search also finds words the prose paraphrased away. Links
to local media are rewritten to point back into the video's work folder, and links to the
original video (YouTube ``&t=``, media ``#t=``) are kept.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from ..errors import V2AError
from ..links import fmt_time
from ..models import Source
from ..stages import SOURCE
from ..workspace import Workspace, atomic_write_text, read_model
from .state import BatchState, EntryState

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".svg", ".avif"}
# Markdown link/image targets and HTML src/href attributes
_MD_LINK = re.compile(r"(\]\()(<[^>]+>|[^)\s]+)((?:\s+\"[^\"]*\")?\))")
_HTML_ATTR = re.compile(r"((?:src|href)=\")([^\"]+)(\")")


class SiteError(V2AError):
    """The site could not be built (the articles themselves are fine)."""


@dataclass
class SiteResult:
    index: Path  # site/index.html
    pages: list[Path] = field(default_factory=list)  # docs/<slug>/index.md, one per article
    built: bool = True


def site_available() -> bool:
    return (importlib.util.find_spec("mkdocs") is not None
            and importlib.util.find_spec("material") is not None)


def build_site(root: Path, state: BatchState, *, build: bool = True) -> SiteResult:
    """Write docs/ + mkdocs.yml from the finished articles under ``root`` and build site/."""
    root = Path(root)
    docs = root / "docs"
    if docs.exists():
        shutil.rmtree(docs)  # generated: stale pages of removed videos must go
    docs.mkdir(parents=True)
    nav: list[dict] = [{"Playlist": "index.md"}]
    pages, rows, missing = [], [], []
    for e in state.ordered():
        wd = root / e.workdir
        md = _markdown(wd) if e.status == "done" else None
        if md is not None:
            slug = Path(e.workdir).name
            page = docs / slug / "index.md"
            source = _source(wd)
            _write_page(page, md, wd, root)
            pages.append(page)
            # the listing's title is the human one (a feed item's); a URL or path is not
            title = (e.article_title or e.title) if re.search(r"://|[/\\]", e.title) else e.title
            nav.append({_html_text(title): f"{slug}/index.md"})
            rows.append((e, title, f"{slug}/index.md", source))
        elif e.status in ("failed", "skipped", "pending", "running"):
            missing.append(e)
    atomic_write_text(docs / "index.md", _index_md(state, rows, missing))
    atomic_write_text(root / "mkdocs.yml", _mkdocs_yml(_html_text(state.title), nav))
    result = SiteResult(index=root / "site" / "index.html", pages=pages, built=False)
    if build:
        _mkdocs_build(root / "mkdocs.yml")
        result.built = True
    return result


# ---- pages ---------------------------------------------------------------------------------------


def _source(wd: Path) -> Source | None:
    try:
        return read_model(wd / SOURCE.name, Source)
    except (OSError, ValueError):
        return None


def _markdown(wd: Path) -> str | None:
    """The article as Markdown (MkDocs' input): the markdown renderer's file when the run wrote
    it, else rendered from the work folder's artifacts (a batch run with other --format's)."""
    from ..pipeline import saved_config
    from ..registry import RENDERERS
    from ..render.stage import load_article
    from ..stage import StageContext

    markdown = RENDERERS.get("markdown")
    path = wd / markdown.filename
    if path.exists():
        return path.read_text("utf-8")
    ws = Workspace(wd)
    config = saved_config(ws)
    try:
        return markdown.render(load_article(StageContext(ws=ws, config=config, src="")), config)
    except (V2AError, OSError, ValueError):
        return None  # never rendered (no outline yet): no page


def _write_page(page: Path, md: str, wd: Path, root: Path) -> None:
    page.parent.mkdir(parents=True, exist_ok=True)
    site_page_dir = root / "site" / page.parent.name
    atomic_write_text(page, _rewrite_links(md, wd, page.parent, site_page_dir))


def _rewrite_links(md: str, wd: Path, page_dir: Path, site_page_dir: Path) -> str:
    """Copy local images next to the page; point other local files back into the work folder."""

    def fix(target: str) -> str:
        bracketed = target.startswith("<") and target.endswith(">")
        raw = target[1:-1] if bracketed else target
        if re.match(r"^[a-z][a-z0-9+.-]*:|^[#/]", raw, re.IGNORECASE):
            return target  # absolute URL, anchor or site-absolute path: the original video etc.
        quoted, frag = (raw.split("#", 1) + [""])[:2]
        path = unquote(quoted)
        local = (wd / path).resolve()
        if not path or not local.is_file() or not local.is_relative_to(wd.resolve()):
            return target
        if local.suffix.lower() in IMAGE_EXT:
            dst = page_dir / path
            dst.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(local, dst)
            return target
        new = quote(os.path.relpath(local, site_page_dir).replace(os.sep, "/"))
        new += f"#{frag}" if frag else ""
        return f"<{new}>" if bracketed else new

    md = _MD_LINK.sub(lambda m: m.group(1) + fix(m.group(2)) + m.group(3), md)
    return _HTML_ATTR.sub(lambda m: m.group(1) + fix(m.group(2)) + m.group(3), md)


def _link_or_copy(src: Path, dst: Path) -> None:
    # hard links keep a playlist of keyframes from doubling on disk; copy across filesystems
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _html_text(text: str) -> str:
    """Text for the site's name and navigation: MkDocs themes put these into the page as HTML
    unescaped, so a feed's title would otherwise be markup (and script) on every page."""
    import html

    return html.escape(" ".join(text.split()), quote=True)


def _escape_md(text: str) -> str:
    # spoken text is plain text: keep it from turning into markup
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)


def _index_md(state: BatchState, rows: list, missing: list[EntryState]) -> str:
    total = sum((e.duration or 0.0) for e, *_ in rows)
    lines = [f"# {_escape_md(state.title)}", ""]
    summary = f"{len(rows)} article{'s' if len(rows) != 1 else ''}"
    if total:
        summary += f" from {fmt_time(total)} of video"
    if state.url:
        summary += f" · [source]({state.url})"
    lines += [summary + ".", "", "| # | Article | Date | Length | Video |", "|---|---|---|---|---|"]
    for e, title, href, source in rows:
        video = (source.url or source.media_url) if source else None
        video = video or (e.url if re.match(r"^https?://", e.url) else None)
        date = _fmt_date(e.upload_date or (source.upload_date if source else None))
        dur = e.duration or (source.duration if source else None)
        lines.append(f"| {e.index} | [{_escape_md(title)}]({href}) | {date} | "
                     f"{fmt_time(dur) if dur else ''} | {f'[watch]({video})' if video else ''} |")
    if missing:
        lines += ["", "## Not included", ""]
        for e in missing:
            why = e.reason or ("not processed yet" if e.status in ("pending", "running") else e.status)
            lines.append(f"- **{_escape_md(e.title)}** (#{e.index}) — {e.status}: {_escape_md(why)}")
    return "\n".join(lines) + "\n"


def _fmt_date(d: str | None) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if d and len(d) == 8 and d.isdigit() else ""


# ---- mkdocs --------------------------------------------------------------------------------------


def _mkdocs_yml(title: str, nav: list[dict]) -> str:
    import yaml

    conf = {
        "site_name": title,
        "docs_dir": "docs",
        "site_dir": "site",
        "use_directory_urls": False,  # plain files: the site also works from file://
        "theme": {
            "name": "material",
            "font": False,  # no Google Fonts: the site must work offline
            "features": ["navigation.top", "search.highlight", "search.suggest", "toc.follow"],
        },
        # not Material's "offline" plugin: it loads its iframe-worker shim from unpkg.com, so
        # search would need the internet; serve the folder instead (`python -m http.server`)
        "plugins": ["search"],
        "markdown_extensions": ["attr_list", "md_in_html", "tables", "footnotes", "admonition",
                                "pymdownx.details", {"toc": {"permalink": True}}],
        "nav": nav,
        # media links point back into the work folders, outside docs/: that is intended
        "validation": {"links": {"not_found": "info", "unrecognized_links": "info",
                                 "absolute_links": "info", "anchors": "info"},
                       "nav": {"omitted_files": "info"}},
    }
    return ("# Generated by `v2a batch` on every run; edits are overwritten.\n"
            + yaml.safe_dump(conf, sort_keys=False, allow_unicode=True))


def _mkdocs_build(config_file: Path) -> None:
    if not site_available():
        raise SiteError("the site needs MkDocs Material: pip install 'v2a[site]' "
                        "(articles are written; re-run `v2a batch` to build the site)")
    # a child process: MkDocs and its plugins keep global state between builds
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--clean",
                          "-f", str(config_file)], capture_output=True, text=True,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    if res.returncode != 0:
        tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
        raise SiteError(f"mkdocs build failed: {' | '.join(tail)}")
