"""The ``transcribe`` stage: reuse subtitles or run Whisper → transcript.json/.srt/.vtt.

``--asr auto`` takes a usable subtitle track (human ones; platform auto-captions only with
``--auto-captions``) without loading Whisper; ``always`` runs Whisper; ``never`` uses
subtitles or stops with an error.

The terms of the video — read off its screen (``screen`` stage) and fixed by editors
(``glossary.json`` of the folder or its batch) — guide Whisper when it is measured to help
(multilingual models) and respell the new transcript ("tick token" → ``tiktoken``). Then the
transcript is cut at sentences.
"""

from __future__ import annotations

from pathlib import Path

from .. import glossary
from ..errors import InputError
from ..models import GlossaryTerm, Transcript
from ..ocr import terms as screen_terms
from ..progress import plain
from ..registry import ASR_ENGINES
from ..stage import StageContext, StageResult
from ..stages import AUDIO, TRANSCRIPT, TRANSCRIPT_SRT, TRANSCRIPT_VTT
from ..subtitles import parse_subtitles, pick_subtitle_track, write_srt, write_vtt
from ..workspace import write_json
from . import recheck
from .sentences import _text, split_sentences

HINTS = 15  # terms given to Whisper: more made no difference, raw slide text made it drop words

# below this many words per second of detected speech a transcript is suspiciously empty
# (English speech runs ~2.5 words/s); .en models can stay silent on other languages
_SPARSE_WPS = 0.3
# tiny.en on German espeak speech: mean word probability 0.38 (fluent-looking gibberish);
# on the English sample lecture 0.83
_LOW_CONFIDENCE = 0.55


def _from_subtitles(ctx: StageContext, track) -> Transcript | None:
    segments = parse_subtitles(ctx.ws.resolve(track.path))
    if not segments:
        return None
    duration = ctx.source.duration or segments[-1].end
    return Transcript(language=track.lang, origin="subtitles", backend="subtitles",
                      model=f"{track.lang} ({'automatic' if track.automatic else 'human'})",
                      duration=duration, segments=segments)


def _audio_path(ctx: StageContext) -> Path:
    wav = ctx.ws.path(AUDIO.name)
    return wav if wav.exists() else ctx.ws.resolve(ctx.source.media_path)


def _whisper(ctx: StageContext, terms: list[str]) -> tuple[Transcript, list[str]]:
    cfg = ctx.config
    notes: list[str] = []
    english_only = Path(cfg.whisper_model).name.endswith(".en")
    hints = None
    if cfg.whisper_hints == "on":
        hints = terms[:HINTS] or None
    if english_only and cfg.spoken_language and cfg.spoken_language.split("-")[0] != "en":
        raise InputError(f"--spoken-language {cfg.spoken_language} needs a multilingual model; "
                         f"{cfg.whisper_model} is English-only: use --whisper-model base")
    backend = ASR_ENGINES.get(cfg.asr_backend)(cfg)
    total = ctx.source.duration
    with ctx.progress.task("transcribe", total=total) as task:
        # only passed when there are hints: an engine without the parameter still works
        extra = {"hints": hints} if hints else {}
        tr = backend.transcribe(_audio_path(ctx), cfg.spoken_language,
                                on_progress=lambda t: task.update(completed=t), **extra)
    if hints:
        notes.append(f"{len(hints)} terms from the screen given to Whisper")
    words = sum(len(s.text.split()) for s in tr.segments)
    probs = [w.probability for s in tr.segments for w in s.words if w.probability is not None]
    confidence = sum(probs) / len(probs) if probs else None
    speech = tr.timings.get("speech_s") or tr.duration or 0.0
    hint = " — if the audio is not in English, try --whisper-model base" if english_only else ""
    if speech > 5 and words / speech < _SPARSE_WPS:
        notes.append(f"only {words} words in {speech:.0f} s of speech{hint}")
    elif english_only and confidence is not None and confidence < _LOW_CONFIDENCE:
        notes.append(f"low word confidence {confidence:.2f}{hint}")
    for note in notes:
        if "given to Whisper" not in note:
            ctx.progress.log(f"[yellow]warning:[/] transcript: {plain(note)}")
    return tr, notes


