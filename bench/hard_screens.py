"""Hard screens for the screen stage, drawn with Pillow, with their ground truth.

Each screen is one keyframe: what kind of screen it is, and the code lines a reader should get
(verbatim, indentation included). Layouts follow the failures seen on a held-out notebook
lecture: a two-panel web app, notebook chrome (``[ ]``, ``In [3]:``/``Out[3]:``), a cell shown
several times while it is typed and edited, an editor gutter, a prose page, a slide.

Screens without ``held_out`` were looked at while writing the classifier and the code reader.
``held_out`` screens (other layouts: an IDE with a file tree and a terminal, a dark notebook
with line numbers in the cell, a Python REPL, a chat app, a two-column slide) were drawn with
the others but never run until the code was finished: their first numbers are the honest ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

W, H = 1280, 720
FONTS = Path("/usr/share/fonts/truetype/dejavu")


def _font(size: int, mono: bool = False, bold: bool = False):
    from PIL import ImageFont

    name = "DejaVuSansMono" if mono else "DejaVuSans"
    return ImageFont.truetype(str(FONTS / f"{name}{'-Bold' if bold else ''}.ttf"), size)


@dataclass
class Shot:
    """One keyframe and its truth."""

    name: str
    kind: str  # code | slide | prose | ui
    code: list[str] = field(default_factory=list)  # source lines a reader should get
    output: list[str] = field(default_factory=list)  # text shown under a cell (not counted)
    cell: str = ""  # frames with the same cell id show one cell; its last frame is final
    cells: int = 1  # cells on this screen (a notebook page may show several)
    draw: object = None  # (path) -> None
    held_out: bool = False


# --- drawing helpers ----------------------------------------------------------------------------


def _canvas(bg=(255, 255, 255)):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (W, H), bg)
    return img, ImageDraw.Draw(img)


def _code_lines(d, x: int, y: int, lines: list[str], size: int = 22, step: int = 32,
                fill=(30, 30, 30)) -> int:
    f = _font(size, mono=True)
    for i, ln in enumerate(lines):
        d.text((x, y + i * step), ln, font=f, fill=fill)
    return y + len(lines) * step


# --- tune set -----------------------------------------------------------------------------------

WEBAPP_LEFT = ["for i in range(1, 101):", "    if i % 15 == 0:", '        print("FizzBuzz")',
               "    elif i % 3 == 0:", '        print("Fizz")', "    else:", "        print(i)"]
WEBAPP_RIGHT = ["[1640, 1312, 287, 2837, 7, 16, 11,", " 8949, 2599, 198, 50284, 361, 1312,",
                " 4064, 1315, 6624, 657, 25, 198,", " 50280, 3601, 7203, 37, 528, 89,",
                " 30642, 1634, 318, 257, 1332, 13]"]


def draw_webapp(path: Path) -> None:
    """A tokenizer web app: code-ish text typed in the left panel, token ids on the right."""
    img, d = _canvas((248, 249, 251))
    d.rectangle([0, 0, W, 60], fill=(255, 255, 255), outline=(220, 220, 220))
    d.text((24, 16), "Tiktokenizer", font=_font(24, bold=True), fill=(20, 20, 20))
    d.rounded_rectangle([1000, 12, 1250, 48], radius=8, outline=(200, 200, 200), fill=(255,) * 3)
    d.text((1014, 18), "gpt2", font=_font(20), fill=(40, 40, 40))
    # left panel: the input text area
    d.rounded_rectangle([24, 84, 620, 690], radius=10, fill=(255,) * 3, outline=(210, 210, 210))
    d.text((44, 100), "Input", font=_font(18, bold=True), fill=(90, 90, 90))
    _code_lines(d, 44, 140, WEBAPP_LEFT, size=20, step=34)
    # right panel: token count, coloured tokens, ids
    d.rounded_rectangle([660, 84, 1256, 690], radius=10, fill=(255,) * 3, outline=(210, 210, 210))
    d.text((680, 100), "Token count", font=_font(18, bold=True), fill=(90, 90, 90))
    d.text((680, 128), "45", font=_font(28, bold=True), fill=(20, 20, 20))
    colors = [(255, 213, 153), (187, 230, 190), (173, 216, 250), (250, 190, 210)]
    x, y = 680, 190
    for k, tok in enumerate(["for", " i", " in", " range", "(", "1", ",", " 101", "):"]):
        f = _font(20, mono=True)
        wdt = int(d.textlength(tok, font=f)) + 4
        d.rectangle([x, y, x + wdt, y + 30], fill=colors[k % 4])
        d.text((x + 2, y + 3), tok, font=f, fill=(20, 20, 20))
        x += wdt + 2
    _code_lines(d, 680, 260, WEBAPP_RIGHT, size=20, step=34)
    img.save(path)


COLAB_1 = ["import torch", "import torch.nn as nn", "", "chars = sorted(list(set(text)))",
           "vocab_size = len(chars)", "print(''.join(chars))", "print(vocab_size)"]
COLAB_2 = ["class BigramLanguageModel(nn.Module):", "",
           "    def __init__(self, vocab_size):", "        super().__init__()",
           "        self.table = nn.Embedding(vocab_size, vocab_size)", "",
           "    def forward(self, idx):", "        return self.table(idx)"]


def draw_colab(path: Path) -> None:
    """Colab: a run button ``[ ]`` left of each cell, a text cell between two code cells."""
    img, d = _canvas()
    d.rectangle([0, 0, W, 52], fill=(241, 243, 244))
    d.text((60, 14), "gpt_dev.ipynb", font=_font(20), fill=(60, 60, 60))
    d.text((1100, 14), "Connect", font=_font(18), fill=(26, 115, 232))
    y = 80
    for cell in (COLAB_1, COLAB_2):
        d.text((28, y + 4), "[ ]", font=_font(20, mono=True), fill=(120, 120, 120))
        h = len(cell) * 30 + 18
        d.rectangle([80, y - 6, W - 30, y + h - 6], fill=(247, 248, 249))
        _code_lines(d, 96, y + 2, cell, size=19, step=30)
        y += h + 36
    img.save(path)


NB_IN = ["def get_stats(ids):", "    counts = {}", "    for pair in zip(ids, ids[1:]):",
         "        counts[pair] = counts.get(pair, 0) + 1", "    return counts", "",
         "stats = get_stats(tokens)", "print(sorted(stats.items())[:3])"]
NB_OUT = ["[((0, 1), 2), ((1, 2), 1), ((2, 3), 4)]"]


def draw_jupyter(path: Path) -> None:
    """Jupyter: ``In [3]:`` left of the cell, ``Out[3]:`` left of its output."""
    img, d = _canvas()
    d.rectangle([0, 0, W, 50], fill=(238, 238, 238))
    d.text((20, 12), "File  Edit  View  Insert  Cell  Kernel  Help", font=_font(18),
           fill=(50, 50, 50))
    mono = _font(21, mono=True)
    y = 100
    d.text((20, y), "In [3]:", font=mono, fill=(48, 63, 159))
    d.rectangle([130, y - 10, W - 30, y + len(NB_IN) * 33 + 6], fill=(247, 247, 247),
                outline=(220, 220, 220))
    _code_lines(d, 142, y, NB_IN, size=21, step=33)
    y += len(NB_IN) * 33 + 40
    d.text((20, y), "Out[3]:", font=mono, fill=(216, 67, 21))
    _code_lines(d, 142, y, NB_OUT, size=21, step=33, fill=(60, 60, 60))
    img.save(path)


EDIT_V1 = ["def encode(text):", "    tokens = list(text.encode('utf-8'))",
           "    while len(tokens) >= 2:", "        stats = get_stats(tokens)",
           "        pair = min(stats, key=lambda p: merges.get(p, 1e9))",
           "        if pair not in merges:", "            break",
           "        tokens = merge(tokens, pair, merges[pair])", "    return tokens"]
EDIT_V2 = ["def encode(text):", "    tokens = list(text.encode('utf-8'))",
           "    while len(tokens) >= 2:", "        stats = get_stats(tokens)",
           "        pair = min(stats, key=lambda p: merges.get(p, float('inf')))",
           "        if pair not in merges:", "            break  # nothing left to merge",
           "        idx = merges[pair]", "        tokens = merge(tokens, pair, idx)",
           "    return tokens"]


def _draw_cell(path: Path, lines: list[str], count: str, cursor: int | None = None) -> None:
    img, d = _canvas()
    d.rectangle([0, 0, W, 50], fill=(243, 243, 243))
    d.text((24, 12), "tokenizer.ipynb", font=_font(20), fill=(60, 60, 60))
    y = 110
    d.text((24, y), f"[{count}]", font=_font(21, mono=True), fill=(120, 120, 120))
    d.rectangle([100, y - 10, W - 30, y + len(lines) * 34 + 8], fill=(247, 247, 247))
    _code_lines(d, 114, y, lines, size=21, step=34)
    if cursor is not None:  # a text cursor after the last typed character
        f = _font(21, mono=True)
        x = 114 + int(d.textlength(lines[cursor], font=f)) + 2
        d.line([x, y + cursor * 34, x, y + cursor * 34 + 26], fill=(0, 0, 0), width=2)
    img.save(path)


def draw_edit(step: int):
    def draw(path: Path) -> None:
        if step == 0:
            _draw_cell(path, EDIT_V1[:5], " ", cursor=4)
        elif step == 1:
            _draw_cell(path, EDIT_V1, "7")
        elif step == 2:
            _draw_cell(path, EDIT_V1, "7", cursor=2)  # the same cell, a cursor moved
        else:
            _draw_cell(path, EDIT_V2, "8")
    return draw


EDITOR = ["import regex as re", "", "GPT4_SPLIT = r\"\"\"'(?i:[sdmt]|ll|ve|re)|\\p{L}+\"\"\"", "",
          "class Tokenizer:", "    def __init__(self):", "        self.merges = {}",
          "        self.pattern = GPT4_SPLIT", "        self.vocab = self._build_vocab()", "",
          "    def _build_vocab(self):", "        vocab = {idx: bytes([idx]) for idx in range(256)}",
          "        for (p0, p1), idx in self.merges.items():",
          "            vocab[idx] = vocab[p0] + vocab[p1]", "        return vocab"]


def draw_editor(path: Path) -> None:
    """An editor: dark theme, line numbers in a gutter, a tab bar."""
    img, d = _canvas((30, 30, 30))
    d.rectangle([0, 0, W, 44], fill=(45, 45, 45))
    d.text((20, 10), "base.py", font=_font(20), fill=(220, 220, 220))
    d.text((140, 10), "regex.py", font=_font(20), fill=(150, 150, 150))
    mono = _font(21, mono=True)
    for i, ln in enumerate(EDITOR):
        y = 64 + i * 32
        d.text((16, y), f"{i + 12:>3}", font=mono, fill=(110, 118, 129))
        d.text((90, y), ln, font=mono, fill=(212, 212, 212))
    img.save(path)


PROSE = ["Tokenization is at the heart of much weirdness in large language models,",
         "and it is worth understanding it in detail before we build one."]


def draw_prose(path: Path) -> None:
    """A notebook text cell: only the sentence the speaker is reading."""
    img, d = _canvas()
    d.rectangle([0, 0, W, 52], fill=(241, 243, 244))
    d.text((60, 14), "gpt_dev.ipynb", font=_font(20), fill=(60, 60, 60))
    f = _font(26)
    for i, ln in enumerate(PROSE):
        d.text((90, 160 + i * 42), ln, font=f, fill=(30, 30, 30))
    img.save(path)


def draw_slide(path: Path) -> None:
    img, d = _canvas((250, 250, 247))
    d.text((90, 70), "Byte pair encoding", font=_font(52, bold=True), fill=(20, 20, 20))
    for i, ln in enumerate(["Start from the bytes of UTF-8 text", "Count adjacent pairs",
                            "Merge the most common pair", "Repeat until the vocabulary is full"]):
        d.text((120, 200 + i * 70), "• " + ln, font=_font(34), fill=(40, 40, 40))
    img.save(path)


# --- held out (drawn after the classifier and the code reader were written) ---------------------

IDE_CODE = ["from model import GPT", "", "def train(config):", "    model = GPT(config)",
            "    for step in range(config.max_iters):", "        xb, yb = get_batch('train')",
            "        logits, loss = model(xb, yb)", "        loss.backward()",
            "    return model"]
IDE_TERM = ["$ python train.py --max_iters 500", "step 0: loss 4.2871", "step 100: loss 2.5104"]


def draw_ide(path: Path) -> None:
    """An IDE: a file tree on the left, the editor with a gutter, a terminal under it."""
    img, d = _canvas((37, 37, 38))
    d.rectangle([0, 0, 250, H], fill=(30, 30, 30))
    d.text((16, 14), "EXPLORER", font=_font(15, bold=True), fill=(180, 180, 180))
    for i, name in enumerate(["model.py", "train.py", "data.py", "README.md", "input.txt"]):
        d.text((30, 60 + i * 30), name, font=_font(17), fill=(200, 200, 200))
    d.text((270, 10), "train.py", font=_font(18), fill=(230, 230, 230))
    mono = _font(19, mono=True)
    for i, ln in enumerate(IDE_CODE):
        y = 50 + i * 29
        d.text((270, y), f"{i + 1:>2}", font=mono, fill=(120, 120, 120))
        d.text((320, y), ln, font=mono, fill=(220, 220, 220))
    d.line([250, 470, W, 470], fill=(80, 80, 80), width=1)
    d.text((270, 480), "TERMINAL", font=_font(14, bold=True), fill=(180, 180, 180))
    for i, ln in enumerate(IDE_TERM):
        d.text((270, 510 + i * 29), ln, font=mono, fill=(204, 204, 204))
    img.save(path)


DARK_CELL = ["xb, yb = get_batch('train')", "print(xb.shape)", "for b in range(batch_size):",
             "    for t in range(block_size):", "        context = xb[b, :t+1]",
             "        target = yb[b, t]", '        print(f"when input is {context} the target: {target}")']
DARK_OUT = ["torch.Size([4, 8])"]


def draw_dark_notebook(path: Path) -> None:
    """A dark notebook: ``[1]`` count, line numbers inside the cell, output under it."""
    img, d = _canvas((24, 24, 27))
    d.text((24, 14), "gpt_dev.ipynb - Colab", font=_font(18), fill=(200, 200, 200))
    mono = _font(19, mono=True)
    y = 90
    d.text((20, y), "[1]", font=mono, fill=(150, 150, 150))
    d.rectangle([70, y - 10, W - 20, y + len(DARK_CELL) * 30 + 6], fill=(36, 36, 40))
    for i, ln in enumerate(DARK_CELL):
        d.text((82, y + i * 30), f"{i + 1}", font=mono, fill=(100, 100, 110))
        d.text((122, y + i * 30), ln, font=mono, fill=(220, 220, 220))
    y += len(DARK_CELL) * 30 + 30
    for i, ln in enumerate(DARK_OUT):
        d.text((122, y + i * 30), ln, font=mono, fill=(190, 190, 190))
    img.save(path)


REPL = [">>> import tiktoken", '>>> enc = tiktoken.get_encoding("gpt2")',
        '>>> enc.encode("hello world")', "[31373, 995]",
        '>>> enc.decode([31373, 995])', "'hello world'"]
REPL_CODE = ["import tiktoken", 'enc = tiktoken.get_encoding("gpt2")', 'enc.encode("hello world")',
             "enc.decode([31373, 995])"]


def draw_repl(path: Path) -> None:
    img, d = _canvas((12, 12, 12))
    d.rectangle([0, 0, W, 36], fill=(50, 50, 50))
    d.text((540, 8), "python3 — 80x24", font=_font(16), fill=(210, 210, 210))
    _code_lines(d, 20, 60, REPL, size=22, step=34, fill=(230, 230, 230))
    img.save(path)


def draw_chat(path: Path) -> None:
    """A chat web app: a conversation list, messages, an input box."""
    img, d = _canvas((255, 255, 255))
    d.rectangle([0, 0, 280, H], fill=(247, 247, 248))
    d.text((20, 20), "+ New chat", font=_font(18), fill=(40, 40, 40))
    for i, t in enumerate(["Tokenizer questions", "SolidGoldMagikarp", "Python indentation",
                           "Unicode and bytes"]):
        d.text((20, 80 + i * 40), t, font=_font(17), fill=(60, 60, 60))
    d.text((320, 40), "How many tokens is \"hello world\"?", font=_font(20), fill=(20, 20, 20))
    d.rounded_rectangle([310, 100, 1220, 300], radius=12, fill=(244, 244, 244))
    for i, t in enumerate(["With the GPT-2 encoding it is 2 tokens:", "[31373, 995]",
                           "Each space is usually attached to the following word."]):
        d.text((330, 120 + i * 50), t, font=_font(19), fill=(30, 30, 30))
    d.rounded_rectangle([310, 620, 1220, 680], radius=14, outline=(200, 200, 200))
    d.text((330, 638), "Send a message", font=_font(18), fill=(150, 150, 150))
    d.text((1150, 638), "Send", font=_font(18), fill=(26, 115, 232))
    img.save(path)


def draw_two_column_slide(path: Path) -> None:
    img, d = _canvas((250, 250, 247))
    d.text((90, 60), "Characters or bytes?", font=_font(50, bold=True), fill=(20, 20, 20))
    left = ["Characters", "149,813 code points", "a huge vocabulary", "the standard changes"]
    right = ["Bytes", "256 values", "long sequences", "merge them with BPE"]
    for i, (a, b) in enumerate(zip(left, right)):
        f = _font(32, bold=i == 0)
        d.text((110, 190 + i * 70), a, font=f, fill=(40, 40, 40))
        d.text((700, 190 + i * 70), b, font=f, fill=(40, 40, 40))
    img.save(path)


# --- second held-out set (drawn after every fix above; run once, at the end) ----------------------

LIGHT_CODE = ["import numpy as np", "", "", "def softmax(x, axis=-1):",
              "    e = np.exp(x - x.max(axis=axis, keepdims=True))",
              "    return e / e.sum(axis=axis, keepdims=True)", "", "",
              "def cross_entropy(logits, targets):", "    p = softmax(logits)",
              "    n = len(targets)", "    return -np.log(p[np.arange(n), targets]).mean()"]


def draw_light_editor(path: Path) -> None:
    """A light editor: breadcrumbs, a minimap strip on the right, two blank lines between defs."""
    img, d = _canvas((255, 255, 255))
    d.rectangle([0, 0, W, 40], fill=(243, 243, 243))
    d.text((16, 9), "nn.py  ×", font=_font(17), fill=(50, 50, 50))
    d.text((16, 50), "src > model > nn.py > softmax", font=_font(15), fill=(110, 110, 110))
    mono = _font(20, mono=True)
    for i, ln in enumerate(LIGHT_CODE):
        y = 90 + i * 30
        d.text((14, y), f"{i + 1:>2}", font=mono, fill=(160, 160, 160))
        d.text((70, y), ln, font=mono, fill=(30, 30, 30))
    d.rectangle([1180, 50, 1270, 700], fill=(246, 246, 246))
    for i in range(40):  # the minimap: tiny grey strokes, no text
        d.line([1186, 60 + i * 15, 1186 + (i * 37) % 70, 60 + i * 15], fill=(200, 200, 200))
    img.save(path)


DOCS_CODE = ["from transformers import AutoTokenizer", "",
             'tok = AutoTokenizer.from_pretrained("gpt2")', 'ids = tok("Hello there")["input_ids"]',
             "print(ids)"]


def draw_docs(path: Path) -> None:
    """A documentation page: a paragraph, a code sample in a grey box, another paragraph."""
    img, d = _canvas((255, 255, 255))
    d.rectangle([0, 0, W, 56], fill=(250, 250, 250))
    d.text((30, 16), "Docs  /  Tokenizers  /  Quick tour", font=_font(18), fill=(90, 90, 90))
    f = _font(21)
    d.text((60, 90), "A tokenizer turns text into the integers a model reads. Load the one",
           font=f, fill=(30, 30, 30))
    d.text((60, 122), "that matches your checkpoint, then call it on a string:", font=f,
           fill=(30, 30, 30))
    d.rectangle([60, 170, 1000, 170 + len(DOCS_CODE) * 32 + 24], fill=(246, 248, 250))
    _code_lines(d, 80, 182, DOCS_CODE, size=20, step=32)
    y = 190 + len(DOCS_CODE) * 32 + 30
    d.text((60, y), "The result is a dictionary; its input_ids are the token ids of the text.",
           font=f, fill=(30, 30, 30))
    img.save(path)


GIT = ["$ git log --oneline -3", "4f2a9c1 add byte-level merges", "9e01b7d train on the wiki text",
       "c3d5e88 first tokenizer", "$ git diff --stat", " tokenizer.py | 12 ++++++++----"]


def draw_terminal(path: Path) -> None:
    img, d = _canvas((40, 44, 52))
    d.rectangle([0, 0, W, 34], fill=(33, 37, 43))
    d.text((560, 7), "bash — tokenizer", font=_font(15), fill=(200, 200, 200))
    _code_lines(d, 18, 56, GIT, size=20, step=31, fill=(220, 223, 228))
    img.save(path)


def draw_playground(path: Path) -> None:
    """A model playground: the prompt on the left, the completion on the right, settings."""
    img, d = _canvas((255, 255, 255))
    d.text((24, 16), "Playground", font=_font(22, bold=True), fill=(20, 20, 20))
    d.rounded_rectangle([20, 70, 620, 600], radius=8, outline=(220, 220, 220))
    d.rounded_rectangle([650, 70, 1000, 600], radius=8, outline=(220, 220, 220))
    f = _font(18)
    for i, t in enumerate(["Write a haiku about tokens.", "", "Keep it short and keep it",
                           "about how text is split."]):
        d.text((36, 90 + i * 30), t, font=f, fill=(30, 30, 30))
    for i, t in enumerate(["Bytes fall into pairs,", "merges stack like river stones,",
                           "a word becomes two."]):
        d.text((666, 90 + i * 30), t, font=f, fill=(30, 30, 30))
    for i, t in enumerate(["Model", "gpt-4o-mini", "Temperature", "0.7", "Maximum length", "256"]):
        d.text((1030, 90 + i * 34), t, font=_font(16, bold=i % 2 == 0), fill=(60, 60, 60))
    img.save(path)


def draw_webcam_slide(path: Path) -> None:
    """A slide on the left half, the speaker's camera on the right (a face: no text)."""
    img, d = _canvas((250, 250, 247))
    d.text((50, 60), "Why not characters?", font=_font(40, bold=True), fill=(20, 20, 20))
    for i, t in enumerate(["Unicode has ~150k code points", "Most are rare", "Bytes: only 256"]):
        d.text((70, 170 + i * 60), "• " + t, font=_font(28), fill=(40, 40, 40))
    d.rectangle([700, 120, 1240, 600], fill=(70, 90, 110))
    d.ellipse([860, 200, 1080, 440], fill=(224, 190, 160))
    d.rectangle([830, 440, 1110, 600], fill=(40, 50, 70))
    img.save(path)


