"""What a screen is and its code as written: classification, columns, chrome, voting, ast repair.

Logic tests build OCR lines by hand (a monospace grid: 12 px a character, 32 px a row); the
last tests read rendered hard screens with the real RapidOCR engine and the real stages."""

from __future__ import annotations

import pytest

from v2a.models import ScreenLine
from v2a.ocr import classify, merge
from v2a.ocr import code as codes

CW, ROW = 12.0, 32.0


def box(text: str, col: float, row: int, x0: float = 100.0, y0: float = 100.0) -> ScreenLine:
    x = x0 + col * CW
    y = y0 + row * ROW
    return ScreenLine(text=text, box=[x, y, x + len(text) * CW, y + 24])


def listing(lines: list[str], x0: float = 100.0, y0: float = 100.0) -> list[ScreenLine]:
    """Code lines as OCR returns them: leading spaces gone, each box where its text starts."""
    return [box(ln.strip(), len(ln) - len(ln.lstrip()), i, x0, y0)
            for i, ln in enumerate(lines) if ln.strip()]


def read(lines: list[ScreenLine]) -> tuple[str, list[codes.Cell]]:
    lay, cells = codes.read_frame(lines, 1280, 720)
    return lay.kind, cells


CODE = ["def get_stats(ids):", "    counts = {}", "    for pair in zip(ids, ids[1:]):",
        "        counts[pair] = counts.get(pair, 0) + 1", "    return counts"]


# --- what a screen is ---------------------------------------------------------------------------


def test_two_panels_are_two_columns_and_an_app_not_code():
    left = ["for i in range(1, 101):", "    print(i)", "    if i % 3 == 0:", "        x = i"]
    right = ["[30642, 1634, 318, 257,", " 1332, 13, 198, 50284,", " 3601, 7, 72, 8]"]
    lines = listing(left, x0=40) + [box(t.strip(), 0, i, x0=680) for i, t in enumerate(right)]
    cols = classify.columns(lines, 1280)
    assert [sorted(ln.text for ln in c.lines) for c in cols] == [
        sorted(ln.strip() for ln in left), sorted(t.strip() for t in right)]
    kind, cells = read(lines)
    assert kind == "ui" and cells == []  # stays an image; no block of both panels


def test_code_beside_a_narrow_sidebar_is_code_and_only_the_code_column_is_read():
    tree = [box(n, 0, i, x0=20) for i, n in enumerate(["model.py", "train.py", "data.py"])]
    kind, cells = read(tree + listing(CODE, x0=300))
    assert kind == "code"
    assert [c.lines for c in cells] == [CODE]


def test_prose_slide_image_kinds():
    prose = [box("Tokenization is at the heart of much weirdness in large language", 0, 0),
             box("models, and it is worth understanding it in detail.", 0, 1)]
    assert read(prose)[0] == "prose"
    title = [ScreenLine(text="Byte pair encoding", box=[90, 70, 650, 140])]
    bullets = [box("• Count adjacent pairs", 2, 4), box("• Merge the top pair", 2, 6)]
    assert read(title + bullets)[0] == "slide"
    assert read([])[0] == "image"
    assert read([box("x", 0, 0)])[0] == "image"


def test_a_comment_or_block_head_that_reads_like_a_sentence_stays_in_the_code():
    lines = ["for pair in merges:", "    # keep the pair with the lowest merge index here.",
             "    if pair not in merges:", "        break", "    x = 1"]
    kind, cells = read(listing(lines))
    assert kind == "code" and cells[0].lines == lines


# --- chrome -------------------------------------------------------------------------------------


