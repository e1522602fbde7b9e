"""Side by side with a peer: yt2doc 0.3.3 on the same lecture, same Whisper model, same LLM server.

yt2doc lives in its own venv (it pulls torch): V2A_YT2DOC_VENV (default /work/peers/yt2doc-venv),
created with `python -m venv V; V/bin/pip install torch==2.13.0 yt2doc==0.3.3` (torch first so pip
takes the CPU build). It rejects local paths and bare media URLs, but yt-dlp's generic extractor
accepts an HTML page with a <video> tag plus og:title/og:description, which we serve on loopback.
It runs through bench/peers/yt2doc_offline.py, which swaps its hub-only sentence splitter for a
punctuation splitter (said in the results).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.metrics import boundary_prf, normalize, wer

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("V2A_YT2DOC_VENV", "/work/peers/yt2doc-venv"))
_TS = re.compile(r"\((\d+):(\d{2})(?::(\d{2}))?\)|\[(\d+):(\d{2})(?::(\d{2}))?\]")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # probes close media connections early (ConnectionResetError): not worth a traceback
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _serve(root: Path):
    srv = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def _seconds(m: re.Match) -> float:
    g = [x for x in m.groups() if x is not None]
    nums = [int(x) for x in g]
    return nums[0] * 60 + nums[1] if len(nums) == 2 else nums[0] * 3600 + nums[1] * 60 + nums[2]


def _yt2doc_chapters(md: str) -> list[float]:
    """Start time of each '#'-heading section: the first timestamp after the heading."""
    starts, pending = [], False
    for line in md.splitlines():
        if line.startswith("#") and not line.startswith("# "):
            pending = True
            continue
        m = _TS.search(line)
        if pending and m:
            starts.append(_seconds(m))
            pending = False
    return starts


def _plain(md: str) -> str:
    text = _TS.sub(" ", md)
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))


def compare(video: Path) -> dict:
    from v2a.config import Config
    from v2a.llm.open import open_llm
    from v2a.transcribe.whisper_models import prepare

    if not (VENV / "bin" / "python").exists():
        return {"skipped": f"yt2doc venv not found at {VENV}"}
    script = json.loads(video.with_suffix(".script.json").read_text())
    truth_chapters = [c["start"] for c in script["chapters"]]
    ref = " ".join(s["speech"] for s in script["slides"])
    whisper_dir = str(prepare("tiny.en"))
    out: dict = {"lecture_minutes": round(script["duration"] / 60, 1),
                 "note": "yt2doc's wtpsplit SaT sentence splitter replaced by a punctuation "
                         "splitter (its weights come only from a model hub)"}
    with tempfile.TemporaryDirectory(prefix="v2a-peer-") as tmp:
        www = Path(tmp) / "www"
        www.mkdir()
        shutil.copy(video, www / "lecture.mp4")
        (www / "lecture.html").write_text(
            "<html><head><title>Tokenization lecture</title>"
            '<meta property="og:title" content="Tokenization lecture">'
            '<meta property="og:description" content="A generated lecture">'
            '</head><body><video src="lecture.mp4" controls></video></body></html>')
        srv, base = _serve(www)
        handle = open_llm(Config())
        try:
            env = dict(os.environ, HOME=str(Path(tmp) / "home"), HF_HUB_OFFLINE="1")
            Path(env["HOME"]).mkdir()
            common = [str(VENV / "bin" / "python"), str(ROOT / "bench/peers/yt2doc_offline.py"),
                      "--video", f"{base}/lecture.html", "--whisper-model", whisper_dir,
                      "--whisper-compute-type", "int8", "--whisper-device", "cpu",
                      "--timestamp-paragraphs"]
            # 1) download + ASR (+ paragraphing): no LLM
            t0 = time.perf_counter()
            p1 = subprocess.run(common + ["-o", str(Path(tmp) / "asr.md"), "--skip-cache"],
                                capture_output=True, text=True, env=env)
            out["yt2doc_download_asr_s"] = round(time.perf_counter() - t0, 1)
            # 2) the whole run with LLM topic segmentation on the same server v2a uses
            t0 = time.perf_counter()
            p2 = subprocess.run(common + ["-o", str(Path(tmp) / "full.md"), "--skip-cache",
                                          "--segment-unchaptered", "--llm-server",
                                          handle.base_url, "--llm-model", handle.model_name,
                                          "--llm-api-key", "x"],
                                capture_output=True, text=True, env=env)
            out["yt2doc_full_s"] = round(time.perf_counter() - t0, 1)
            for name, p in (("asr", p1), ("full", p2)):
                if p.returncode != 0:
                    out[f"yt2doc_{name}_error"] = (p.stderr or p.stdout)[-1500:]
            full = Path(tmp) / "full.md"
            if full.exists():
                md = full.read_text()
                out["yt2doc_wer"] = round(wer(_plain(md), ref), 4)
                out["yt2doc_words"] = len(normalize(_plain(md)).split())
                out["yt2doc_chapters"] = boundary_prf(_yt2doc_chapters(md), truth_chapters, 10.0)
                out["yt2doc_sections"] = sum(1 for ln in md.splitlines() if ln.startswith("## "))
                out["yt2doc_produces"] = ("one Markdown file: chapter headings + transcript "
                                          "paragraphs with timestamps (no prose rewrite, no "
                                          "images, no HTML)")
        finally:
            handle.close()
            srv.shutdown()
        # v2a on the same URL for the stages both do (download + ASR)
        wd = Path(tmp) / "v2a"
        srv2, base2 = _serve(www)
        try:
            t0 = time.perf_counter()
            p3 = subprocess.run([sys.executable, str(ROOT / "cli.py"), "transcribe",
                                 f"{base2}/lecture.mp4", "--workdir", str(wd), "-q"],
                                capture_output=True, text=True)
            out["v2a_download_asr_s"] = round(time.perf_counter() - t0, 1)
            if p3.returncode == 0:
                tr = json.loads((wd / "transcript.json").read_text())
                text = " ".join(s["text"] for s in tr["segments"])
                out["v2a_wer"] = round(wer(text, ref), 4)
                out["v2a_words"] = len(normalize(text).split())
            else:
                out["v2a_error"] = p3.stderr[-1500:]
        finally:
            srv2.shutdown()
    out["reference_words"] = len(normalize(ref).split())
    return out