def fix_terms(tr: Transcript, terms: list[str], editor: list[GlossaryTerm],
              fuzzy: bool, seen: dict[str, list[screen_terms.Sighting]] | None = None
              ) -> list[tuple[str, str]]:
    """Respell the transcript's terms in place: the editors' listed misheard forms always, and
    near-misses of the screen's terms when ``fuzzy`` (each with its evidence in
    ``tr.respellings``; ``seen``: where the screen shows each term); returns what changed."""
    fixes: list[tuple[str, str]] = []
    for seg in tr.segments:
        if seg.words:
            if editor:
                words, f = screen_terms.replace_variants(seg.words, editor)
                fixes += f
                if words is not seg.words:
                    seg.words, seg.text = words, _text(words)
        elif editor:
            text, n = glossary.apply_variants(seg.text, editor)
            if n:
                fixes.append((seg.text, text))
                seg.text = text
    timed = [s for s in tr.segments if s.words]
    if fuzzy and terms and timed:
        # the whole talk at once: a term can straddle Whisper's cues ("an N." | "module")
        words, found = screen_terms.respell([w for s in timed for w in s.words], terms, seen)
        if found:
            tr.respellings += found
            fixes += [(f.heard, f.term) for f in found]
            recheck.regroup(timed, words)
    return fixes


def run(ctx: StageContext) -> StageResult:
    cfg = ctx.config
    source = ctx.source
    transcript = None
    notes: list[str] = []
    editor = glossary.editor_terms(ctx.ws)
    terms = glossary.all_terms(ctx.ws)
    # the respeller takes every term (each change needs its own evidence); the cut above is
    # for Whisper's prompt
    every = glossary.all_terms(ctx.ws, limit=1000)
    # the video's title, description and chapters name its terms too ("GPT-4"): no screen
    # time, so only the strong matches use them
    every += [t for t in screen_terms.metadata_terms(
        source.title, source.description, [c.title for c in source.chapters]) if t not in every]
    if cfg.asr in ("auto", "never"):
        track = pick_subtitle_track(source, cfg)
        if track is not None:
            transcript = _from_subtitles(ctx, track)
            if transcript is None:
                notes.append(f"subtitles {track.lang} are empty")
        if transcript is None and cfg.asr == "never":
            what = "auto-captions or subtitles" if cfg.auto_captions else "subtitles"
            raise InputError(f"--asr never: the source has no usable {what} "
                             f"(languages {', '.join(cfg.sub_langs)}); "
                             "use --asr auto to run Whisper")
    if transcript is None:
        transcript, more = _whisper(ctx, terms)
        notes += more
    seen = screen_terms.sightings(glossary.screen(ctx.ws), every)
    rechecked: list = []
    if transcript.origin == "asr" and cfg.fix_terms and cfg.recheck != "off" and \
            cfg.asr_backend == "faster-whisper":
        # a second listen where Whisper was unsure and the screen shows a term near
        rechecked, why = recheck.run(transcript, _audio_path(ctx), seen, cfg)
        transcript.respellings += rechecked
        notes += [why] if why else []
    # human subtitles are taken as written, but for the editors' own corrections
    fixes = fix_terms(transcript, every, editor,
                      fuzzy=cfg.fix_terms and transcript.origin == "asr", seen=seen)
    fixes = [(r.heard, r.term) for r in rechecked] + fixes
    if fixes:
        transcript.corrections = [f"{a} → {b}" for a, b in fixes]
        notes.append(f"{len(fixes)} term{'s' * (len(fixes) != 1)} respelled as on screen")

    ws = ctx.ws
    # subtitle files keep the recogniser's (or the uploader's) short cues, which read well on
    # screen; transcript.json is cut at sentences, so chapters can start at any sentence
    write_srt(transcript.segments, ws.path(TRANSCRIPT_SRT.name))
    write_vtt(transcript.segments, ws.path(TRANSCRIPT_VTT.name))
    transcript.segments = split_sentences(transcript.segments)
    write_json(ws.path(TRANSCRIPT.name), transcript)

    if transcript.origin == "subtitles":
        detail = f"subtitles {transcript.model}"
    else:
        rtf = transcript.timings.get("rtf")
        detail = f"{transcript.backend} {transcript.model}, {transcript.language}" + (
            f", RTF {rtf:.2f}" if rtf is not None else "")
    detail += f", {len(transcript.segments)} sentences"
    if not transcript.segments:
        detail += " (empty transcript)"
    return StageResult("; ".join([detail, *notes]))
