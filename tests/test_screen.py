"""What is on screen reaches the article: real OCR (RapidOCR) of rendered notebook, editor and
slide frames; code copied with its indentation; terms that respell the transcript."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fixtures.render import context, synthetic_workdir
from v2a.config import Config
from v2a.models import GlossaryTerm, Scenes, Screen, Word
from v2a.ocr import code as codes
from v2a.ocr import layout, terms
from v2a.ocr.rapid import RapidOcr
from v2a.pipeline import run_stage
from v2a.samples import render_slide
from v2a.samples_talk import render_screen
from v2a.workspace import read_model, write_json

DATA = json.loads((Path(__file__).resolve().parent.parent / "v2a" / "data" /
                   "sample_talk.json").read_text())
SCREENS = [sc for sec in DATA["sections"] for sc in sec["screens"]]
NOTEBOOK = next(sc for sc in SCREENS if sc["kind"] == "notebook" and len(sc["code"]) > 8)
EDITOR = next(sc for sc in SCREENS if sc["kind"] == "editor")
PROSE = next(sc for sc in SCREENS if sc["kind"] == "slide")


@pytest.fixture(scope="module")
def ocr():
    return RapidOcr(Config())


def _read(ocr, tmp_path: Path, screen: dict) -> list:
    p = tmp_path / f"{screen['kind']}.png"
    render_screen(p, screen)
    return ocr.read(p)


def _code(lines: list) -> list[str] | None:
    return codes.as_lines(codes.read_frame(lines, 1280, 720)[1])


def test_notebook_code_is_copied_with_its_indentation(ocr, tmp_path):
    code = _code(_read(ocr, tmp_path, NOTEBOOK))
    assert code is not None and layout.language(code) == "python"
    # every line of the cell, indentation included; blank lines where the cell has them
    assert code[: len(NOTEBOOK["code"])] == NOTEBOOK["code"]
    assert code[-1] == NOTEBOOK["output"][-1]


def test_editor_gutter_numbers_are_left_out(ocr, tmp_path):
    code = _code(_read(ocr, tmp_path, EDITOR))
    assert code == EDITOR["code"]


def test_a_prose_slide_is_not_code_and_a_title_band_is_a_title(ocr, tmp_path):
    assert _code(_read(ocr, tmp_path, PROSE)) is None
    slide = tmp_path / "titled.png"
    render_slide(slide, "Byte pair encoding", ["Count adjacent pairs", "Merge the top pair"],
                 3, "Deck")
    lines = ocr.read(slide)
    assert layout.title(lines, 720) == "Byte pair encoding"
    assert _code(lines) is None


def test_terms_on_screen_and_respelling_the_transcript():
    found = terms.extract(["import tiktoken", 'enc = tiktoken.get_encoding("cl100k_base")',
                           "We will build one with byte pair encoding (BPE).",
                           "def get_stats(ids):", "vocab_size = 276"])
    for t in ("tiktoken", "cl100k_base", "BPE", "byte pair encoding", "get_stats", "vocab_size"):
        assert t in found
    assert "def" not in found and "ids" not in found  # keywords and short names are not terms
    heard = "If you used the tick token library you met cl 100k base and the merges. Byte pair"
    words = [Word(start=i, end=i + .4, text=w) for i, w in enumerate(heard.split())]
    fixed, fixes = terms.fix_words(words, found + ["num_merges"])
    text = " ".join(w.text for w in fixed)
    assert "the tiktoken library" in text and "met cl100k_base" in text
    assert "the merges." in text  # a plain word is not pulled towards a term
    assert text.endswith("Byte pair")  # case alone is not a misspelling
    assert ("tick token", "tiktoken") in fixes
    # an editor's correction is applied as given
    words = [Word(start=i, end=i + .4, text=w) for i, w in enumerate("so Parent Coding works.".split())]
    fixed, _ = terms.replace_variants(words, [GlossaryTerm(term="Byte Pair Encoding",
                                                           variants=["parent coding"])])
    assert " ".join(w.text for w in fixed) == "so Byte Pair Encoding works."


def test_terms_come_in_the_same_order_in_every_process():
    """Ties in frequency must not follow a set's per-process order: the terms reach the
    prompts, so another order would miss the LLM cache on the same talk."""
    import subprocess
    import sys

    code = ("from v2a.ocr.terms import extract; print(extract(['tiktoken get_encoding "
            "cl100k_base vocab_size num_merges merges.items stats.most_common github.com']))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}, check=True).stdout
            for seed in (1, 2, 3, 4)}
    assert len(outs) == 1 and "get_encoding" in outs.pop()


def test_screen_stage_puts_the_shown_code_into_the_article(tmp_path):
    """The real stage runner: keyframes → screen.json → article.md with the exact code."""
    ws = synthetic_workdir(tmp_path / "w")
    scenes = read_model(ws.path("scenes.json"), Scenes)
    # two frames of the same cell (growing as typed) and one editor frame
    partial = dict(NOTEBOOK, code=NOTEBOOK["code"][:4], output=[])
    for sc, screen in zip(scenes.scenes[1:4], (partial, NOTEBOOK, EDITOR)):
        render_screen(ws.path(sc.keyframe), screen)
        sc.duplicate_of = None
    write_json(ws.path("scenes.json"), scenes)
    ctx = context(ws)
    run_stage(ctx, "screen")
    screen = read_model(ws.path("screen.json"), Screen)
    assert screen.engine == "rapidocr"
    assert len(screen.code) == 2  # the growing cell once, in its final form; the editor
    assert screen.code[0].lines[: len(NOTEBOOK["code"])] == NOTEBOOK["code"]
    assert screen.code[1].lines == EDITOR["code"]
    assert "get_stats" in screen.terms
    run_stage(ctx, "render")
    md = ws.path("article.md").read_text("utf-8")
    assert "```python\n" + "\n".join(EDITOR["code"]) + "\n```" in md
    assert "\n".join(NOTEBOOK["code"]) in md
    html = ws.path("article.html").read_text("utf-8")
    assert 'class="language-python"' in html and "if i &lt; len(ids) - 1" in html