# --- third held-out set (drawn after the fixes the second one led to; run once, at the end) ------

LAB_1 = ["import torch", "torch.manual_seed(1337)", "B, T, C = 4, 8, 2",
         "x = torch.randn(B, T, C)", "x.shape"]
LAB_1_OUT = ["torch.Size([4, 8, 2])"]
LAB_2 = ["wei = torch.tril(torch.ones(T, T))", "wei = wei / wei.sum(1, keepdim=True)",
         "xbow2 = wei @ x", "torch.allclose(xbow, xbow2)"]
LAB_2_OUT = ["True"]


def draw_lab(path: Path) -> None:
    """JupyterLab, dark: two cells with ``[1]:``/``[2]:`` counts and outputs, a heading cell."""
    img, d = _canvas((17, 17, 17))
    d.rectangle([0, 0, W, 30], fill=(40, 40, 40))
    d.text((10, 6), "File  Edit  View  Run  Kernel  Tabs  Settings  Help", font=_font(14),
           fill=(210, 210, 210))
    mono = _font(18, mono=True)
    y = 60
    d.text((40, y), "The mathematical trick in self-attention", font=_font(26, bold=True),
           fill=(235, 235, 235))
    y += 60
    for count, cell, out in (("[1]:", LAB_1, LAB_1_OUT), ("[2]:", LAB_2, LAB_2_OUT)):
        d.text((30, y), count, font=mono, fill=(150, 150, 150))
        d.rectangle([90, y - 8, W - 20, y + len(cell) * 27 + 4], fill=(33, 33, 33))
        _code_lines(d, 100, y, cell, size=18, step=27, fill=(225, 225, 225))
        y += len(cell) * 27 + 20
        d.text((30, y), count, font=mono, fill=(200, 120, 80))
        _code_lines(d, 100, y, out, size=18, step=27, fill=(200, 200, 200))
        y += len(out) * 27 + 40
    img.save(path)


