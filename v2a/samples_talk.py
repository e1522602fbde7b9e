"""A generated talk that looks like a real one, for tests and benchmarks that must not be easy.

Unlike ``samples.make_lecture`` (one titled slide per topic, a pause at every slide), here:

* topics change mid-flow: the first sentence of a new section follows the last one of the
  previous section after an ordinary short gap — no pause, no screen change, no title marks it;
* the speaker pauses anywhere else (seeded random long gaps inside sections);
* screens are notebook cells, an editor, a browser page and prose slides without title bands,
  and they change at sentences other than the section starts (sometimes before a section);
* code on screen and the terms spoken are known exactly, for OCR and glossary measurements.

The ground truth goes next to the video as ``<name>.talk.json``: section starts (the first
word of their first sentence), every sentence's times, every screen's times and lines.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from .errors import V2AError
from .samples import FPS, RATE, SIZE, _font, _require, _speak

GAP_S = 0.25  # between sentences, as in fluent speech
PAUSE_S = (1.0, 1.8)  # a pause somewhere inside a section
PAUSE_SHARE = 0.2


@dataclass
class SentenceTruth:
    text: str
    start: float
    end: float


@dataclass
class SectionTruth:
    title: str
    start: float
    sentences: list[SentenceTruth] = field(default_factory=list)


@dataclass
class ScreenTruth:
    kind: str  # notebook | editor | browser | slide
    start: float
    end: float
    code: list[str] = field(default_factory=list)  # code lines exactly as shown
    lines: list[str] = field(default_factory=list)  # other text shown
    section: int = 0  # the section whose speech the screen appears during


@dataclass
class Talk:
    video: Path
    truth_path: Path
    title: str
    duration: float = 0.0
    sections: list[SectionTruth] = field(default_factory=list)
    screens: list[ScreenTruth] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    @property
    def script(self) -> str:
        return " ".join(s.text for sec in self.sections for s in sec.sentences)

    @property
    def starts(self) -> list[float]:
        return [s.start for s in self.sections]

    @classmethod
    def load(cls, truth_path: Path) -> Talk:
        d = json.loads(Path(truth_path).read_text("utf-8"))
        return cls(video=Path(d["video"]), truth_path=Path(truth_path), title=d["title"],
                   duration=d["duration"],
                   sections=[SectionTruth(s["title"], s["start"],
                                          [SentenceTruth(**x) for x in s["sentences"]])
                             for s in d["sections"]],
                   screens=[ScreenTruth(**s) for s in d["screens"]], terms=d["terms"])


# --- screens ------------------------------------------------------------------------------------

MONO = "DejaVuSansMono.ttf"


def _mono(size: int):
    from PIL import ImageFont

    for base in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"):
        p = Path(base) / MONO
        if p.exists():
            return ImageFont.truetype(str(p), size)
    return ImageFont.load_default(size=size)


def render_screen(path: Path, screen: dict, size: tuple[int, int] = SIZE) -> None:
    """Draw one screen: a notebook cell, an editor, a browser page or a plain prose slide."""
    from PIL import Image, ImageDraw

    w, _h = size
    s = w / 1280
    kind = screen["kind"]
    mono = _mono(int(26 * s))
    if kind == "notebook":
        img = Image.new("RGB", size, (255, 255, 255))
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, w, int(56 * s)], fill=(243, 243, 243))
        d.text((int(24 * s), int(14 * s)), "bpe.ipynb", font=_font(int(24 * s)), fill=(60, 60, 60))
        y = int(110 * s)
        d.text((int(24 * s), y), f"In [{screen.get('cell', 1)}]:", font=mono, fill=(48, 63, 159))
        lines = screen["code"]
        box_h = int((len(lines) * 36 + 24) * s)
        d.rectangle([int(150 * s), y - int(12 * s), w - int(40 * s), y + box_h],
                    fill=(247, 247, 247), outline=(224, 224, 224))
        for i, line in enumerate(lines):
            d.text((int(166 * s), y + int(i * 36 * s)), line, font=mono, fill=(30, 30, 30))
        y += box_h + int(30 * s)
        for i, line in enumerate(screen.get("output", [])):
            d.text((int(166 * s), y + int(i * 36 * s)), line, font=mono, fill=(80, 80, 80))
    elif kind == "editor":
        img = Image.new("RGB", size, (30, 30, 30))
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, w, int(48 * s)], fill=(45, 45, 45))
        d.text((int(20 * s), int(10 * s)), screen.get("file", "main.py"), font=_font(int(22 * s)),
               fill=(220, 220, 220))
        first = screen.get("first_line", 1)
        for i, line in enumerate(screen["code"]):
            y = int((80 + i * 38) * s)
            d.text((int(20 * s), y), f"{first + i:>3}", font=mono, fill=(110, 118, 129))
            d.text((int(100 * s), y), line, font=mono, fill=(212, 212, 212))
    elif kind == "browser":
        img = Image.new("RGB", size, (255, 255, 255))
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, w, int(64 * s)], fill=(222, 225, 230))
        d.rounded_rectangle([int(120 * s), int(14 * s), w - int(120 * s), int(50 * s)],
                            radius=int(16 * s), fill=(255, 255, 255))
        d.text((int(140 * s), int(18 * s)), "https://github.com/openai/tiktoken",
               font=_font(int(22 * s)), fill=(90, 90, 90))
        d.text((int(80 * s), int(110 * s)), screen.get("title", ""),
               font=_font(int(40 * s), bold=True), fill=(20, 20, 20))
        d.rectangle([int(80 * s), int(190 * s), w - int(80 * s),
                     int((210 + 40 * len(screen["lines"])) * s)], fill=(246, 248, 250))
        for i, line in enumerate(screen["lines"]):
            d.text((int(100 * s), int((200 + i * 40) * s)), line, font=mono, fill=(36, 41, 47))
    else:  # a prose slide without a title band
        img = Image.new("RGB", size, (250, 250, 247))
        d = ImageDraw.Draw(img)
        for i, line in enumerate(screen["lines"]):
            d.text((int(90 * s), int((150 + i * 64) * s)), line, font=_font(int(38 * s)),
                   fill=(40, 40, 40))
    img.save(path)


def _screen_code(screen: dict) -> list[str]:
    if screen["kind"] in ("notebook", "editor"):
        return list(screen["code"])
    if screen["kind"] == "browser":
        return list(screen["lines"])
    return []


# --- the talk -----------------------------------------------------------------------------------


def _read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        return w.readframes(w.getnframes())


def make_talk(path: Path, *, audio_only: bool = False, wpm: int = 165, seed: int = 7,
              size: tuple[int, int] = SIZE, data: dict | None = None) -> Talk:
    """Write the talk's video (or audio) and its ground truth; return the truth. ``data``: another
    script in the form of ``v2a/data/sample_talk.json`` (default: that one)."""
    _require("ffmpeg")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = json.loads(resources.files("v2a").joinpath("data/sample_talk.json").read_text())
    rng = random.Random(seed)
    talk = Talk(video=path, truth_path=path.with_suffix(".talk.json"), title=data["title"],
                terms=list(data["terms"]))
    with tempfile.TemporaryDirectory(prefix="v2a-talk-") as tmp:
        tmpd = Path(tmp)
        pcm = bytearray()
        t = 0.0
        sentence_starts: list[list[float]] = []
        for si, sec in enumerate(data["sections"]):
            truth = SectionTruth(title=sec["title"], start=0.0)
            starts = []
            for k, text in enumerate(sec["sentences"]):
                if pcm:  # the gap before this sentence: a pause only inside a section
                    gap = GAP_S
                    if k > 0 and rng.random() < PAUSE_SHARE:
                        gap = rng.uniform(*PAUSE_S)
                    n = round(gap * RATE)
                    pcm += b"\x00\x00" * n
                    t += n / RATE
                wav = tmpd / f"s{si}-{k}.wav"
                _speak(text, wav, wpm=wpm)
                frames = _read_wav(wav)
                # espeak pads its output with silence: the words start where the signal does
                lead = _leading_silence(frames)
                start = t + lead
                pcm += frames
                t += len(frames) / 2 / RATE
                end = t - _trailing_silence(frames)
                truth.sentences.append(SentenceTruth(text, round(start, 3), round(end, 3)))
                starts.append(start)
            truth.start = truth.sentences[0].start
            talk.sections.append(truth)
            sentence_starts.append(starts)
        tail = round(0.8 * RATE)
        pcm += b"\x00\x00" * tail
        t += tail / RATE
        talk.duration = round(t, 3)
        full_wav = tmpd / "speech.wav"
        with wave.open(str(full_wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(bytes(pcm))

        # screens: each from the start of its sentence until the next screen
        timeline: list[tuple[float, int, dict]] = []
        for si, sec in enumerate(data["sections"]):
            for sc in sec["screens"]:
                at = sc["at"]
                if at >= 0:
                    when = sentence_starts[si][at]
                else:  # shown while the previous section is still being spoken
                    when = sentence_starts[si - 1][at]
                timeline.append((0.0 if not timeline else when, si, sc))
        timeline.sort(key=lambda x: x[0])
        concat = []
        for i, (start, si, sc) in enumerate(timeline):
            end = timeline[i + 1][0] if i + 1 < len(timeline) else talk.duration
            # whole video frames, so screen times in the truth are frame-exact
            start_f, end_f = round(start * FPS) / FPS, round(end * FPS) / FPS
            talk.screens.append(ScreenTruth(kind=sc["kind"], start=start_f, end=end_f,
                                            code=_screen_code(sc),
                                            lines=list(sc.get("lines", [])), section=si))
            if not audio_only:
                png = tmpd / f"screen{i}.png"
                render_screen(png, sc, size)
                concat += [f"file '{png}'", f"duration {end_f - start_f:.3f}"]
        if audio_only:
            cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(full_wav)]
            if path.suffix.lower() in (".m4a", ".mp4", ".aac"):
                cmd += ["-c:a", "aac", "-b:a", "64k"]
            cmd.append(str(path))
        else:
            concat.append(concat[-2])  # the concat demuxer needs the last image twice
            listing = tmpd / "screens.txt"
            listing.write_text("\n".join(concat) + "\n")
            cmd = ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                   "-i", str(full_wav), "-vf", f"fps={FPS},format=yuv420p", "-c:v", "libx264",
                   "-preset", "veryfast", "-tune", "stillimage", "-c:a", "aac", "-b:a", "64k",
                   "-t", f"{talk.duration:.3f}", "-movflags", "+faststart", str(path)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise V2AError(f"ffmpeg failed to build the talk: {res.stderr.strip()[-400:]}")
    payload = asdict(talk)
    payload["video"], payload["truth_path"] = str(path), str(talk.truth_path)
    talk.truth_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False))
    return talk


def _leading_silence(frames: bytes, threshold: int = 300) -> float:
    import array

    a = array.array("h", frames)
    for i, v in enumerate(a):
        if abs(v) > threshold:
            return i / RATE
    return 0.0


def _trailing_silence(frames: bytes, threshold: int = 300) -> float:
    import array

    a = array.array("h", frames)
    for i in range(len(a) - 1, -1, -1):
        if abs(a[i]) > threshold:
            return (len(a) - 1 - i) / RATE
    return 0.0
