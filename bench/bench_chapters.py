"""Chapters and prose on a talk that does not give its structure away, with the embedded model
and with an OpenAI-compatible endpoint serving the same model; articles in Chinese and Japanese.

    .venv/bin/python -m bench.bench_chapters [--runs embedded-video embedded-audio ...]

The input is ``v2a.samples_talk`` (a generated ~4-minute talk): topics change mid-flow — no
pause, no title band, no screen change at a section start — and the speaker pauses elsewhere;
screens are notebooks, an editor, a browser page and prose slides. Measured from what a reader
gets (outline.json, chapters.json, article.md), with checks written here, not v2a's own:

* chapter F1 at ±5 s against the known section starts;
* share of chapters named by the model (not from their own words), distinct titles, titles
  that only repeat the talk's topic, chapters that start mid-sentence;
* share of chapters whose prose is free of scaffolding (prompt delimiters, talk about the task)
  and of third-person narration ("the speaker explains");
* for --lang zh/ja: the share of the article's letters in the target script (code, URLs,
  Markdown syntax and the transcripts in their <details> left out), overall, for the titles,
  the prose and the page's own words.

Writes bench/results/chapters.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.metrics import boundary_prf, machine, wer
from v2a.models import Draft, Outline, Transcript
from v2a.workspace import read_model

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"
RUNS = ("embedded-video", "embedded-audio", "endpoint-code", "endpoint-model", "zh", "ja")

# independent of v2a.write.scaffolding on purpose: the benchmark must not grade with the
# same rules the code was written against
SCAFFOLD = re.compile(r'"""|\'\'\'|^\s*-{3,}\s*$|\btranscript\b|\brewrit\w*|\btranslat\w*|'
                      r"\bguideline|\bI understand\b|\bas requested\b|\bhere is (?:the|a)\b|"
                      r"^\s*\**note\b|\bin this chapter\b|\bthis chapter\b|\bchapter \d",
                      re.IGNORECASE | re.MULTILINE)
THIRD_PERSON = re.compile(r"\bthe (?:speaker|lecturer|presenter|narrator)\b", re.IGNORECASE)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


def talk_media() -> dict[str, Path]:
    from v2a.samples_talk import make_talk

    out = {}
    for kind, name in (("video", "talk.mp4"), ("audio", "talk-audio.m4a")):
        p = CACHE / name
        if not p.exists() or not p.with_suffix(".talk.json").exists():
            print(f"generating {p}", flush=True)
            make_talk(p, audio_only=kind == "audio")
        out[kind] = p
    return out


def v2a(*args: str, env: dict | None = None) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                       text=True, env=env)
    return p.returncode, round(time.perf_counter() - t0, 1), (p.stdout + p.stderr)[-1500:]


def reset_llm_stages(wd: Path) -> None:
    for name in ("outline.json", "chapters.json", "article.md", "article.html"):
        (wd / name).unlink(missing_ok=True)
    for stage in ("outline", "write", "render"):
        (wd / ".v2a" / "stages" / f"{stage}.json").unlink(missing_ok=True)


