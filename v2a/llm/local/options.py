"""The embedded model's own options, declared beside it: ``--local-model``, ``--local-server``
and ``--local-threads``. The ``openai`` provider, which serves the embedded model when no
endpoint is set, carries them as its ``options`` (``v2a.config.plugin_options``); the commands
show them, ``Config`` validates them, ``config.options_of(EmbeddedOptions)`` reads them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from ...options import REVIEW_LLM, Opt
from ...registry import LOCAL_SERVERS

M = "Model (LLM)"
LLM = ("outline", "write")  # the stages that call the LLM


class EmbeddedOptions(BaseModel):
    local_model: Annotated[str, Opt(
        "Embedded model: a packaged name (see `v2a models`) or a .gguf path.",
        ("--local-model",), stages=LLM, commands=REVIEW_LLM, panel=M)] = "qwen2.5-coder-1.5b"
    local_server: Annotated[str, Opt(
        "Server for the embedded model: auto (the first that runs on this CPU), xllamacpp "
        "(prebuilt llama.cpp server), llama-cpp-python (built for this CPU), llama-server "
        "(your own llama.cpp binary).", ("--local-server",), commands=REVIEW_LLM,
        registry=LOCAL_SERVERS, extra_choices=("auto",), panel=M)] = "auto"
    local_threads: Annotated[int | None, Opt(
        "CPU threads of the embedded model server (default: all cores). Fewer leaves room for "
        "other work; results differ slightly with the count (other summation order).",
        ("--local-threads",), commands=REVIEW_LLM, min=1, envvar="V2A_LOCAL_THREADS",
        panel=M)] = None