SLIDE_CODE = ["def merge(ids, pair, idx):", "    newids = []", "    i = 0", "    while i < len(ids):",
              "        if ids[i:i+2] == list(pair):", "            newids.append(idx)",
              "            i += 2", "        else:", "            newids.append(ids[i])",
              "            i += 1", "    return newids"]


def draw_code_slide(path: Path) -> None:
    """A slide: a heading, then a code sample in a box."""
    img, d = _canvas((255, 255, 255))
    d.text((60, 40), "Merging one pair", font=_font(46, bold=True), fill=(25, 25, 60))
    d.rounded_rectangle([60, 130, 900, 130 + len(SLIDE_CODE) * 44 + 30], radius=10,
                        fill=(40, 42, 54))
    _code_lines(d, 84, 146, SLIDE_CODE, size=26, step=44, fill=(248, 248, 242))
    img.save(path)


GH_CODE = ["def get_stats(ids, counts=None):", '    """',
           "    Given a list of integers, return a dictionary of counts of consecutive pairs",
           '    """', "    counts = {} if counts is None else counts",
           "    for pair in zip(ids, ids[1:]):", "        counts[pair] = counts.get(pair, 0) + 1",
           "    return counts"]


def draw_github(path: Path) -> None:
    """A file on a code host: header bar, file path, line numbers, the code."""
    img, d = _canvas((255, 255, 255))
    d.rectangle([0, 0, W, 56], fill=(36, 41, 47))
    d.text((20, 16), "karpathy / minbpe", font=_font(19, bold=True), fill=(255, 255, 255))
    d.text((30, 80), "minbpe / base.py", font=_font(20), fill=(31, 35, 40))
    d.rectangle([30, 120, 1250, 160], fill=(246, 248, 250), outline=(208, 215, 222))
    d.text((44, 130), "Code    Blame    165 lines (140 loc) · 6.1 KB", font=_font(16),
           fill=(80, 80, 80))
    mono = _font(17, mono=True)
    for i, ln in enumerate(GH_CODE):
        y = 180 + i * 26
        d.text((40, y), f"{i + 14:>3}", font=mono, fill=(140, 149, 159))
        d.text((110, y), ln, font=mono, fill=(31, 35, 40))
    img.save(path)


