"""Child process that serves one GGUF with llama.cpp's own C++ server, through xllamacpp.

Run as ``python -m v2a.llm.local.xllamacpp_child --model M --ready-file F ...``. It checks the
CPU against the wheel's instruction set first (exit 3 with a message instead of SIGILL), binds
127.0.0.1 on a port the kernel picks, writes ``{"url": ..., "pid": ...}`` to the ready file
once the model is loaded, and serves until SIGTERM/SIGINT. Kept in its own process so a crash
in native code is reported by the parent instead of taking v2a down.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from pathlib import Path

EXIT_CPU = 3  # the CPU lacks an instruction set the build needs

# get_system_info() names → /proc/cpuinfo flags
_FEATURES = {"SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX2": "avx2", "F16C": "f16c",
             "FMA": "fma", "BMI2": "bmi2", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi",
             "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16",
             "AMX_INT8": "amx_int8", "AVX_VNNI": "avx_vnni"}


def required_flags(system_info: str) -> list[str]:
    """The CPU flags a llama.cpp build was compiled to assume (from its system info line)."""
    on = re.findall(r"([A-Z0-9_]+) = 1", system_info)
    return [_FEATURES[name] for name in on if name in _FEATURES]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="v2a.llm.local.xllamacpp_child")
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", required=True)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--ctx", type=int, default=8192, help="context per slot")
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--cache-ram-mib", type=int, default=1024)
    args = ap.parse_args(argv)
    api_key = os.environ.pop("V2A_LOCAL_API_KEY", "")

    from .cpu import AVX2_BASELINE, cpu_flags, describe, is_x86_64, missing

    # checked before the import: loading the library may already run AVX2/F16C code
    lacking = missing(AVX2_BASELINE) if is_x86_64() else []
    if not lacking:
        import xllamacpp as xlc

        lacking = missing(tuple(required_flags(xlc.get_system_info())))
    if lacking:
        print(f"v2a: this CPU lacks {', '.join(lacking)}, which the xllamacpp wheel needs "
              f"(CPU has: {describe()}); "
              f"use --local-server llama-cpp-python, built for this machine", flush=True)
        return EXIT_CPU
    print(f"v2a: cpu {describe(cpu_flags())}; build {xlc.get_system_info().strip()}", flush=True)

    p = xlc.CommonParams()
    p.model.path = args.model
    p.model_alias = {args.alias}
    p.hostnames = ["127.0.0.1"]
    p.port = 0  # the kernel picks a free port: no probe-then-bind race
    p.n_parallel = max(1, args.parallel)
    p.n_ctx = args.ctx * p.n_parallel  # the slots share the context
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.cache_ram_mib = args.cache_ram_mib  # host-RAM prompt cache (default 8 GiB)
    p.ui = False
    p.offline = True
    p.warmup = False  # an empty decode at start: slower start, no gain for a batch job
    p.fit_params = False  # fitting layers to GPU memory: ~1 s of probing, CPU has no layers
    if api_key:
        p.api_keys = [api_key]

    server = xlc.Server(p)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    ready = Path(args.ready_file)
    tmp = ready.with_name(ready.name + ".tmp")
    tmp.write_text(json.dumps({"url": server.listening_address, "pid": os.getpid()}))
    os.replace(tmp, ready)
    print(f"v2a: serving {args.alias} at {server.listening_address}", flush=True)
    while not stop.wait(1.0):
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
