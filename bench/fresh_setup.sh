#!/usr/bin/env bash
# The README's first command as a new user runs it: a fresh clone, empty pip and model caches.
# Prints each output line with the seconds since start, then the total, the peak memory in use
# (MemTotal - MemAvailable, sampled every 0.5 s), the most compiler processes seen at once, and
# the CPU. Writes the log to bench/results/fresh-setup.log.
#
#   bash bench/fresh_setup.sh            # clones HEAD of this checkout into a temp folder
#
# apt packages already on the machine are not removed; for a fully fresh apt step, purge them
# first (ffmpeg espeak-ng fonts-dejavu-core libgomp1).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/v2a-fresh.XXXXXX)
log="$here/bench/results/fresh-setup.log"
git clone -q "$here" "$work/v2a"
cd "$work/v2a"
cmd=$(sed -n '/^```bash/,/^```/p' README.md | sed -n 2p)  # the README's first command
export PIP_CACHE_DIR="$work/pip-cache" V2A_CACHE_DIR="$work/v2a-cache" XDG_CACHE_HOME="$work/xdg"

mem_used() { awk '/MemTotal/{t=$2}/MemAvailable/{a=$2}END{print int((t-a)/1024)}' /proc/meminfo; }
base=$(mem_used)
( peak=0; cc=0
  while true; do
    used=$(mem_used); n=$(pgrep -c 'cc1|cc1plus' || true)
    (( used > peak )) && peak=$used; (( n > cc )) && cc=$n
    echo "$peak $cc" > "$work/peak"; sleep 0.5
  done ) &
mon=$!
start=$(date +%s.%N)
set +e
bash -c "$cmd" 2>&1 | while IFS= read -r line; do
  printf '%7.1f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
done | tee "$log"
rc=${PIPESTATUS[0]}
set -e
kill $mon
read -r peak cc < "$work/peak"
{
  echo "command: $cmd"
  echo "rc $rc, total $(echo "$(date +%s.%N) - $start" | bc) s"
  echo "memory in use: idle ${base} MB, peak ${peak} MB; most compilers at once: ${cc}"
  echo "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
       "flags: $(grep -o -w -E 'avx|avx2|fma|f16c|avx512f|avx512_vnni|amx_tile|amx_int8' \
                 /proc/cpuinfo | sort -u | xargs)"
} | tee -a "$log"
rm -rf "$work"