def draw_sheet(path: Path) -> None:
    """A spreadsheet: a grid of numbers with row and column headers."""
    img, d = _canvas((255, 255, 255))
    d.rectangle([0, 0, W, 40], fill=(240, 240, 240))
    d.text((12, 10), "merges.csv", font=_font(16), fill=(40, 40, 40))
    f = _font(16)
    for c, name in enumerate(["pair", "count", "new id", "bytes"]):
        d.text((90 + c * 220, 60), name, font=_font(16, bold=True), fill=(30, 30, 30))
    for r in range(12):
        d.text((20, 96 + r * 34), str(r + 1), font=f, fill=(120, 120, 120))
        for c, v in enumerate([f"({101 + r}, {32 + r})", str(900 - r * 61), str(256 + r),
                               str(2 + r % 3)]):
            d.text((90 + c * 220, 96 + r * 34), v, font=f, fill=(30, 30, 30))
    img.save(path)


def draw_prose_heading(path: Path) -> None:
    """A notebook text cell: a heading and the sentence being read."""
    img, d = _canvas()
    d.text((80, 90), "Tokenization", font=_font(34, bold=True), fill=(20, 20, 20))
    d.text((80, 160), "The vocabulary size of GPT-2 is 50,257 tokens, and each token is an",
           font=_font(24), fill=(30, 30, 30))
    d.text((80, 200), "integer that indexes a row of the embedding table.", font=_font(24),
           fill=(30, 30, 30))
    img.save(path)


