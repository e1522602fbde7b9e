"""What this CPU can run: instruction-set flags, read without executing any of them.

The embedded server is native code built for a fixed instruction set. Running it on a CPU that
lacks one of those instructions dies with SIGILL; running host-specific kernels (AMX tiles on
some Xeons) died with a general protection fault on machines where the kernel or hypervisor
does not hand the tile state over. So v2a only runs builds whose instruction set is a known,
portable baseline, and checks the CPU against it before starting one.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

# the x86-64 baseline of the prebuilt llama.cpp wheel (GGML_NATIVE=OFF: SSE4.2, AVX, AVX2,
# FMA, F16C, BMI2 and nothing wider); /proc/cpuinfo spells SSE4.2 "sse4_2"
AVX2_BASELINE = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where that file does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text("utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def is_x86_64() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def missing(required: tuple[str, ...], flags: frozenset[str] | None = None) -> list[str]:
    """The required flags this CPU lacks; [] when unknown (no /proc/cpuinfo: assume fine)."""
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return []
    return [f for f in required if f not in flags]


def describe(flags: frozenset[str] | None = None) -> str:
    """A short summary for messages and benchmark reports: the SIMD levels present."""
    flags = cpu_flags() if flags is None else flags
    interesting = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni",
                   "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
    have = [f for f in interesting if f in flags]
    return " ".join(have) if have else "unknown"
