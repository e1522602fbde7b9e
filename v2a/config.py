"""Run configuration: one object, filled from CLI flags / environment, read by every stage.

Each stage declares which fields it depends on (see ``pipeline.STAGES``); only those fields
enter its cache key, so changing, say, the LLM model never re-runs transcription.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

AsrMode = Literal["auto", "always", "never"]


def default_cache_dir() -> Path:
    """Where assembled models live (joined once, verified, reused across runs)."""
    env = os.environ.get("V2A_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("v2a"))


class Config(BaseModel):
    # where work folders go
    out_root: Path = Path("outputs")
    workdir: Path | None = None  # explicit work folder (overrides out_root/<slug>)
    cache_dir: Path = Field(default_factory=default_cache_dir)

    # ingest
    cookies: Path | None = None
    max_duration: float | None = None  # seconds; longer sources are refused
    title: str | None = None  # the source's title, when what the download reports is poor

    # transcript
    asr: AsrMode = "auto"
    auto_captions: bool = False  # allow platform auto-captions as a transcript in auto mode
    sub_langs: list[str] = Field(default_factory=lambda: ["en", "en-US", "en-GB"])
    asr_backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    whisper_model: str = "tiny.en"  # packaged name, hub name or CTranslate2 folder path
    language: str | None = None  # force the spoken language (else detected)
    asr_threads: int = Field(default_factory=lambda: os.cpu_count() or 2)
    beam_size: int = 5
    vad: bool = True

    # scenes
    scene_threshold: float = 1.5  # luma+edges score; generated slides: cuts >= 2.8, noise <= 0.2
    scene_min_len: float = 2.0  # seconds
    scene_downscale_width: int = 320
    dedupe_distance: int = 4  # phash Hamming distance below which keyframes are dupes (same
    # slide re-shown: 0-2; different bullets on the same slide theme: >= 6)

    # LLM
    llm_base_url: str | None = None  # None: embedded local server (or OPENAI_BASE_URL if set)
    llm_model: str | None = None  # None: the embedded default, or gpt-4o-mini on OpenAI
    api_key_env: str = "OPENAI_API_KEY"
    llm_provider: Literal["openai", "langchain"] = "openai"
    llm_concurrency: int = 1
    llm_timeout: float = 600.0
    llm_retries: int = 4
    local_model: str = "qwen2.5-coder-1.5b"  # packaged GGUF name or a .gguf path
    local_server: str = "auto"  # a registered local server, or the first that runs here
    local_ctx: int = 8192
    use_platform_chapters: bool = True
    # who places chapter starts: "code" (slide-title changes, topic shifts, pauses; the model
    # only names the chapters), "model" (the model picks among those candidates), or "auto":
    # code for the embedded model (measured: it picks poorly), the model for any other endpoint
    outline_boundaries: Literal["auto", "code", "model"] = "auto"
    lang: str | None = None  # write the article in this language (default: source language)
    prompts_dir: Path | None = None
    temperature: float = 0.2

    # render
    self_contained: bool = False

    # run control
    force: list[str] = Field(default_factory=list)
    quiet: bool = False

    def stage_view(self, fields: tuple[str, ...]) -> dict:
        """The JSON-able subset of config a stage depends on (its cache key material)."""
        data = self.model_dump(mode="json")
        return {f: data[f] for f in fields}