def shots() -> list[Shot]:
    """Every screen in showing order (a lecture's keyframes)."""
    return [
        Shot("slide", "slide", draw=draw_slide),
        Shot("prose", "prose", draw=draw_prose),
        Shot("colab", "code", code=COLAB_1 + [""] + COLAB_2, cells=2, draw=draw_colab),
        Shot("webapp", "ui", draw=draw_webapp),
        Shot("jupyter", "code", code=NB_IN, output=NB_OUT, draw=draw_jupyter),
        Shot("edit-typing", "code", code=EDIT_V1[:5], cell="edit", draw=draw_edit(0)),
        Shot("edit-v1", "code", code=EDIT_V1, cell="edit", draw=draw_edit(1)),
        Shot("edit-v1-again", "code", code=EDIT_V1, cell="edit", draw=draw_edit(2)),
        Shot("edit-v2", "code", code=EDIT_V2, cell="edit", draw=draw_edit(3)),
        Shot("editor", "code", code=EDITOR, draw=draw_editor),
        # held out
        Shot("ide", "code", code=IDE_CODE, output=IDE_TERM, cells=2, draw=draw_ide,
             held_out=True),  # the editor, and the terminal under it
        Shot("dark-notebook", "code", code=DARK_CELL, output=DARK_OUT, draw=draw_dark_notebook,
             held_out=True),
        Shot("repl", "code", code=REPL_CODE, output=["[31373, 995]", "'hello world'"],
             draw=draw_repl, held_out=True),
        Shot("chat", "ui", draw=draw_chat, held_out=True),
        Shot("two-column-slide", "slide", draw=draw_two_column_slide, held_out=True),
    ]