def target_share(text: str) -> float | None:
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`|\(https?://[^)]*\)|\([^)]*\.(?:mp4|m4a|jpg|png)[^)]*\)|<[^>]+>", " ",
                  text)
    text = re.sub(r"\d+:\d\d(?::\d\d)?", " ", text)
    cjk, latin = len(CJK.findall(text)), len(LATIN.findall(text))
    return round(cjk / (cjk + latin), 3) if cjk + latin else None


def measure(wd: Path, truth: dict, lang: str | None = None) -> dict:
    outline = read_model(wd / "outline.json", Outline)
    draft = read_model(wd / "chapters.json", Draft)
    transcript = read_model(wd / "transcript.json", Transcript)
    starts = [c.start for c in outline.chapters]
    n = len(outline.chapters)
    own = sum("named from its own words" in x for x in outline.notes)
    named = 0.0 if outline.method == "fallback" else round((n - own) / n, 3) if n else 0.0
    titles = [c.title.strip().lower() for c in outline.chapters]
    topic = set(re.findall(r"[a-z]+", truth["title"].lower()))
    # a title whose (Latin) words are all the talk's topic words; one without any says more
    generic = sum(1 for t in titles if (w := set(re.findall(r"[a-z]+", t))) and w <= topic)
    by_id = {s.id: s for s in transcript.segments}
    mid = sum(1 for c in outline.chapters[1:]
              if (s := by_id.get(c.first_segment)) and s.text[:1].islower())
    proses = [c.markdown for c in draft.chapters if c.status == "ok"]
    clean = sum(1 for p in proses if not SCAFFOLD.search(p))
    third = sum(1 for p in proses if THIRD_PERSON.search(p))
    script = " ".join(s["text"] for sec in truth["sections"] for s in sec["sentences"])
    out = {
        "chapters": n, "method": outline.method, "boundaries": outline.boundaries,
        "chapter_f1_5s": boundary_prf(starts, [s["start"] for s in truth["sections"]], 5.0),
        "named_by_model": named, "distinct_titles": round(len(set(titles)) / n, 3) if n else 0,
        "generic_titles": generic, "mid_sentence_starts": mid,
        "prose_free_of_scaffolding": round(clean / len(proses), 3) if proses else None,
        "third_person_chapters": third, "chapters_written": f"{len(proses)}/{len(draft.chapters)}",
        "wer": round(wer(transcript.text, script), 3),
        "titles": [c.title for c in outline.chapters], "article_title": outline.title,
    }
    if lang:
        md = (wd / "article.md").read_text("utf-8")
        # the transcript under each chapter stays in the talk's language, on purpose
        out["target_script_share"] = target_share(
            re.sub(r"<details.*?</details>", " ", md, flags=re.DOTALL))
        out["target_script_share_titles"] = target_share(
            " ".join([outline.title or ""] + [c.title for c in draft.chapters]))
        out["target_script_share_prose"] = target_share(" ".join(proses))
        page_words = [ln for ln in md.splitlines() if ln.startswith(("**", "## ", "<summary>",
                                                                      "*", "> **"))]
        out["target_script_share_page"] = target_share(" ".join(page_words))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    args = ap.parse_args()
    media = talk_media()
    truth = {k: json.loads(p.with_suffix(".talk.json").read_text()) for k, p in media.items()}
    res: dict = {"command": "python -m bench.bench_chapters --runs " + " ".join(args.runs),
                 "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"),
                 "talk_s": truth["video"]["duration"], "runs": {}}
    prev = RESULTS / "chapters.json"
    if prev.exists():
        res["runs"] = json.loads(prev.read_text()).get("runs", {})
    base = CACHE / "chap-embedded-video"
    for run in args.runs:
        print(f"== {run}", flush=True)
        wd = CACHE / f"chap-{run}"
        kind = "audio" if run == "embedded-audio" else "video"
        extra: list[str] = []
        env = None
        handle = None
        if run in ("embedded-video", "embedded-audio"):
            shutil.rmtree(wd, ignore_errors=True)
        else:  # the same media stages as the embedded video run; only the LLM stages differ
            if not base.exists():
                sys.exit("run embedded-video first")
            shutil.rmtree(wd, ignore_errors=True)
            shutil.copytree(base, wd, ignore=shutil.ignore_patterns("llm"))
            reset_llm_stages(wd)
        if run.startswith("endpoint"):
            from v2a.config import Config
            from v2a.llm.open import open_llm

            handle = open_llm(Config())  # the same model behind llama.cpp's server, as an endpoint
            env = {**os.environ, "BENCH_ENDPOINT_KEY": handle.server.api_key}
            extra = ["--llm-base-url", handle.base_url, "--model", handle.model_name,
                     "--api-key-env", "BENCH_ENDPOINT_KEY", "--chapters", run.split("-")[1]]
        elif run in ("zh", "ja"):
            extra = ["--lang", run]
        try:
            rc, wall, tail = v2a("run", str(media[kind]), "--workdir", str(wd), "-q", *extra,
                                 env=env)
        finally:
            if handle is not None:
                handle.close()
        if rc != 0:
            res["runs"][run] = {"error": tail}
            print(tail, flush=True)
            continue
        r = measure(wd, truth[kind], lang=run if run in ("zh", "ja") else None)
        r["wall_s"] = wall
        r["when"] = time.strftime("%Y-%m-%d %H:%M")  # runs of other invocations are kept
        res["runs"][run] = r
        print(json.dumps({k: v for k, v in r.items() if k != "titles"}, ensure_ascii=False),
              flush=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "chapters.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
