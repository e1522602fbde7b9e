"""Long benchmark talks whose words nobody in this project wrote: the Python Language Reference.

The 60-minute benchmark used to repeat a 16-slide deck until it was long enough, so a chapter
said the same four sentences six times and more: a faithful rewrite of it is a loop, and the
write stage rightly refused it. Real talks do not repeat themselves. CPython ships the prose of
its Language Reference (``pydoc_data.topics``: 79 topics, ~65k words of human-written technical
English with its code examples), which is enough for an hour of speech that never repeats.

The talk is built with ``v2a.samples_talk.make_talk``, so it has that generator's realism: a
section (one reference topic) follows the previous one after an ordinary short gap, with no
pause, title band or screen change at the join; the speaker pauses anywhere else; screens are
the reference's own code examples (notebook cells and an editor) shown at the sentence that
introduces them, and a few prose slides at random sentences. Section lengths vary.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

WORDS_PER_MINUTE = 150  # espeak's 165 wpm less the gaps and pauses between sentences
SKIP_TOPICS = {"debugger", "operator-summary", "specialnames", "string-methods", "formatstrings",
               "typesseq", "types", "compound", "customization"}  # tables or omnibus topics
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Split a topic into ("prose" | "code", lines) blocks, dropping headings and grammar."""
    out: list[tuple[str, list[str]]] = []
    for raw in re.split(r"\n\s*\n", text):
        lines = raw.rstrip().splitlines()
        if not lines or (len(lines) > 1 and set(lines[1].strip()) <= set("*=-~") and lines[1].strip()):
            continue  # a heading (its underline) — sections never show their title anywhere
        if any("::=" in ln for ln in lines) or lines[0].strip() in ("Note:", "See also:"):
            continue
        indented = all(ln.startswith("   ") or not ln.strip() for ln in lines)
        body = " ".join(ln.strip() for ln in lines)
        words = body.split()
        alpha = sum(w.strip('.,;:()"*’“”').isalpha() for w in words) / max(1, len(words))
        if indented and (">>>" in body or alpha < 0.7 or not body.endswith((".", ":"))):
            code = [ln[3:] if ln.startswith("   ") else ln for ln in lines]
            out.append(("code", code))
        else:
            out.append(("prose", [body]))
    return out


def _spoken(sentence: str) -> str | None:
    """The sentence as a speaker would say it, or None for one nobody would read aloud."""
    s = re.sub(r"^\d+\.\s+", "", sentence)  # list numbering
    s = s.replace('"', "").replace("*", "").replace("“", "").replace("”", "").replace("’", "'")
    s = re.sub(r"\s+", " ", s).strip()
    words = s.split()
    if not 4 <= len(words) <= 40 or s.startswith(("Changed in version", "Added in version",
                                                  "New in version", "Deprecated", "For example:",
                                                  "See section", "PEP ", "_")):
        return None
    symbolic = sum(not re.fullmatch(r"[A-Za-z'\-]+[.,;:]?", w) for w in words) / len(words)
    return s if symbolic <= 0.25 else None


def _topic(name: str, text: str) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """A topic's title, its spoken sentences and its code examples (after which sentence)."""
    title = re.sub(r'["*]', "", text.splitlines()[0]).strip()
    sentences: list[str] = []
    code: list[tuple[int, list[str]]] = []
    for kind, lines in _blocks(text):
        if kind == "code":
            shown = [ln.rstrip() for ln in lines if ln.strip()][:14]
            if sentences and shown and max(len(ln) for ln in shown) <= 60:
                code.append((len(sentences) - 1, shown))
            continue
        for sent in _SENT.split(lines[0]):
            spoken = _spoken(sent)
            if spoken:
                sentences.append(spoken)
    return title, sentences, code


def _unsaid(topic: tuple[str, list[str], list[tuple[int, list[str]]]], said: set[str]
            ) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """A topic from its first sentence that no earlier talk says on (a held-out talk's text)."""
    title, sentences, code = topic
    first = next((k for k, x in enumerate(sentences) if x not in said), len(sentences))
    return title, sentences[first:], [(a - first, c) for a, c in code if a >= first]


