"""The default local server: llama.cpp's own C++ server from the prebuilt ``xllamacpp`` wheel.

Why this one: it is a prebuilt manylinux wheel (no compiler, ~35 MB, installs in seconds), its
x86-64 build is a fixed portable baseline (AVX2/FMA/F16C, no AVX-512 and no AMX kernels, so
no host-specific code that can crash another CPU), and it is llama.cpp's real server:
parallel slots with continuous batching, the standard ``json_schema`` response format and a
prompt cache. It runs in a child process (``xllamacpp_child``) so a crash is reported, not
inherited. CPUs below that baseline use ``llama-cpp-python`` built for the machine.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from pathlib import Path

from ...hookspecs import hookimpl
from .base import Launch, ServerKind
from .cpu import AVX2_BASELINE, is_x86_64, missing


class XLlamaCpp(ServerKind):
    name = "xllamacpp"
    description = "llama.cpp's C++ server from the prebuilt xllamacpp wheel (default)"
    structured = "json_schema"
    install = "pip install xllamacpp (in v2a's local-llm extra)"

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("xllamacpp") is None:
            return f"xllamacpp is not installed ({self.install})"
        lacking = missing(AVX2_BASELINE) if is_x86_64() else []
        if lacking:
            return (f"this CPU lacks {', '.join(lacking)}, which the prebuilt wheel needs; "
                    "use --local-server llama-cpp-python (built for this CPU)")
        return None

    def launch(self, model: Path, alias: str, *, ctx: int, parallel: int, threads: int,
               api_key: str, workdir: Path) -> Launch:
        ready = workdir / f".ready-{secrets.token_hex(8)}.json"
        argv = [sys.executable, "-m", "v2a.llm.local.xllamacpp_child", "--model", str(model),
                "--alias", alias, "--ready-file", str(ready), "--ctx", str(ctx),
                "--parallel", str(parallel), "--threads", str(threads)]
        return Launch(argv, env={"V2A_LOCAL_API_KEY": api_key}, ready_file=ready)


@hookimpl
def register_local_servers(register):
    register("xllamacpp", XLlamaCpp())
