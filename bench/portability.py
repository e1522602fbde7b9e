"""Does the embedded model run on CPUs other than this one? Emulated with qemu-user.

    .venv/bin/python -m bench.portability [--fallback-venv PATH]

For each emulated CPU (``qemu-x86_64 -cpu MODEL``: Haswell = AVX2 laptop baseline, SandyBridge =
AVX without AVX2/FMA/F16C, Nehalem = SSE4.2 only) it asks each local server for a real
completion with the packaged model, in a child Python run under the emulator, and records the
outcome: the reply, or how the process ended (SIGILL = an instruction the CPU lacks).

The fallback (llama-cpp-python) is measured from a venv built the way ``scripts/setup.sh``
builds it on a CPU below the wheel's baseline. Build one for an AVX-only CPU with::

    V2A_CPU_FLAGS="sse4_2 avx" bash scripts/setup.sh   # in a fresh clone; flags as on that CPU

and pass its venv with ``--fallback-venv``. AVX-512 and AMX cannot be emulated (TCG has
neither); for those the static check below applies: the shipped library's compiled features
and a scan of its machine code for zmm/AMX instructions.

Writes bench/results/portability.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CPUS = ("Haswell", "SandyBridge", "Nehalem")

# runs under the emulator: one real completion, printed as JSON
PROBE_XLLAMACPP = """
import json, sys, xllamacpp as x
p = x.CommonParams(); p.model.path = sys.argv[1]; p.n_ctx = 256; p.warmup = False
p.fit_params = False; p.ui = False; p.cpuparams.n_threads = 2; p.cpuparams_batch.n_threads = 2
s = x.Server(p)
r = s.handle_chat_completions({"messages": [{"role": "user", "content": "Say: ready"}],
                               "max_tokens": 3, "temperature": 0})
print(json.dumps({"reply": r["choices"][0]["message"]["content"]}))
"""
PROBE_LLAMA_CPP_PYTHON = """
import json, sys
from llama_cpp import Llama
m = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, verbose=False)
r = m.create_chat_completion(messages=[{"role": "user", "content": "Say: ready"}],
                             max_tokens=3, temperature=0)
print(json.dumps({"reply": r["choices"][0]["message"]["content"]}))
"""


def emulate(python: str, code: str, model: Path, cpu: str, timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["qemu-x86_64", "-cpu", cpu, python, "-c", code, str(model)],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"outcome": f"timeout after {timeout:.0f} s"}
    out = {"wall_s": round(time.perf_counter() - t0, 1)}
    # qemu-user reports the guest's fatal signal as its own (rc 128 + n from the shell, or -n)
    rc = p.returncode
    sig = -rc if rc < 0 else (rc - 128 if rc > 128 else 0)
    if sig:
        out["outcome"] = signal.Signals(sig).name
    elif rc:
        out["outcome"] = f"exit {rc}: {p.stderr.strip().splitlines()[-1:]}"
    else:
        out["outcome"] = "ok"
        out["reply"] = json.loads(p.stdout.strip().splitlines()[-1])["reply"]
    return out


def static_check(python: str) -> dict:
    """The xllamacpp library's compiled features, and zmm/AMX instructions in its code."""
    code = "import xllamacpp, sys; print(xllamacpp.get_system_info()); print(xllamacpp.__file__)"
    info, init = subprocess.run([python, "-c", code], capture_output=True, text=True,
                                check=True).stdout.strip().splitlines()[-2:]
    lib = next(Path(init).parent.glob("xllamacpp*.so"))
    counts = {"zmm": 0, "amx": 0}
    if shutil.which("objdump"):
        proc = subprocess.Popen(["objdump", "-d", "--no-show-raw-insn", str(lib)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if "zmm" in line:
                counts["zmm"] += 1
            if "tdpb" in line or "tileload" in line or "ldtilecfg" in line:
                counts["amx"] += 1
        proc.wait()
    return {"system_info": info, "library": lib.name, "instructions": counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fallback-venv", type=Path, help="venv with the fallback build")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()
    if not shutil.which("qemu-x86_64"):
        sys.exit("needs qemu-user (apt-get install qemu-user)")
    sys.path.insert(0, str(ROOT))
    from v2a.llm.gguf import prepare
    from v2a.llm.local.cpu import describe

    model = prepare("qwen2.5-coder-1.5b")
    py = str(ROOT / ".venv" / "bin" / "python")
    res: dict = {"command": "python -m bench.portability" + (
        f" --fallback-venv {args.fallback_venv}" if args.fallback_venv else ""),
        "host": {"machine": platform.machine(), "cpu_flags": describe()},
        "static": static_check(py), "emulated": []}
    servers = [("xllamacpp", py, PROBE_XLLAMACPP)]
    if args.fallback_venv:
        servers.append(("llama-cpp-python (fallback build)",
                        str(args.fallback_venv / "bin" / "python"), PROBE_LLAMA_CPP_PYTHON))
    for cpu in CPUS:
        for name, python, code in servers:
            print(f"== {name} on {cpu}", flush=True)
            r = {"cpu": cpu, "server": name, **emulate(python, code, model, cpu, args.timeout)}
            print(f"   {r}", flush=True)
            res["emulated"].append(r)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "portability.json").write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
