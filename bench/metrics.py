"""Article quality metrics computed from a work folder's artifacts (no LLM judge).

* WER of the transcript against the known script;
* chapter boundary precision/recall/F1 against known chapter starts (± tolerance);
* timestamp accuracy: each section's link time vs the transcript segment its prose comes from;
* grounding: share of numbers and capitalised names in the article found in the transcript;
* images in range: share of section images whose timestamp lies in the section's time range.
"""

from __future__ import annotations

import re
from pathlib import Path

from v2a.models import Draft, Outline, Transcript
from v2a.workspace import read_model

_T_PARAM = re.compile(r"[#?&]t=(\d+(?:\.\d+)?)s?")
_HEADING = re.compile(r"^##\s+(?:\[(?P<title>.+?)\]\((?P<href>[^)]*)\)|(?P<plain>.+))\s*$")
_IMAGE_LINK = re.compile(r"\[!\[[^\]]*\]\([^)]*\)\]\((?P<href>[^)]*)\)")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
              "eight": 8, "nine": 9, "ten": 10, "twenty": 20, "hundred": 100, "thousand": 1000}


def normalize(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def wer(hypothesis: str, reference: str) -> float:
    import jiwer

    return float(jiwer.wer(normalize(reference), normalize(hypothesis)))


def boundary_prf(predicted: list[float], truth: list[float], tol: float) -> dict:
    """Greedy one-to-one matching of boundary times (the t=0 start is not a boundary)."""
    pred = sorted(p for p in predicted if p > 0.5)
    true = sorted(t for t in truth if t > 0.5)
    used, hits = set(), 0
    for p in pred:
        best = min((abs(p - t), i) for i, t in enumerate(true) if i not in used) if \
            len(used) < len(true) else None
        if best and best[0] <= tol:
            used.add(best[1])
            hits += 1
    precision = hits / len(pred) if pred else (1.0 if not true else 0.0)
    recall = hits / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "predicted": len(pred), "truth": len(true), "tolerance_s": tol}


def _t(href: str) -> float | None:
    m = _T_PARAM.search(href or "")
    return float(m.group(1)) if m else None


def article_sections(md: str) -> list[dict]:
    """Sections of article.md: heading time, images' times, prose (Markdown body)."""
    sections: list[dict] = []
    for line in md.splitlines():
        h = _HEADING.match(line)
        if h:
            sections.append({"title": h.group("title") or h.group("plain"),
                             "t": _t(h.group("href") or ""), "images": [], "lines": []})
            continue
        if sections:
            sections[-1]["images"] += [t for t in (_t(m.group("href"))
                                                   for m in _IMAGE_LINK.finditer(line))
                                       if t is not None]
            sections[-1]["lines"].append(line)
    return [s for s in sections if s["t"] is not None]


def images_in_range(sections: list[dict], duration: float) -> dict:
    total = inside = 0
    for i, s in enumerate(sections):
        end = sections[i + 1]["t"] if i + 1 < len(sections) else duration + 1
        for t in s["images"]:
            total += 1
            inside += s["t"] <= t < end
    return {"images": total, "in_range": inside,
            "share": round(inside / total, 3) if total else None}


def _tokens(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 3}


def timestamp_accuracy(draft: Draft, outline: Outline, transcript: Transcript) -> dict:
    """Section link time vs the start of the segment that best matches its first sentences."""
    errors = []
    segs = transcript.segments
    for ch in draft.chapters:
        oc = next((c for c in outline.chapters if c.index == ch.index), None)
        if oc is None or not ch.markdown.strip():
            continue
        head = _tokens(" ".join(ch.markdown.split(".")[:2]))
        if not head:
            continue
        # long lectures repeat slides: of the segments matching (nearly) as well as the best
        # one, the nearest is the source, not an identical sentence minutes away
        overlap = {s.id: len(head & _tokens(s.text)) for s in segs}
        top = max(overlap.values())
        near = [s for s in segs if overlap[s.id] >= 0.8 * top]
        best = min(near, key=lambda s: abs(s.start - oc.start))
        errors.append(abs(best.start - oc.start))
    if not errors:
        return {"sections": 0}
    return {"sections": len(errors), "mean_abs_error_s": round(sum(errors) / len(errors), 2),
            "within_10s": round(sum(e <= 10 for e in errors) / len(errors), 3)}


def grounding(article_prose: str, transcript_text: str) -> dict:
    """Numbers and capitalised names (not sentence-initial) that also occur in the transcript."""
    tx = transcript_text.lower()
    tx_words = set(normalize(transcript_text).split())
    claims: list[tuple[str, bool]] = []
    for n in _NUMBER.findall(article_prose):
        n = n.rstrip(".,")
        digits = n.replace(",", "")
        ok = digits in tx.replace(",", "") or any(
            str(v) == digits and w in tx_words for w, v in _NUM_WORDS.items())
        claims.append((n, ok))
    for sent in re.split(r"(?<=[.!?])\s+", article_prose):
        words = _WORD.findall(sent)
        for w in words[1:]:
            if w[0].isupper() and w.lower() not in {"i", "i'm", "i've", "we", "the"}:
                claims.append((w, w.lower() in tx_words or w.lower() in tx))
    total = len(claims)
    ok = sum(c[1] for c in claims)
    return {"claims": total, "grounded": ok, "share": round(ok / total, 3) if total else None,
            "ungrounded": sorted({c[0] for c in claims if not c[1]})[:20]}


def article_quality(workdir: Path, script: dict | None = None, tol: float = 10.0) -> dict:
    """All quality metrics for one work folder; ``script`` is a sample's ground truth JSON."""
    workdir = Path(workdir)
    transcript = read_model(workdir / "transcript.json", Transcript)
    out: dict = {}
    if script:
        ref = " ".join(s["speech"] for s in script["slides"])
        out["wer"] = round(wer(transcript.text, ref), 4)
    if (workdir / "outline.json").exists():
        outline = read_model(workdir / "outline.json", Outline)
        if script:
            out["chapters"] = boundary_prf([c.start for c in outline.chapters],
                                           [c["start"] for c in script["chapters"]], tol)
        if (workdir / "chapters.json").exists():
            draft = read_model(workdir / "chapters.json", Draft)
            out["timestamps"] = timestamp_accuracy(draft, outline, transcript)
            prose = "\n".join(c.markdown for c in draft.chapters)
            out["grounding"] = grounding(prose, transcript.text)
    if (workdir / "article.md").exists():
        sections = article_sections((workdir / "article.md").read_text("utf-8"))
        out["images"] = images_in_range(sections, transcript.duration or 1e9)
        out["sections"] = len(sections)
    return out


def machine() -> dict:
    """What a figure was measured on: CPU model, cores and the SIMD flags that matter here."""
    import os
    import platform
    from pathlib import Path

    cpu, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not cpu:
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    simd = [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "amx_tile") if f in flags]
    return {"cpu": cpu or platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "simd": simd, "python": platform.python_version()}
