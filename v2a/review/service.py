"""Everything an editor can do to one work folder, without HTTP (the app is a thin layer).

Generated artifacts are read, never overwritten by an edit: titles, prose and keyframe choices
go to review.json with the generated text they were made on. Three actions do change generated
artifacts, because they are the pipeline's own work done for one section: splitting or merging
chapters (outline.json and chapters.json, exactly as the outline and write stages would write
them — the next ``v2a run`` finds them as hand edits and keeps them) and fixing the transcript
(transcript.json/.srt/.vtt).

Every change of a section names the revision it was made on; an older one is a ``Conflict``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..edits import diff
from ..edits.models import (
    STATUSES,
    Comment,
    Correction,
    Proposal,
    Review,
    SectionReview,
    Structure,
    Version,
)
from ..edits.overlay import Overlay, SectionView, build_overlay, keyframes_in, text_sha
from ..edits.store import Conflict, ReviewStore, now
from ..edits.structure import apply_structure, section_key
from ..errors import LLMError, V2AError
from ..links import fmt_time
from ..llm.base import LLMHandleLike, sampling_seed
from ..models import ChapterText, Draft, Outline, Scenes, Screen, Source, Transcript
from ..stage import StageContext
from ..stages import CHAPTERS, OUTLINE, SCENES, SCREEN, SOURCE, TRANSCRIPT, TRANSCRIPT_SRT, TRANSCRIPT_VTT
from ..subtitles import write_srt, write_vtt
from ..workspace import Workspace, read_model, write_json

COALESCE_S = 120  # autosaves within this many seconds of the last edit are one version
UNSET: Any = object()  # "not given" in a save (None means "back to the generated text")


class NotFound(V2AError):
    exit_code = 2


@dataclass
class Artifacts:
    source: Source
    transcript: Transcript
    scenes: Scenes | None
    outline: Outline
    draft: Draft | None
    screen: Screen | None = None


class ReviewSession:
    """One work folder under review.

    ``llm_handle``: the LLM for regenerating (shared by every folder of a batch); None opens
    the configured one lazily on the first regeneration.
    """

    def __init__(self, ws: Workspace, config: Config, llm_handle: LLMHandleLike | None = None,
                 llm_lock: threading.Lock | None = None):
        self.ws, self.config = ws, config
        self.store = ReviewStore(ws)
        self._handle = llm_handle
        self._llm_lock = llm_lock or threading.Lock()
        self._cache: dict[str, tuple[tuple[int, int], Any]] = {}
        self._ctx: StageContext | None = None

    # --- reading ---------------------------------------------------------------------------------
    def _read(self, name: str, cls: type, required: bool = True) -> Any:
        p = self.ws.path(name)
        try:
            st = p.stat()
        except FileNotFoundError:
            if required:
                raise V2AError(f"{self.ws.root} has no {name}: run `v2a run` on the video "
                               "first") from None
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(name)
        if hit is None or hit[0] != stamp:
            hit = (stamp, read_model(p, cls))
            self._cache[name] = hit
        return hit[1]

    def artifacts(self) -> Artifacts:
        return Artifacts(
            source=self._read(SOURCE.name, Source),
            transcript=self._read(TRANSCRIPT.name, Transcript),
            scenes=self._read(SCENES.name, Scenes, required=False),
            outline=self._read(OUTLINE.name, Outline),
            draft=self._read(CHAPTERS.name, Draft, required=False),
            screen=self._read(SCREEN.name, Screen, required=False))

    def review(self) -> Review:
        return self.store.load()

    def overlay(self, review: Review | None = None) -> Overlay:
        a = self.artifacts()
        return build_overlay(a.outline, a.draft, review or self.review())

    def view(self, key: str, review: Review | None = None) -> SectionView:
        v = self.overlay(review).by_key(key)
        if v is None:
            raise NotFound(f"no section {key} (the chapters changed: reload the page)")
        return v

    # --- editing a section ------------------------------------------------------------------------
    def _begin(self, review: Review, key: str, rev: int | None) -> tuple[SectionReview, SectionView]:
        """The section's record and view, after checking ``rev`` is its current revision."""
        view = self.view(key, review)
        rec = review.section(key)
        if rev is not None and rev != rec.rev:
            raise Conflict(rec)
        return rec, view

    @staticmethod
    def _bump(rec: SectionReview) -> None:
        rec.rev += 1
        rec.updated_at = now()

    @staticmethod
    def _remember(rec: SectionReview, view: SectionView, kind: str, note: str = "",
                  editor: str | None = None) -> None:
        """Put the section's current text in its history. The autosaves of one open editor
        within ``COALESCE_S`` are one version; another editor's (another tab's) never merge."""
        if not rec.history:
            rec.history.append(Version(n=1, at=now(), kind="generated",
                                       title=view.generated_title,
                                       markdown=view.generated_markdown))
        last = rec.history[-1]
        if editor and last.kind == kind == "edit" and last.editor == editor \
                and _age(last.at) < COALESCE_S:
            rec.history.pop()
            n = last.n
        else:
            n = rec.next_version()
        rec.history.append(Version(n=n, at=now(), kind=kind, title=view.title,  # type: ignore[arg-type]
                                   markdown=view.markdown, images=rec.images, note=note,
                                   editor=editor))

    @staticmethod
    def _set_text(rec: SectionReview, view: SectionView, title: Any, markdown: Any) -> None:
        """The editor's title/prose (None or the generated text itself: no override)."""
        if not rec.edited:  # a first edit: remember what it was made on
            rec.base_title, rec.base_markdown = view.generated_title, view.generated_markdown
            rec.base_sha = text_sha(view.generated_title, view.generated_markdown)
        if title is not UNSET:
            rec.title = None if title is None or title.strip() == view.generated_title else title.strip()
        if markdown is not UNSET:
            rec.markdown = None if markdown is None or markdown == view.generated_markdown \
                else markdown
        if not rec.edited:
            rec.base_title = rec.base_markdown = rec.base_sha = None

    def save(self, key: str, rev: int, title: Any = UNSET, markdown: Any = UNSET,
             images: Any = UNSET, editor: str | None = None) -> SectionReview:
        """An edit of a section's title, prose or keyframes (the app's autosave; ``editor``
        names the open editor, whose autosaves make one version)."""
        with self.store.change() as review:
            rec, view = self._begin(review, key, rev)
            if images is not UNSET:
                allowed = set(keyframes_in(self.artifacts().scenes, view.chapter))
                bad = [i for i in images or [] if i not in allowed]
                if bad:
                    raise V2AError(f"keyframe {bad[0]} is not in section {view.number}'s time range")
                rec.images = None if images is None else sorted(set(images))
            self._set_text(rec, view, title, markdown)
            self._remember(rec, self.view(key, review), "edit", editor=editor)
            if rec.status == "approved":
                rec.status = "reviewed"  # approval was for the text before this change
            self._bump(rec)
            return rec

    def set_status(self, key: str, rev: int, status: str) -> SectionReview:
        if status not in STATUSES:
            raise V2AError(f"status must be one of {', '.join(STATUSES)}")
        with self.store.change() as review:
            rec, _ = self._begin(review, key, rev)
            rec.status = status
            self._bump(rec)
            return rec

    def restore(self, key: str, rev: int, n: int) -> SectionReview:
        """Make version ``n`` of the section's history its text again (a new version)."""
        with self.store.change() as review:
            rec, view = self._begin(review, key, rev)
            v = next((v for v in rec.history if v.n == n), None)
            if v is None:
                raise NotFound(f"section {view.number} has no version {n}")
            self._set_text(rec, view, v.title, v.markdown)
            rec.images = v.images
            self._remember(rec, self.view(key, review), "restored", note=f"version {n}")
            self._bump(rec)
            return rec

    def keep_edit(self, key: str, rev: int) -> SectionReview:
        """The generated text changed under the edit, and the editor keeps the edit."""
        with self.store.change() as review:
            rec, view = self._begin(review, key, rev)
            rec.base_title, rec.base_markdown = view.generated_title, view.generated_markdown
            rec.base_sha = text_sha(view.generated_title, view.generated_markdown)
            self._bump(rec)
            return rec

    def take_generated(self, key: str, rev: int) -> SectionReview:
        """Drop the editor's title and prose for the generated ones (the edit stays in history)."""
        with self.store.change() as review:
            rec, view = self._begin(review, key, rev)
            self._remember(rec, view, "edit", note="set aside for the generated text")
            rec.title = rec.markdown = rec.base_title = rec.base_markdown = rec.base_sha = None
            self._remember(rec, self.view(key, review), "base", note="the generated text")
            self._bump(rec)
            return rec

    def dismiss_stale(self, key: str, rev: int) -> SectionReview:
        with self.store.change() as review:
            rec, _ = self._begin(review, key, rev)
            rec.stale = []
            self._bump(rec)
            return rec

    # --- comments ---------------------------------------------------------------------------------
    def comment(self, key: str, time: float, text: str) -> Comment:
        """A comment pinned to a second of the video (comments never conflict)."""
        text = text.strip()
        if not text:
            raise V2AError("a comment needs some text")
        with self.store.change() as review:
            view = self.view(key, review)
            c = Comment(id=uuid.uuid4().hex[:12], time=max(0.0, float(time)), text=text, at=now())
            review.section(view.key).comments.append(c)
            return c

    def resolve_comment(self, key: str, cid: str, done: bool = True) -> Comment:
        with self.store.change() as review:
            for c in review.section(key).comments:
                if c.id == cid:
                    c.done = done
                    return c
        raise NotFound(f"no comment {cid}")

    # --- the model ----------------------------------------------------------------------------------
    def _stage_ctx(self) -> StageContext:
        if self._ctx is None:
            self._ctx = StageContext(ws=self.ws, config=self.config, src=str(self.ws.root),
                                     llm_handle=self._handle)
        return self._ctx

    def _write(self, outline: Outline, transcript: Transcript, positions: list[int],
               instruction: str = "", regenerate: str | None = None,
               unlike: str | None = None, revise: bool = True) -> list[ChapterText]:
        """Chapters at ``positions`` of ``outline`` written by the write stage's Writer."""
        from ..write.chapters import Writer

        with self._llm_lock:  # one writer at a time: the embedded model has one slot
            writer = Writer(self._stage_ctx(), outline, transcript)
            out = []
            for k in positions:
                if regenerate is None:
                    try:
                        out.append(writer.write(k))
                    except LLMError as exc:
                        # the cut is the editor's and stays; this section shows as not written,
                        # to regenerate or write by hand (a small model sometimes declines)
                        c = outline.chapters[k]
                        out.append(ChapterText(index=c.index, title=c.title, start=c.start,
                                               end=c.end, status="failed", error=str(exc)))
                else:
                    # the nonce keeps a regeneration out of the cache and seeds its sampling
                    # (a new text each time); a reply that hands back the current text is
                    # asked once more, warmer
                    with sampling_seed(int(hashlib.sha256(regenerate.encode()).hexdigest()[:8],
                                           16)):
                        out.append(writer.write(k, instruction=instruction,
                                                regenerate=regenerate, unlike=unlike,
                                                revise=revise))
            return out

    def regenerate(self, key: str, instruction: str = "") -> Proposal:
        """One LLM call: a new text of the section, kept as a proposal until accepted."""
        a = self.artifacts()
        view = self.view(key)
        pos = next(i for i, c in enumerate(a.outline.chapters) if section_key(c) == key)
        pid = uuid.uuid4().hex[:12]
        try:
            # a section whose transcript was fixed since is written from the transcript (the
            # fix is not in its text); otherwise an instruction revises the text the editor has
            text = self._write(a.outline, a.transcript, [pos], instruction.strip(), pid,
                               unlike=view.markdown, revise=not view.review.stale)[0]
        except LLMError as exc:
            raise V2AError(f"section {view.number} could not be rewritten: {exc}") from None
        from ..write.chapters import UNCHANGED, same_words

        # the writer compared its reply with the text as it was when asked; the section may
        # have been edited (another tab) during the call: a proposal with nothing to accept
        # is never shown
        if same_words(text.markdown, self.view(key).markdown):
            raise V2AError(f"section {view.number} could not be rewritten: {UNCHANGED}")
        p = Proposal(id=pid, instruction=instruction.strip(), markdown=text.markdown, at=now(),
                     model=self._stage_ctx().llm().model_name, usage=text.usage)
        with self.store.change() as review:
            review.section(key).proposal = p  # kept: it cost a call (a reload still shows it)
        return p

    def accept(self, key: str, rev: int, pid: str) -> SectionReview:
        with self.store.change() as review:
            rec, view = self._begin(review, key, rev)
            if rec.proposal is None or rec.proposal.id != pid:
                raise Conflict(rec, "that proposal is no longer open (accepted or discarded "
                                    "elsewhere)")
            p = rec.proposal
            self._set_text(rec, view, UNSET, p.markdown)
            note = f"instruction: {p.instruction}" if p.instruction else "regenerated"
            rec.proposal, rec.stale = None, []
            self._remember(rec, self.view(key, review), "regenerated", note=note)
            if rec.status == "approved":
                rec.status = "reviewed"
            self._bump(rec)
            return rec

    def discard(self, key: str, pid: str) -> SectionReview:
        with self.store.change() as review:
            rec = review.section(key)
            if rec.proposal is not None and rec.proposal.id == pid:
                rec.proposal = None
            return rec

    # --- chapter cuts -----------------------------------------------------------------------------
    def split(self, key: str, rev: int, segment: int, title: str) -> list[str]:
        """Start a new chapter at transcript line ``segment``; both halves are rewritten (two
        LLM calls, the other sections untouched). Returns the two section keys."""
        a = self.artifacts()
        view = self.view(key)
        ch = view.chapter
        if not ch.first_segment < segment <= ch.last_segment:
            raise V2AError(f"line {segment} is not inside section {view.number} (or starts it)")
        title = title.strip() or "Untitled section"
        review = self.review()
        if review.section(key).rev != rev:
            raise Conflict(review.section(key))
        review.structure.added[str(segment)] = title
        if segment in review.structure.removed:
            review.structure.removed.remove(segment)
        new_key = str(segment)
        return self._recut(a, review.structure, [key, new_key], key, rev,
                           f"split at {_line_time(a.transcript, segment)}")

    def merge(self, key: str, rev: int) -> list[str]:
        """Merge the section with the next one; the merged section is rewritten (one call)."""
        a = self.artifacts()
        ov = self.overlay()
        view = ov.by_key(key)
        if view is None:
            raise NotFound(f"no section {key}")
        nxt = next((s for s in ov.sections if s.number == view.number + 1), None)
        if nxt is None:
            raise V2AError("the last section has no next one to merge with")
        review = self.review()
        if review.section(key).rev != rev:
            raise Conflict(review.section(key))
        nkey = int(nxt.key)
        keep = review.structure.model_copy(deep=True)  # what a re-run of the outline applies
        if nxt.key in keep.added:
            del keep.added[nxt.key]  # the editor's own cut, undone
        elif nkey not in keep.removed:
            keep.removed.append(nkey)
        # over the current outline.json (which has every cut applied) the start must go
        now_ = keep.model_copy(update={"removed": sorted({*keep.removed, nkey})})
        return self._recut(a, keep, [key], key, rev, f"merged with section {nxt.number}",
                           absorbed=nxt.key, apply=now_)

    def _recut(self, a: Artifacts, structure: Structure, keys: list[str], key: str, rev: int,
               note: str, absorbed: str | None = None, apply: Structure | None = None
               ) -> list[str]:
        """Apply a new cut to outline.json, write the ``keys`` sections (the only LLM calls),
        and save outline.json, chapters.json and the review together."""
        apply = apply or structure
        outline = apply_structure(a.outline, a.transcript, apply)
        pos = [i for i, c in enumerate(outline.chapters) if section_key(c) in keys]
        written = self._write(outline, a.transcript, pos)  # the slow part: no lock held
        with self.store.change() as review:
            if review.section(key).rev != rev:
                raise Conflict(review.section(key))
            review.structure = structure
            current = read_model(self.ws.path(OUTLINE.name), Outline)
            outline = apply_structure(current, a.transcript, apply)
            texts = {section_key(outline.chapters[p]): t for p, t in zip(pos, written)}
            old = {c.index: c for c in (a.draft.chapters if a.draft else [])}
            by_key = {section_key(c): old.get(c.index) for c in current.chapters}
            ov = build_overlay(current, a.draft, review)
            for k in [*keys, *([absorbed] if absorbed else [])]:
                v = ov.by_key(k)
                rec = review.section(k)
                if v is not None and (rec.edited or rec.images is not None):
                    self._remember(rec, v, "split" if absorbed is None else "merged", note=note)
                rec.title = rec.markdown = rec.images = None
                rec.base_title = rec.base_markdown = rec.base_sha = None
                rec.stale, rec.proposal = [], None
                if rec.status == "approved":
                    rec.status = "reviewed"
                self._bump(rec)
            if absorbed:  # the merged-away section's history and comments go with its text
                gone = review.sections.pop(absorbed)
                into = review.section(key)
                for old_version in gone.history:
                    why = f"from the merged section; {old_version.note}".strip("; ")
                    into.history.append(old_version.model_copy(
                        update={"n": into.next_version(), "note": why}))
                into.comments += gone.comments
            chapters = []
            for c in outline.chapters:
                k = section_key(c)
                t = texts.get(k) or by_key.get(k)
                if t is None:
                    t = ChapterText(index=c.index, title=c.title, start=c.start, end=c.end,
                                    status="failed", error="not written yet")
                chapters.append(t.model_copy(update={"index": c.index, "title": c.title,
                                                     "start": c.start, "end": c.end}))
            draft = (a.draft or Draft(chapters=[])).model_copy(update={"chapters": chapters})
            write_json(self.ws.path(OUTLINE.name), outline)
            write_json(self.ws.path(CHAPTERS.name), draft)
        return [section_key(outline.chapters[p]) for p in pos]

    # --- the transcript ----------------------------------------------------------------------------
    def fix_line(self, segment: int, text: str) -> dict:
        """Correct one transcript line; returns the replaced phrases and where else each occurs
        (for "apply everywhere")."""
        from ..glossary import occurrences, replace_in

        text = " ".join(text.split())
        if not text:
            raise V2AError("a transcript line cannot be empty")
        with self.store.change() as review:
            tr = self.artifacts().transcript.model_copy(deep=True)
            seg = next((s for s in tr.segments if s.id == segment), None)
            if seg is None:
                raise NotFound(f"no transcript line {segment}")
            old = seg.text
            pairs = diff.changed_phrases(old, text)
            for find, repl in pairs:
                replace_in(seg, find, repl)  # keeps the timed words in step
            seg.text = (" " if old.startswith(" ") else "") + text
            self._save_transcript(tr)
            self._mark_stale(review, [segment], f"line {_line_time(tr, segment)} fixed: "
                                                 f"“{_short(old)}” → “{_short(text)}”")
            for find, repl in pairs:
                review.corrections.append(Correction(at=now(), find=find, replace=repl,
                                                     segments=[segment]))
        return {"segment": segment, "text": text, "changes": [
            {"find": f, "replace": r, "elsewhere": len(occurrences(tr.segments, f))}
            for f, r in pairs]}

    def replace_everywhere(self, find: str, replace: str, remember: bool = True) -> dict:
        """Replace a misheard phrase in every transcript line, remember it in the glossaries,
        and mark the sections whose text was written from those lines as stale."""
        from .. import glossary

        find, replace = " ".join(find.split()), " ".join(replace.split())
        if not find or not replace:
            raise V2AError("say what to replace and with what")
        with self.store.change() as review:
            tr = self.artifacts().transcript.model_copy(deep=True)
            changed = [s.id for s in tr.segments if glossary.replace_in(s, find, replace)]
            if changed:
                self._save_transcript(tr)
                review.corrections.append(Correction(at=now(), find=find, replace=replace,
                                                     segments=changed))
            stale = self._mark_stale(review, changed, f"transcript: “{find}” → “{replace}”")
            saved = []
            if remember:
                for p in glossary.glossary_paths(self.ws):
                    glossary.add_term(p, replace, find)
                    saved.append(str(p))
        return {"lines": len(changed), "stale": stale, "glossaries": saved}

    def _save_transcript(self, tr: Transcript) -> None:
        write_json(self.ws.path(TRANSCRIPT.name), tr)
        write_srt(tr.segments, self.ws.path(TRANSCRIPT_SRT.name))
        write_vtt(tr.segments, self.ws.path(TRANSCRIPT_VTT.name))

    def _mark_stale(self, review: Review, segments: list[int], why: str) -> list[str]:
        """Sections whose text was written from these lines now need a look (or a rewrite)."""
        keys = []
        a = self.artifacts()
        for v in build_overlay(a.outline, a.draft, review).sections:
            if any(v.chapter.first_segment <= s <= v.chapter.last_segment for s in segments):
                rec = review.section(v.key)
                if why not in rec.stale:
                    rec.stale.append(why)
                self._bump(rec)
                keys.append(v.key)
        return keys

    # --- publishing ----------------------------------------------------------------------------------
    def publish_check(self, force: bool = False) -> list[str]:
        """Why the article should not be published yet (empty: it may be)."""
        ov = self.overlay()
        problems = []
        waiting = [s for s in ov.sections if s.review.status != "approved"]
        if waiting:
            problems.append(f"{len(waiting)} of {len(ov.sections)} sections are not approved "
                            f"(first: {waiting[0].number}. {waiting[0].title})")
        if ov.orphans:
            problems.append(f"{len(ov.orphans)} edited sections no longer match a chapter "
                            "(open v2a review to place them)")
        return [] if force else problems

    def publish(self, force: bool = False) -> list[Path]:
        """Render the article with every edit (the render stage), once all is approved."""
        from ..pipeline import outputs, run_stage
        from ..stages import STAGES

        problems = self.publish_check(force)
        if problems:
            raise V2AError("not published: " + "; ".join(problems) + " (or publish anyway: --force)")
        ctx = StageContext(ws=self.ws, config=self.config, src=str(self.ws.root))
        run_stage(ctx, "render")
        with self.store.change() as review:
            review.published_at = now()
        return [self.ws.path(n) for n in outputs(STAGES["render"], self.config)]

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()


def _age(at: str) -> float:
    try:
        return (dt.datetime.now() - dt.datetime.fromisoformat(at)).total_seconds()
    except ValueError:
        return float("inf")


def _line_time(tr: Transcript, segment: int) -> str:
    seg = next((s for s in tr.segments if s.id == segment), None)
    return fmt_time(seg.start) if seg else "?"


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