def test_notebook_run_buttons_counts_and_out_prompt_are_left_out():
    lines = [box("[ ] class BigramLanguageModel(nn.Module):", -4, 0),  # merged into the line
             box("def forward(self, idx):", 4, 1), box("return self.table(idx)", 8, 2),
             box("[7]", -6, 4), box("print(''.join(chars))", 0, 4), box("print(len(chars))", 0, 5),
             box("Out[7]:", -8, 7), box("65", 0, 7)]
    kind, cells = read(lines)
    assert kind == "code"
    assert [c.lines for c in cells] == [
        ["class BigramLanguageModel(nn.Module):", "    def forward(self, idx):",
         "        return self.table(idx)"],
        ["print(''.join(chars))", "print(len(chars))"]]
    assert cells[1].output == ["65"]


def test_in_prompt_on_its_own_row_and_gutter_numbers():
    lines = [box("In [3]:", -8, 0)] + listing(CODE)
    assert read(lines)[1][0].lines == CODE
    gutter = [box(f"{12 + i}", -6, i) for i in range(len(CODE) + 1)]  # a blank line numbered too
    assert read(gutter + listing(CODE))[1][0].lines == CODE
    merged = [box(f"{12 + i} {ln.strip()}", -3 + len(ln) - len(ln.lstrip()), i)
              for i, ln in enumerate(CODE)]
    assert read(merged)[1][0].lines == CODE


def test_repl_and_shell_prompts():
    repl = [box(">>> import tiktoken", 0, 0), box('>>> enc = tiktoken.get_encoding("gpt2")', 0, 1),
            box('>>> enc.encode("hi")', 0, 2), box("[5303]", 0, 3),
            box(">>> for t in [1, 2]:", 0, 4), box("... print(t)", 0, 5, x0=100)]
    repl[-1].box[2] += 4 * CW  # "...     print(t)": OCR keeps one of the five spaces
    kind, cells = read(repl)
    assert kind == "code" and len(cells) == 1
    assert cells[0].lines == ["import tiktoken", 'enc = tiktoken.get_encoding("gpt2")',
                              'enc.encode("hi")', "for t in [1, 2]:", "    print(t)"]
    assert cells[0].output == ["[5303]"]
    shell = [box("$ pip install tiktoken regex", 0, 0), box("Successfully installed", 0, 1),
             box("$ python train.py --steps 5", 0, 2), box("step 0: loss 4.2", 0, 3)]
    cells = read(shell)[1]
    assert [c.lines for c in cells] == [["pip install tiktoken regex"],
                                        ["python train.py --steps 5"]]


def test_a_terminal_is_code_whatever_its_output_looks_like():
    term = [box("$ git log --oneline -3", 0, 0), box("4f2a9c1 add byte-level merges", 0, 1),
            box("9e01b7d train on the wiki text", 0, 2), box("c3d5e88 first tokenizer", 0, 3)]
    kind, cells = read(term)
    assert kind == "code" and [c.lines for c in cells] == [["git log --oneline -3"]]
    assert cells[0].output == ["4f2a9c1 add byte-level merges", "9e01b7d train on the wiki text",
                               "c3d5e88 first tokenizer"]


def test_an_editors_breadcrumbs_are_not_its_first_line():
    rows = ["import numpy as np", "", "", "def softmax(x):", "    return np.exp(x)"]
    lines = [box("src > model > nn.py > softmax", -4, -1)]
    lines += [box(f"{i + 1}", -5, i) for i in range(len(rows))] + listing(rows)
    kind, cells = read(lines)
    assert kind == "code" and cells[0].lines == rows  # two blank lines kept, as numbered
    lines.pop(1)  # the OCR missed the first line's number: on the code's edge it stays code
    assert read(lines)[1][0].lines == rows


def test_jupyterlab_marks_an_output_with_its_cells_count():
    lines = [box("[1]:", -6, 0), box("x = torch.randn(4, 8)", 0, 0), box("x.shape", 0, 1),
             box("[1]:", -6, 3), box("torch.Size([4, 8])", 0, 3),
             box("[2]:", -6, 5), box("y = x @ x.T", 0, 5), box("y.sum()", 0, 6)]
    cells = read(lines)[1]
    assert [(c.lines, c.output) for c in cells] == [
        (["x = torch.randn(4, 8)", "x.shape"], ["torch.Size([4, 8])"]),
        (["y = x @ x.T", "y.sum()"], [])]