def talk_data(minutes: float, seed: int = 11, not_in: set[str] | None = None) -> dict:
    """A script in the form of ``v2a/data/sample_talk.json`` lasting about ``minutes``;
    ``not_in``: sentences other talks say, left out (each topic starts after them)."""
    from pydoc_data.topics import topics

    rng = random.Random(seed)
    pool = []
    for name in sorted(topics):
        if name in SKIP_TOPICS:
            continue
        title, sentences, code = _unsaid(_topic(name, topics[name]), not_in or set())
        if len(sentences) >= 6:
            pool.append((title, sentences, code))
    rng.shuffle(pool)
    budget = minutes * WORDS_PER_MINUTE
    sections: list[dict] = []
    used, cell = 0, 0
    said: set[str] = set()
    for title, sentences, code in pool:
        if budget - used < 60:  # no chapter of a few seconds at the end
            break
        if sum(x in said for x in sentences) > 2:  # a topic the reference also nests in another
            continue
        # chapters of one to five minutes, as long as the topic has words for
        want = min(rng.uniform(150, 750), budget - used)
        if sum(len(x.split()) for x in sentences) < min(want, 150):
            continue
        taken: list[str] = []
        for s in sentences:
            if taken and sum(len(x.split()) for x in taken) >= want:
                break
            taken.append(s)
        used += sum(len(x.split()) for x in taken)
        said.update(taken)
        i = len(sections)
        screens: list[dict] = []
        shown_at: set[int] = set()
        for after, lines in code:
            if after >= len(taken) or len(shown_at) == 4:
                break
            if after in shown_at:  # one screen per sentence: a reader cannot take in more
                continue
            shown_at.add(after)
            cell += 1
            if any(ln.startswith(">>>") for ln in lines):  # a session: a notebook cell
                screens.append({"at": after, "kind": "notebook", "cell": cell,
                                "code": [ln[4:] for ln in lines if ln.startswith((">>> ", "... "))],
                                "output": [ln for ln in lines if not ln.startswith((">>>", "..."))]})
            elif rng.random() < 0.5:
                screens.append({"at": after, "kind": "notebook", "cell": cell, "code": lines,
                                "output": []})
            else:
                screens.append({"at": after, "kind": "editor", "file": "reference.py",
                                "first_line": 1 + 7 * cell, "code": lines})
        # a prose slide somewhere in the section, never its title
        if i == 0 or (len(taken) > 1 and rng.random() < 0.4):
            at = 0 if i == 0 else rng.randrange(1, len(taken))
            words = taken[at].split()
            lines = [" ".join(words[k:k + 7]) for k in range(0, min(len(words), 21), 7)]
            screens.append({"at": at, "kind": "slide", "lines": lines})
        screens.sort(key=lambda s: s["at"])
        sections.append({"title": title, "sentences": taken, "screens": screens})
    return {"title": "A tour of the Python language reference", "terms": [], "sections": sections}


def make_long_talk(path: Path, minutes: float, seed: int = 11, not_in: set[str] | None = None
                   ) -> Path:
    """Write the talk video and, beside it, a ``.script.json`` in the benchmarks' lecture form."""
    from v2a.samples_talk import make_talk

    talk = make_talk(path, data=talk_data(minutes, seed, not_in), seed=seed)
    script = {
        "video": str(path), "title": talk.title, "duration": talk.duration,
        "chapters": [{"title": s.title, "start": s.start} for s in talk.sections],
        "slides": [{"index": k, "chapter": ci, "title": sec.title, "start": x.start, "end": x.end,
                    "speech": x.text}
                   for k, (ci, sec, x) in enumerate((ci, sec, x) for ci, sec in enumerate(talk.sections)
                                                    for x in sec.sentences)],
    }
    Path(path).with_suffix(".script.json").write_text(json.dumps(script, indent=1))
    return Path(path)


def main() -> None:
    """``python -m bench.long_talk OUT.mp4 --minutes M --seed S --not-in A.script.json …``: a
    talk that says none of the sentences of the given talks (a held-out talk)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--minutes", type=float, default=32)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--not-in", nargs="*", type=Path, default=[])
    args = ap.parse_args()
    said = {x["speech"] for p in args.not_in for x in json.loads(p.read_text())["slides"]}
    make_long_talk(args.out, args.minutes, args.seed, said)


if __name__ == "__main__":
    main()
