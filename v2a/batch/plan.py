"""The batch plan: list a playlist/feed without downloading, filter it, estimate the LLM bill."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..config import Config
from ..errors import InputError
from ..models import Playlist, PlaylistEntry
from ..workspace import source_slug
from .state import EntryState, entry_from_playlist

# Rough transcript size: ~150 spoken words a minute, ~1.3 tokens a word, +30% for segment ids.
TOKENS_PER_SECOND = 4.3
CHAPTER_SECONDS = 180.0  # typical chapter length the outline stage produces


@dataclass
class Estimate:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None  # None: local/unknown price
    model: str = ""
    local: bool = True
    unknown_durations: int = 0
    embedded: bool = False  # the model v2a serves itself (local alone may be an endpoint here)


@dataclass
class BatchPlan:
    playlist: Playlist
    root_slug: str
    selected: list[EntryState]  # runnable and skipped (with reason) entries, in playlist order
    filtered_out: int = 0
    undated_kept: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> list[EntryState]:
        return [e for e in self.selected if e.status != "skipped"]

    @property
    def total_duration(self) -> float:
        return sum(e.duration or 0.0 for e in self.runnable)


def list_playlist(src: str, config: Config) -> Playlist:
    """Expand ``src`` into its entries (yt-dlp flat listing, RSS feed, text file of URLs)."""
    from ..ingest.playlist import list_entries

    playlist = list_entries(src, config)
    if playlist is None:
        raise InputError(f"{src} is a single video, not a playlist or feed; use `v2a run` for it")
    if not playlist.entries:
        raise InputError(f"{src} lists no videos")
    return playlist


def parse_since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        dt.datetime.strptime(value, "%Y%m%d")
    except ValueError:
        raise InputError(f"--since wants a date as YYYYMMDD (e.g. 20260131), not {value!r}") from None
    return value


def parse_match(value: str | None) -> re.Pattern | None:
    if value is None:
        return None
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise InputError(f"--match is not a valid regular expression: {exc}") from None


def make_plan(playlist: Playlist, *, limit: int | None = None, since: str | None = None,
              match: str | None = None, max_duration: float | None = None) -> BatchPlan:
    """Filter (--match on the title, --since on the upload date, then --limit) and key entries.

    Entries without a known upload date are kept under --since (feeds often omit it) and
    counted, so the plan says so instead of silently dropping them.
    """
    since = parse_since(since)
    pattern = parse_match(match)
    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1")
    plan = BatchPlan(playlist=playlist, root_slug=source_slug(playlist.title, playlist.id),
                     selected=[])
    seen: dict[str, int] = {}
    for e in playlist.entries:
        if pattern and not pattern.search(e.title):
            plan.filtered_out += 1
            continue
        if since:
            if e.upload_date is None:
                plan.undated_kept += 1
            elif e.upload_date < since:
                plan.filtered_out += 1
                continue
        if limit is not None and len(plan.selected) >= limit:
            plan.filtered_out += 1
            continue
        plan.selected.append(_keyed(e, seen, max_duration))
    if plan.undated_kept:
        plan.notes.append(f"{plan.undated_kept} entries have no upload date and were kept "
                          "despite --since")
    return plan


def _keyed(e: PlaylistEntry, seen: dict[str, int], max_duration: float | None) -> EntryState:
    key = e.id or f"entry-{e.index}"
    state = entry_from_playlist(e, key, f"videos/{source_slug(e.title, key)}")
    if key in seen:
        # the same video twice in one playlist: one article is enough
        state.key = f"{key}#{e.index}"
        state.status, state.reason = "skipped", f"duplicate of entry {seen[key]}"
        return state
    seen[key] = e.index
    if max_duration is not None and e.duration is not None and e.duration > max_duration:
        state.status = "skipped"
        state.reason = (f"too long ({e.duration / 60:.1f} min, over the --max-duration limit "
                        f"of {max_duration / 60:.1f} min)")
    return state


def is_loopback(url: str | None) -> bool:
    host = (urlsplit(url).hostname or "") if url else ""
    return host in ("localhost", "::1") or host.startswith("127.")


def estimate(entries: list[EntryState], config: Config) -> Estimate:
    """Tokens of the outline call plus one call per chapter; cost from the LLM price table.

    A rough figure for planning: it assumes ~150 spoken words a minute and ~3-minute chapters.
    """
    from ..llm.open import describe
    from ..llm.usage import cost

    target = describe(config)  # also turns a misconfigured endpoint into a one-line error now
    local = target.embedded or is_loopback(target.base_url)
    est = Estimate(model=target.model_name, local=local, embedded=target.embedded)
    for e in entries:
        if e.duration is None:
            est.unknown_durations += 1
            continue
        transcript = e.duration * TOKENS_PER_SECOND
        chapters = max(1.0, e.duration / CHAPTER_SECONDS)
        est.prompt_tokens += int(transcript + 600 + transcript + 400 * chapters)
        est.completion_tokens += int(60 * chapters + 0.5 * transcript)
    est.cost_usd = 0.0 if local else cost(target.model_name, est.prompt_tokens,
                                          est.completion_tokens)
    return est