def test_inline_spaces_the_box_width_proves():
    lines = [box("break # nothing left", 4, 0), box("#[15339,1917]", 0, 1), box("x = (1,2)", 0, 2)]
    lines[0].box[2] += CW  # the box holds one character more than the text
    lines[1].box[2] += 2 * CW
    lines += listing(CODE, y0=100 + 3 * ROW)  # most rows measure the font's width
    lines.insert(0, box("while True:", 0, -1))
    got = read(lines)[1][0].lines
    assert got[1:4] == ["    break  # nothing left", "# [15339, 1917]", "x = (1,2)"]


# --- voting -------------------------------------------------------------------------------------


def seen(lines: list[str], t: int) -> merge.Seen:
    return merge.Seen(scene=t, time=float(t), end=t + 1.0, cell=codes.Cell(lines=lines))


def test_one_bad_frame_does_not_win_the_vote():
    good = ["import torch", "vocab_size = len(chars)", "print(vocab_size)"]
    bad = ["import torch", "vocab_size = Ien(chars)", "print(vocab_slze)"]
    block = merge.merge_group([seen(good, 0), seen(good, 1), seen(bad, 2)])
    assert block.lines == good and block.frames == 3 and block.scenes == [0, 1, 2]


def test_an_edit_is_kept_and_a_growing_cell_is_shown_once_in_its_final_form():
    v1 = ["def encode(text):", "    tokens = list(text)", "    return tokens"]
    v2 = ["def encode(text):", "    tokens = list(text.encode('utf-8'))",
          "    tokens = merge(tokens)", "    return tokens"]
    blocks = merge.merge([seen(v1[:2], 0), seen(v1, 1), seen(v1, 2), seen(v2, 3),
                          seen(["x = 1", "y = 2"], 4)])
    assert [b.lines for b in blocks] == [v2, ["x = 1", "y = 2"]]


def test_alignment_follows_inserted_lines():
    base = ["a = 1", "b = compute(a)", "c = b + 1", "print(c)"]
    other = ["a = 1", "c = b + 1", "print(c)"]
    assert merge.align(base, other) == {0: "a = 1", 2: "c = b + 1", 3: "print(c)"}


# --- ast ----------------------------------------------------------------------------------------


def test_a_lost_quote_is_put_back_only_where_the_parse_proves_it():
    lines, fixes = codes.repair(["chars = sorted(set(text))", "print('.join(chars))",
                                 "print(len(chars))"])
    assert lines[1] == "print(''.join(chars))" and fixes == [
        "print('.join(chars)) → print(''.join(chars))"]
    same = ["x = l", "print(x)"]  # parses as read: nothing to prove, nothing changed
    assert codes.repair(same) == (same, [])
    typing = ["x = 1", "y = foo(x"]  # the last line may be being typed
    assert codes.repair(typing) == (typing, [])


def test_a_docstring_whose_quote_lines_ocr_dropped_gets_them_back():
    # a code host's gutter numbers the quote lines, so their slots are there, blank
    read = ["def get_stats(ids):", "", "    Given a list of integers, count the pairs", "",
            "    counts = {}", "    return counts"]
    lines, fixes = codes.repair(read)
    assert lines == ["def get_stats(ids):", '    """', "    Given a list of integers, count the pairs",
                     '    """', "    counts = {}", "    return counts"]
    assert fixes == ['docstring without its quotes → """ put back']
    # no slots: the quote lines are added
    assert codes.repair(["class A:", "    A small class of things.", "    x = 1"])[0] == [
        "class A:", '    """', "    A small class of things.", '    """', "    x = 1"]
    # code that parses, and prose that is not under a def, are left alone
    ok = ["def f(x):", "    return x"]
    assert codes.repair(ok) == (ok, [])
    stray = ["x = 1", "Given a list of integers", "y = 2"]
    assert codes.repair(stray) == (stray, [])


