"""llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``).

The fallback for CPUs below the prebuilt wheel's AVX2 baseline: it has only a source
distribution, so ``scripts/setup.sh`` builds it on such machines with ``GGML_NATIVE=OFF`` and
instruction sets no wider than that machine's (never AVX-512 or AMX), and without pip's wheel
cache, so no build made for one machine is reused on another. One request at a time;
structured output through ``{"type": "json_object", "schema": ...}`` (a grammar).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ...hookspecs import hookimpl
from .base import Launch, ServerKind, free_port


class LlamaCppPython(ServerKind):
    name = "llama-cpp-python"
    description = "llama-cpp-python's server, built from source for this CPU (fallback)"
    structured = "json_object_schema"  # its server answers json_schema with HTTP 500
    install = "pip install 'v2a[llama-cpp-python]' (builds llama.cpp, ~8 min; see README)"

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("llama_cpp") is None:
            return f"llama-cpp-python is not installed ({self.install})"
        return None

    def launch(self, model: Path, alias: str, *, ctx: int, parallel: int, threads: int,
               api_key: str, workdir: Path) -> Launch:
        port = free_port()
        argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port),
                "--n_ctx", str(ctx), "--n_threads", str(threads),
                "--n_threads_batch", str(threads),
                # the default keeps logits for every prompt token: 2-3x slower, ~1 GB more
                "--logits_all", "false"]
        # its settings are read from the environment too: the key stays out of `ps`
        return Launch(argv, env={"API_KEY": api_key}, port=port, ready_path="/v1/models")


@hookimpl
def register_local_servers(register):
    register("llama-cpp-python", LlamaCppPython())
