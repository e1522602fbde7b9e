"""Generated sample lectures: espeak-ng speech over rendered slides, with a known script.

Used by the README's first command, the tests and the benchmarks. Every slide of a chapter
keeps the same theme and title and changes only its text — the hard case for scene detection.
The ground truth (slide times, chapter starts, the spoken script) is written next to the video
as ``<name>.script.json``.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from .errors import V2AError

SIZE = (1280, 720)
BG = (18, 32, 72)
FG = (240, 240, 245)
ACCENT = (250, 200, 80)
PAD_S = 0.8  # silence after each slide's speech: real speakers pause when changing slides
FPS = 25
RATE = 22050


@dataclass
class SlideTruth:
    index: int
    chapter: int
    title: str
    start: float
    end: float
    speech: str


@dataclass
class Lecture:
    video: Path
    script_path: Path
    title: str
    duration: float
    slides: list[SlideTruth] = field(default_factory=list)
    chapters: list[dict] = field(default_factory=list)  # {"title", "start"}

    @property
    def script(self) -> str:
        return " ".join(s.speech for s in self.slides)

    @property
    def cuts(self) -> list[float]:
        return [s.start for s in self.slides[1:]]

    @classmethod
    def load(cls, script_path: Path) -> Lecture:
        d = json.loads(Path(script_path).read_text("utf-8"))
        return cls(video=Path(d["video"]), script_path=Path(script_path), title=d["title"],
                   duration=d["duration"], slides=[SlideTruth(**s) for s in d["slides"]],
                   chapters=d["chapters"])


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise V2AError(f"{tool} is not installed (Debian: apt-get install {tool})")
    return path


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for base in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"):
        p = Path(base) / name
        if p.exists():
            return ImageFont.truetype(str(p), size)
    return ImageFont.load_default(size=size)


def render_slide(path: Path, title: str, bullets: list[str], number: int, deck: str,
                 size: tuple[int, int] = SIZE) -> None:
    from PIL import Image, ImageDraw

    w, h = size
    s = w / 1280
    img = Image.new("RGB", size, BG)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, int(110 * s)], fill=(28, 48, 104))
    d.text((int(60 * s), int(28 * s)), title, font=_font(int(52 * s), bold=True), fill=FG)
    y = int(200 * s)
    for b in bullets:
        d.ellipse([int(70 * s), y + int(14 * s), int(86 * s), y + int(30 * s)], fill=ACCENT)
        d.text((int(110 * s), y), b, font=_font(int(40 * s)), fill=FG)
        y += int(90 * s)
    d.text((int(60 * s), h - int(60 * s)), deck, font=_font(int(24 * s)), fill=(160, 170, 200))
    d.text((w - int(120 * s), h - int(60 * s)), f"{number}", font=_font(int(24 * s)),
           fill=(160, 170, 200))
    img.save(path)


def _speak(text: str, out: Path, voice: str = "en-us", wpm: int = 165) -> None:
    subprocess.run([_require("espeak-ng"), "-v", voice, "-s", str(wpm), "-w", str(out), text],
                   check=True, capture_output=True)


def _topics(minutes: float, topics: list[int] | None = None) -> list[dict]:
    """The default 4-chapter deck, or for ``minutes`` > 0 a longer one of ~2.5-minute chapters.

    Long decks cycle through a bank of topics (numbered parts once it is used up) and repeat a
    chapter's slides to fill it, so chapters stay lexically distinct and boundaries are known.
    """
    data = json.loads(resources.files("v2a").joinpath("data/sample_lecture.json").read_text())
    bank = data["chapters"] + data["extra_topics"]
    if topics is not None:
        return [bank[i % len(bank)] for i in topics]
    if minutes <= 0:
        return list(data["chapters"])
    n_chapters = max(4, round(minutes / 2.5))
    per_slide = 11.5  # seconds of speech + pause per slide, measured on the bank
    repeats = max(1, math.ceil(minutes * 60 / n_chapters / per_slide / 2))
    chapters = []
    for i in range(n_chapters):
        base = bank[i % len(bank)]
        part = i // len(bank) + 1
        title = base["title"] if part == 1 else f"{base['title']}, part {part}"
        slides = [dict(sl, title=title) for _ in range(repeats) for sl in base["slides"]]
        chapters.append({"title": title, "slides": slides})
    return chapters


def make_lecture(path: Path, minutes: float = 0.0, size: tuple[int, int] = SIZE,
                 audio_only: bool = False, wpm: int = 165,
                 topics: list[int] | None = None) -> Lecture:
    """Write a lecture video (or audio file) and its ground-truth script; return the truth.

    ``topics`` picks chapters by index from the topic bank (0-3: the default deck, 4-7: special
    tokens, regex pre-splitting, vocabulary size, other languages) — e.g. distinct short videos
    for a playlist.
    """
    _require("ffmpeg")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(resources.files("v2a").joinpath("data/sample_lecture.json").read_text())
    chapters = _topics(minutes, topics)
    deck = data["title"]
    lec = Lecture(video=path, script_path=path.with_suffix(".script.json"), title=deck,
                  duration=0.0)
    with tempfile.TemporaryDirectory(prefix="v2a-sample-") as tmp:
        tmpd = Path(tmp)
        concat_lines, t, n = [], 0.0, 0
        full_wav = tmpd / "speech.wav"
        with wave.open(str(full_wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            for ci, ch in enumerate(chapters):
                lec.chapters.append({"title": ch["title"], "start": round(t, 3)})
                for sl in ch["slides"]:
                    n += 1
                    wav = tmpd / f"s{n}.wav"
                    _speak(sl["speech"], wav, wpm=wpm)
                    with wave.open(str(wav), "rb") as w:
                        assert w.getframerate() == RATE and w.getnchannels() == 1
                        frames = w.readframes(w.getnframes())
                    pad = int(PAD_S * RATE)
                    # snap each slide to whole video frames so the truth is frame-exact
                    total = len(frames) // 2 + pad
                    dur = round(total / RATE * FPS) / FPS
                    total = round(dur * RATE)
                    out.writeframes(frames[: total * 2] + b"\x00\x00" * max(0, total - len(frames) // 2))
                    if not audio_only:
                        png = tmpd / f"s{n}.png"
                        render_slide(png, sl["title"], sl["bullets"], n, deck, size)
                        concat_lines += [f"file '{png}'", f"duration {dur:.3f}"]
                    lec.slides.append(SlideTruth(index=n - 1, chapter=ci, title=sl["title"],
                                                 start=round(t, 3), end=round(t + dur, 3),
                                                 speech=sl["speech"]))
                    t += dur
        lec.duration = round(t, 3)
        if audio_only:
            cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(full_wav)]
            if path.suffix.lower() in (".m4a", ".mp4", ".aac"):
                cmd += ["-c:a", "aac", "-b:a", "64k"]
            cmd += [str(path)]
        else:
            concat_lines.append(concat_lines[-2])  # concat demuxer needs the last image twice
            listing = tmpd / "slides.txt"
            listing.write_text("\n".join(concat_lines) + "\n")
            cmd = ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                   "-i", str(full_wav), "-vf", f"fps={FPS},format=yuv420p", "-c:v", "libx264",
                   "-preset", "veryfast", "-tune", "stillimage", "-c:a", "aac", "-b:a", "64k",
                   "-t", f"{t:.3f}", "-movflags", "+faststart", str(path)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise V2AError(f"ffmpeg failed to build the sample: {res.stderr.strip()[-400:]}")
    payload = asdict(lec)
    payload["video"] = str(path)
    payload["script_path"] = str(lec.script_path)
    lec.script_path.write_text(json.dumps(payload, indent=2))
    return lec