def test_the_parse_chooses_between_frames_readings():
    good = ["for i in range(3):", "    print(i)", "x = [1, 2]"]
    bad = ["for i in range(3);", "    print(i)", "x = [1, 2]"]
    block = merge.merge_group([seen(good, 0), seen(bad, 1), seen(bad, 2)])
    # the majority reading does not parse; the other frame's reading does
    assert block.lines == good and block.repairs == ["for i in range(3); → for i in range(3):"]


def test_notebook_magics_do_not_stop_the_parse():
    assert codes.parse_error(["!pip install tiktoken", "%time x = 1", "import tiktoken"]) is None
    assert codes.parse_error(["x = (", "y = 2"]) == 1


# --- real OCR on rendered hard screens ----------------------------------------------------------


@pytest.fixture(scope="module")
def ocr():
    from v2a.config import Config
    from v2a.ocr.rapid import RapidOcr

    return RapidOcr(Config())


def _ocr(ocr, tmp_path, draw) -> list[ScreenLine]:
    from v2a.ocr import terms

    p = tmp_path / "frame.png"
    draw(p)
    return [ln.model_copy(update={"text": terms.normalize(ln.text)}) for ln in ocr.read(p)]


def test_real_web_app_screenshot_is_an_image_and_colab_chrome_is_gone(ocr, tmp_path):
    from bench import hard_screens as hs

    kind, cells = read(_ocr(ocr, tmp_path, hs.draw_webapp))
    assert kind == "ui" and cells == []
    kind, cells = read(_ocr(ocr, tmp_path, hs.draw_colab))
    assert kind == "code"
    assert [c.lines for c in cells] == [hs.COLAB_1, hs.COLAB_2]


def test_real_stage_votes_an_edited_cell_and_render_shows_an_app_as_an_image(ocr, tmp_path):
    """Keyframes → screen stage → render: the edited cell once, final; the app as an image with
    its text as alt text; the prose page being read left out."""
    from bench import hard_screens as hs
    from tests.fixtures.render import context, synthetic_workdir
    from v2a.models import Scenes, Screen, Segment, Transcript
    from v2a.pipeline import run_stage
    from v2a.workspace import read_model, write_json

    ws = synthetic_workdir(tmp_path / "w")
    scenes = read_model(ws.path("scenes.json"), Scenes)
    draws = [hs.draw_edit(1), hs.draw_edit(2), hs.draw_edit(3), hs.draw_webapp, hs.draw_prose]
    for sc, draw in zip(scenes.scenes[:5], draws):
        draw(ws.path(sc.keyframe))
        sc.duplicate_of = None
    write_json(ws.path("scenes.json"), scenes)
    tr = read_model(ws.path("transcript.json"), Transcript)
    tr.segments.append(Segment(id=18, start=90.0, end=94.0, text=" ".join(hs.PROSE)))
    write_json(ws.path("transcript.json"), tr)
    ctx = context(ws)
    run_stage(ctx, "screen")
    screen = read_model(ws.path("screen.json"), Screen)
    assert [f.kind for f in screen.frames[:5]] == ["code", "code", "code", "ui", "prose"]
    assert len(screen.code) == 1 and screen.code[0].lines == hs.EDIT_V2
    assert screen.code[0].frames == 3
    run_stage(ctx, "render")
    md = ws.path("article.md").read_text("utf-8")
    assert "\n".join(hs.EDIT_V2) in md and "1e9" not in md
    assert "Tiktokenizer" in md and "30642" in md  # the app's text, as alt text only
    assert "```python\nfor i in range" not in md
    prose_frame = scenes.scenes[4].keyframe
    assert prose_frame not in md  # the page being read adds nothing as a picture
