"""Speech follows the screen: correct, missed and false respellings of the screen's terms.

    .venv/bin/python -m bench.bench_terms [--talk WORKDIR TRUTH.json] [--held-out WORKDIR TRUTH]

The held-out talk (other terms: PyTorch, DataLoader, state_dict, …) is made with
``make_talk(Path("t/torch.mp4"), data=json.load(open("bench/data/terms_talk_torch.json")))``
(``v2a.samples_talk``), then ``v2a transcribe t/torch.mp4 --workdir t/work`` (its screen.json
is read by the real OCR); pass ``--held-out t/work t/torch.talk.json``. A second held-out talk
(pandas: ``DataFrame``, ``read_csv``, ``fillna``, …), ``bench/data/terms_talk_pandas.json``, was
written after the respeller's last change for issue 20 and measured once, the same way
(``--held-out-2``).

``cases``: labelled sentences said while a known screen is shown (the failures of a held-out
notebook lecture, issue 20: "Dpt2", "Bp algorithm", "LMS", "Google column", "number 2 paper"),
and innocent look-alikes that must stay as they are ("a GET request", "the BP oil spill",
"the number 2 is prime", "a column of numbers") — near the screen that shows the look-alike
term and far from it. Each case lists the respellings it should get (none for an innocent).

``--talk``: a real recogniser on a generated talk (``v2a sample --style talk``): Whisper tiny.en
over its ``audio.wav``, respelled with its ``screen.json``, then the second listen
(``v2a.transcribe.recheck``: base over the unsure stretches near screen terms) and respelled
again, as the transcribe stage does; scored against the script (``*.talk.json``): each said term
spelled exactly at each step, and respellings whose term the speaker did not say at that time
(false). Seconds are wall time and CPU time (the wall time grows with the machine's load).

Also: the scaffolding detector on its labelled corpus of real replies
(``tests/fixtures/scaffolding_corpus.json``; ``held-out``: replies it was not tuned on), and
keyword-list titles from the fallback namer before and now, and from the examples' outlines.

Writes bench/results/terms.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from v2a.models import Screen, ScreenFrame, ScreenLine, Word
from v2a.ocr import terms as T

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# what the screen shows, and when (s); a frame is shown until the next one
FRAMES = [
    (0.0, ["GPT-2 tokenizer: byte-level BPE", "Language Models are Unsupervised Multitask "
           "Learners (GPT-2)", "byte pair encoding (BPE)"]),
    (120.0, ["LLMs see tokens, not characters", "The Llama 2 paper: a 32k vocabulary"]),
    (240.0, ["Open in Google Colab", "import tiktoken",
             'enc = tiktoken.get_encoding("cl100k_base")', "def get_stats(ids):",
             "vocab_size = 276", 'tokens = list(text.encode("utf-8"))',
             "print(stats.most_common(3))", "loader = DataLoader(train, num_workers=2)"]),
    (360.0, ["Exercises", "Count the pairs in your own text."]),
    # code that names plain words and short names (merges, ReLU, zero_grad, state_dict)
    (480.0, ["merges = {}",
             "for (p0, p1), idx in merges.items():", "def decode(ids):",
             "self.layers = nn.Sequential(nn.Linear(784, 128), nn.ReLU())", "opt.zero_grad()",
             'torch.save(model.state_dict(), "net.pt")']),
    (530.0, ["Questions?"]),
]
SCREEN_END = 450.0  # after this nothing related is on screen

# (time said, sentence, [(heard, term)] expected); an empty list: it must stay as it is
CASES: list[tuple[float, str, list[tuple[str, str]]]] = [
    # --- misheard, said while (or soon after) the term is on screen
    (10, "So Dpt2 was trained on forty gigabytes of web text.", [("Dpt2", "GPT-2")]),
    (20, "The DPT-2 tokenizer works on bytes.", [("DPT-2", "GPT-2")]),
    (30, "DPT two uses a vocabulary of fifty thousand tokens.", [("DPT two", "GPT-2")]),
    (40, "GPT two was released in 2019.", [("GPT two", "GPT-2")]),
    (45, "In gpt2 the merges are stored in a file.", [("gpt2", "GPT-2")]),
    (47, "GPT 2 reads bytes.", [("GPT 2", "GPT-2")]),
    (50, "The byte-level Bp algorithm merges the most common pair.", [("Bp", "BPE")]),
    (55, "We call this B P E for short.", [("B P E", "BPE")]),
    (60, "So bpe starts from raw bytes.", [("bpe", "BPE")]),
    (65, "The BPD merges are learned once.", [("BPD", "BPE")]),
    (125, "LMS never see characters.", [("LMS", "LLMs")]),
    (130, "All of these llms work on tokens.", [("llms", "LLMs")]),
    (140, "In the number 2 paper they use a larger vocabulary.", [("number 2", "Llama 2")]),
    (150, "The Lama 2 tokenizer has thirty two thousand tokens.", [("Lama 2", "Llama 2")]),
    (155, "Llama two uses sentencepiece.", [("Llama two", "Llama 2")]),
    (245, "Open the notebook in Google column and run the first cell.",
     [("Google column", "Google Colab")]),
    (250, "Everything runs in Google Collab for free.", [("Google Collab", "Google Colab")]),
    (256, "Open it in Collab.", [("Collab", "Colab")]),
    (260, "If you have used the tick token library you have met one.",
     [("tick token", "tiktoken")]),
    (265, "The tic token package is fast.", [("tic token", "tiktoken")]),
    (270, "It loads the cl 100k base encoding.", [("cl 100k base", "cl100k_base")]),
    (280, "I call it get stats and it counts pairs.", [("get stats", "get_stats")]),
    # as tiny.en heard it (p 0.07, 0.06): the recogniser's doubt is the evidence
    (285, "So gets~ test~ walks over the list with zip.", [("gets test", "get_stats")]),
    # identifiers said as their words after a naming cue; a number run into the word before
    (287, "Say vocab size equals two hundred seventy six.", [("vocab size", "vocab_size")]),
    (289, "The function get stats returns a counter.", [("get stats", "get_stats")]),
    (291, "It decodes the bytes MSUTF8 and prints them.", [("MSUTF8", "UTF-8")]),
    # a class said as a noun phrase while it is shown; a cue and an edge word that sounds alike
    (277, "A data loader hands out the batches.", [("data loader", "DataLoader")]),
    (278, "With them workers equal to two.", [("them workers", "num_workers")]),
    # --- misheard, said far from where the screen shows it (the talk-wide glossary)
    (600, "Later models like Dpt2 kept the same idea.", [("Dpt2", "GPT-2")]),
    (610, "Remember what DPT-2 did with spaces.", [("DPT-2", "GPT-2")]),
    (620, "The tick token library again.", [("tick token", "tiktoken")]),
    (630, "Back in the Bp section we saw this.", []),  # too weak this far from the screen
    # --- innocent look-alikes near the screen that shows the look-alike term
    (12, "We send a GET request to the server.", []),
    (14, "Then GPT to write the next word.", []),
    (16, "Remember the BP oil spill?", []),
    (18, "Use a GPU if you have one.", []),
    (22, "The PDF of the paper is online.", []),
    (26, "Each merge makes a new token.", []),
    (28, "The merges are saved as a list.", []),
    (32, "Tick the box and go on.", []),
    (34, "One token is about four characters.", []),
    (36, "We set BPM to one hundred twenty.", []),
    (38, "The BBC wrote about it.", []),
    (42, "Version 2 of the code is faster.", []),
    (128, "The number 2 is prime.", []),
    (132, "Step 2 is to count the pairs.", []),
    (135, "A lama is a Tibetan monk.", []),
    (138, "My LLM writes poems.", []),
    (142, "The LLMs we use today are large.", []),
    (145, "Our school put the course on its LMS.", []),  # an LMS, while LLMs are on screen
    (248, "Put the numbers in a column.", []),
    (252, "Google Docs is another option.", []),
    (255, "We can collaborate on the notebook.", []),
    (258, "The stats look good.", []),
    (262, "Let us get started with the code.", []),
    (268, "A ticket costs ten dollars.", []),
    (275, "The base case is an empty list.", []),
    (292, "The function gets tested on every commit.", []),
    (294, "The vocab size matters a lot.", []),  # no cue: the speaker's English
    (296, "The most common pair wins.", []),
    (298, "We call it most days.", []),
    (299, "Save it as an MP3 file.", []),
    (274, "The workers equal to two people.", []),
    (276, "We call it the stats.", []),
    # --- innocent look-alikes far from any screen
    (700, "The BP oil spill was in 2010.", []),
    (710, "Our school moved its courses to a new LMS.", []),
    (720, "Wear PPE in the lab.", []),
    (730, "The number 2 bus is late.", []),
    (740, "A column of numbers adds up.", []),
    (750, "The CPU does the work.", []),
    (760, "We sent a GET request.", []),
    (770, "A DVD holds four gigabytes.", []),
    (780, "A token ring network.", []),
    (790, "Get stats for the team.", []),
    (800, "We did a collab with another channel.", []),
    (810, "The GPT 3 paper came later.", []),
    (820, "A data loader hands out the batches.", []),  # nothing on screen shows DataLoader
    (830, "With them workers equal to two.", []),
    # --- across word boundaries, and another form of an identifier (issue 20's classes);
    # "~" marks a word the recogniser guessed (p 0.1), "?" one it doubted (p 0.4)
    (482, "And remember it in a dictionary called mergers.", [("mergers", "merges")]),
    (484, "Apply the mergers in the same order.", [("mergers", "merges")]),
    (486, "Two linear layers with a real~ U~ between them.", [("real U", "ReLU")]),
    (488, "Every step starts with zero grad?, so nothing piles up.",
     [("zero grad", "zero_grad")]),
    (490, "We save the state dict? to a file.", [("state dict", "state_dict")]),
    (70, "To compress it, my~ parent coding looks at pairs.",
     [("my parent coding", "byte pair encoding")]),
    # innocent look-alikes while that code is on screen
    (494, "We merged the two lists.", []),
    (496, "Merging is cheap.", []),
    (498, "Each merge makes the list shorter.", []),
    (500, "Look at the code on the left.", []),
    (502, "Let us look~ at the code~ now.", []),
    (504, "A real~ number is fine.", []),
    (506, "Zero gradients flow back.", []),
    (508, "The state of the dict is saved.", []),
    (510, "The most common~ pair wins.", []),
    (512, "And code~ review helps.", []),
    (514, "Bank mergers made the news.", []),  # said while merges is on screen
    (259, "The status of the job is shown.", []),  # stats on screen
    (261, "The stat is wrong.", []),
    # far from it
    (840, "Bank mergers were common in the nineties.", []),
    (850, "My~ parent coding club meets on Friday.", []),
    (860, "Make a real~ U~ turn.", []),
    (870, "Every step starts with zero grad?, so nothing piles up.", []),
]


def screen() -> Screen:
    frames = [ScreenFrame(scene=k, time=t, keyframe=f"keyframes/scene-{k:03d}.jpg",
                          lines=[ScreenLine(text=x, box=[0, 0, 1, 1]) for x in lines])
              for k, (t, lines) in enumerate(FRAMES)]
    return Screen(engine="bench", frames=frames,
                  terms=T.extract([x for _, lines in FRAMES for x in lines]))


def words_at(t: float, sentence: str) -> list[Word]:
    """The sentence's words 0.3 s apart; "word~" is a guess of the recogniser (p 0.1),
    "word?" a word it doubted (p 0.4), any other word has no probability."""
    out = []
    for k, w in enumerate(sentence.split()):
        p = 0.1 if "~" in w else 0.4 if "?" in w else None
        out.append(Word(start=t + 0.3 * k, end=t + 0.3 * k + 0.25, probability=p,
                        text=(" " if k else "") + w.replace("~", "").replace("?", "")))
    return out


def run_cases() -> dict:
    scr = screen()
    seen = T.sightings(scr, scr.terms)
    correct = missed = false = 0
    rows = []
    t0 = time.perf_counter()
    for t, sentence, want in CASES:
        out, fixes = T.respell(words_at(t, sentence), scr.terms, seen)
        sentence = sentence.replace("~", "").replace("?", "")
        got = [(f.heard, f.term) for f in fixes]
        c = sum(1 for g in got if g in want)
        correct += c
        missed += len(want) - c
        wrong = [g for g in got if g not in want]
        false += len(wrong)
        if len(want) != c or wrong:
            rows.append({"time": t, "said": sentence, "want": want, "got": got,
                         "text": "".join(w.text for w in out)})
    innocent = sum(1 for _, _, w in CASES if not w)
    return {"terms_on_screen": scr.terms, "cases": len(CASES),
            "misheard_cases": len(CASES) - innocent, "innocent_cases": innocent,
            "expected_respellings": correct + missed, "correct": correct, "missed": missed,
            "false": false, "seconds": round(time.perf_counter() - t0, 3), "wrong": rows}


def _hear(workdir: Path, scr: Screen, recheck_model: str) -> dict:
    """tiny.en over the talk, and the second listen over its unsure stretches: the words, the
    rechecked words and the seconds (what ``--asr-cache`` keeps between development runs)."""
    from v2a.config import default_cache_dir
    from v2a.transcribe import recheck as R
    from v2a.transcribe.faster import _Audio, load_model
    from v2a.transcribe.whisper_models import resolve

    model = load_model(resolve("tiny.en", default_cache_dir()), 2)
    t0, c0 = time.perf_counter(), time.process_time()
    segs, _ = model.transcribe(str(workdir / "audio.wav"), vad_filter=True,
                               word_timestamps=True)
    words = [Word(start=float(w.start), end=float(w.end), text=w.word,
                  probability=float(w.probability)) for s in segs for w in s.words or []]
    asr_s, asr_cpu = time.perf_counter() - t0, time.process_time() - c0
    t2, c2 = time.perf_counter(), time.process_time()
    second = load_model(resolve(recheck_model, default_cache_dir()), 2)
    audio = _Audio(workdir / "audio.wav")
    heard2, rechecked, stretches = R.recheck(words, T.sightings(scr, scr.terms), audio.read,
                                             audio.duration, R.whisper_decoder(second))
    return {"words": [w.model_dump() for w in words],
            "heard2": [w.model_dump() for w in heard2],
            "rechecked": [r.model_dump() for r in rechecked], "stretches": stretches,
            "duration": audio.duration, "asr_s": asr_s, "asr_cpu": asr_cpu,
            "recheck_s": time.perf_counter() - t2, "recheck_cpu": time.process_time() - c2}


def run_talk(workdir: Path, truth_path: Path, recheck_model: str = "base",
             asr_cache: Path | None = None) -> dict:
    """tiny.en on a generated talk: as heard, respelled with its screen, and with the second
    listen (``v2a.transcribe.recheck``) before respelling — as the transcribe stage does.
    ``asr_cache``: a folder keeping the recognisers' words between development runs (their
    seconds are then those of the first run)."""
    from v2a.models import Respelling
    from v2a.workspace import read_model

    truth = json.loads(truth_path.read_text())
    scr = read_model(workdir / "screen.json", Screen)
    # the terms as the screen stage extracts them now (screen.json may be older)
    scr.terms = T.extract([ln.text for f in scr.frames for ln in f.lines])
    cache = asr_cache / (re.sub(r"\W+", "_", str(workdir)) + ".json") if asr_cache else None
    if cache is not None and cache.exists():
        h = json.loads(cache.read_text())
    else:
        h = _hear(workdir, scr, recheck_model)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(h))
    words = [Word(**w) for w in h["words"]]
    heard2 = [Word(**w) for w in h["heard2"]]
    rechecked = [Respelling(**r) for r in h["rechecked"]]
    stretches = h["stretches"]
    asr_s, asr_cpu = h["asr_s"], h["asr_cpu"]
    t1 = time.perf_counter()
    seen = T.sightings(scr, scr.terms)
    fixed, fixes = T.respell(words, scr.terms, seen)
    respell_s = time.perf_counter() - t1
    fixed2, fixes2 = T.respell(heard2, scr.terms, seen)
    recheck_s, recheck_cpu = h["recheck_s"], h["recheck_cpu"]
    said = [(s["start"], s["end"], s["text"]) for sec in truth["sections"]
            for s in sec["sentences"]]
    terms = [t for t in truth["terms"] if re.fullmatch(r"[\w.\- ]+", t)]

    def has(term: str, text: str) -> bool:
        return bool(re.search(r"(?<![\w])" + re.escape(term) + r"(?![\w])", text))

    def spelled(ws: list[Word]) -> tuple[int, int, list[dict]]:
        right = total = 0
        misses = []
        for a, b, text in said:
            for term in terms:
                if has(term, text):
                    total += 1
                    heard = "".join(w.text for w in ws if w.end > a - 1 and w.start < b + 1)
                    if has(term, heard):
                        right += 1
                    else:
                        misses.append({"term": term, "said": text, "written": heard.strip()})
        return right, total, misses

    def false_of(found: list) -> list[dict]:
        out = []
        for f in found:
            context = " ".join(text for a, b, text in said if b > f.start - 1 and a < f.end + 1)
            if f.term.lower() not in context.lower():
                out.append({"heard": f.heard, "term": f.term, "at": round(f.start, 1),
                            "said": context})
        return out

    before, total, _ = spelled(words)
    after, _, _ = spelled(fixed)
    after2, _, misses = spelled(fixed2)
    false, false2 = false_of(fixes), false_of(rechecked + fixes2)
    minutes = h["duration"] / 60
    return {"workdir": str(workdir), "truth": str(truth_path), "minutes": round(minutes, 2),
            "terms_on_screen": scr.terms, "said_terms": total,
            "spelled_right_before": before, "spelled_right_respelled": after,
            "spelled_right_after": after2,
            "respellings": [f"{f.heard} → {f.term} ({f.how}, {f.start:.1f} s, shown at "
                            f"{f.shown_at})" for f in rechecked + fixes2],
            "false_respelled": len(false), "false": len(false2), "false_respellings": false2,
            "still_missed": misses,
            "recheck": {"model": recheck_model, "stretches": stretches,
                        "accepted": len(rechecked), "seconds": round(recheck_s, 1),
                        "seconds_per_minute": round(recheck_s / minutes, 2),
                        # CPU seconds (all threads): the wall time depends on the machine's load
                        "cpu_seconds": round(recheck_cpu, 1)},
            "asr_seconds": round(asr_s, 1), "asr_cpu_seconds": round(asr_cpu, 1),
            "respell_seconds": round(respell_s, 3)}


def run_scaffolding() -> dict:
    """The detector on the labelled corpus of real replies (tests/fixtures)."""
    from v2a.write.scaffolding import is_scaffolding

    rows = json.loads((ROOT / "tests" / "fixtures" / "scaffolding_corpus.json")
                      .read_text(encoding="utf-8"))["sentences"]
    out: dict = {}
    for split in ("all", "held-out"):
        rs = [r for r in rows if split == "all" or r.get("split") == split]
        scaf = [r for r in rs if r["label"] == "scaffolding"]
        prose = [r for r in rs if r["label"] == "prose"]
        out[split] = {"scaffolding": len(scaf),
                      "found": sum(is_scaffolding(r["text"]) for r in scaf),
                      "prose": len(prose),
                      "prose_flagged": sum(is_scaffolding(r["text"]) for r in prose)}
    return out


def run_titles() -> dict:
    """Keyword-list titles: the fallback's titles on the examples' transcripts (six even
    chapters each) before (its old ", ".join(keywords)) and now; the models' titles in the
    examples' outlines."""
    from v2a.models import Outline, Transcript
    from v2a.workspace import read_model
    from v2a.write import fallback
    from v2a.write.naming import keyword_list

    old_titles, new_titles, model_titles = [], [], []
    for ex in sorted((ROOT / "examples").iterdir()):
        if not (ex / "transcript.json").exists():
            continue
        segs = read_model(ex / "transcript.json", Transcript).segments
        starts = [len(segs) * k // 6 for k in range(6)]
        texts = [" ".join(s.text for s in segs[a:b])
                 for a, b in zip(starts, starts[1:] + [len(segs)])]
        old_titles += [", ".join(kw).capitalize() for kw in fallback.keywords(texts)]
        new_titles += [t for t, _ in fallback.describe(segs, starts)]
        if (ex / "outline.json").exists():
            model_titles += [c.title for c in read_model(ex / "outline.json", Outline).chapters]
    return {"fallback_before": {"titles": old_titles,
                                "keyword_lists": sum(map(keyword_list, old_titles))},
            "fallback_now": {"titles": new_titles,
                             "keyword_lists": sum(map(keyword_list, new_titles))},
            "model_titles": {"titles": model_titles,
                             "keyword_lists": sum(map(keyword_list, model_titles))}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--talk", nargs=2, metavar=("WORKDIR", "TRUTH"))
    ap.add_argument("--held-out", nargs=2, metavar=("WORKDIR", "TRUTH"),
                    help="a second talk with other terms (bench/data/terms_talk_torch.json)")
    ap.add_argument("--held-out-2", nargs=2, metavar=("WORKDIR", "TRUTH"),
                    help="a talk written after the last change (bench/data/terms_talk_pandas.json)")
    ap.add_argument("--asr-cache", type=Path, metavar="DIR",
                    help="keep the recognisers' words here between development runs")
    a = ap.parse_args()
    command = "python -m bench.bench_terms" + (f" --talk {' '.join(a.talk)}" if a.talk else "")
    command += f" --held-out {' '.join(a.held_out)}" if a.held_out else ""
    command += f" --held-out-2 {' '.join(a.held_out_2)}" if a.held_out_2 else ""
    out: dict = {"command": command,
                 "cases": run_cases(), "scaffolding": run_scaffolding(),
                 "titles": run_titles()}
    if a.talk:
        out["talk"] = run_talk(Path(a.talk[0]), Path(a.talk[1]), asr_cache=a.asr_cache)
    if a.held_out:
        out["held_out_talk"] = run_talk(Path(a.held_out[0]), Path(a.held_out[1]),
                                         asr_cache=a.asr_cache)
    if a.held_out_2:
        out["held_out_talk_2"] = run_talk(Path(a.held_out_2[0]), Path(a.held_out_2[1]),
                                          asr_cache=a.asr_cache)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "terms.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    c = out["cases"]
    print(f"cases: {c['correct']}/{c['expected_respellings']} correct, {c['missed']} missed, "
          f"{c['false']} false ({c['innocent_cases']} innocent sentences)", file=sys.stderr)
    for key in ("talk", "held_out_talk", "held_out_talk_2"):
        if key in out:
            k = out[key]
            print(f"{key}: terms spelled right {k['spelled_right_before']}/{k['said_terms']} → "
                  f"{k['spelled_right_respelled']} respelled → {k['spelled_right_after']} with "
                  f"the second listen, false {k['false']}, +{k['recheck']['seconds']} s",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