def shots_2() -> list[Shot]:
    """The second held-out set: run once, after every change to the code reader."""
    return [
        Shot("light-editor", "code", code=LIGHT_CODE, draw=draw_light_editor, held_out=True),
        Shot("docs", "code", code=DOCS_CODE, draw=draw_docs, held_out=True),
        Shot("terminal", "code", code=[ln[2:] for ln in GIT if ln.startswith("$ ")],
             output=GIT, cells=2, draw=draw_terminal, held_out=True),
        Shot("playground", "ui", draw=draw_playground, held_out=True),
        Shot("webcam-slide", "slide", draw=draw_webcam_slide, held_out=True),
    ]


def shots_3() -> list[Shot]:
    """The third held-out set: run once, after every change the second set led to."""
    return [
        Shot("lab", "code", code=LAB_1 + [""] + LAB_2, output=LAB_1_OUT + LAB_2_OUT, cells=2,
             draw=draw_lab, held_out=True),
        Shot("code-slide", "code", code=SLIDE_CODE, draw=draw_code_slide, held_out=True),
        Shot("github", "code", code=GH_CODE, draw=draw_github, held_out=True),
        Shot("sheet", "ui", draw=draw_sheet, held_out=True),
        Shot("prose-heading", "prose", draw=draw_prose_heading, held_out=True),
    ]


def truth_code(shot_list: list[Shot]) -> list[list[str]]:
    """The code blocks a reader should get: each cell once, in its final form."""
    out: list[list[str]] = []
    seen: dict[str, int] = {}
    for s in shot_list:
        if not s.code:
            continue
        if s.cell and s.cell in seen:
            out[seen[s.cell]] = s.code
            continue
        if s.cell:
            seen[s.cell] = len(out)
        out.append(s.code)
    return out
