"""Start the embedded model: pick a local server kind that runs here, serve the packaged GGUF."""

from __future__ import annotations

from ...config import Config
from ...progress import Progress
from ...registry import LOCAL_SERVERS
from ..gguf import LocalModel, resolve
from .base import LocalServer, ServerKind, ServerUnavailable
from .options import EmbeddedOptions


def pick(name: str) -> tuple[str, ServerKind]:
    """(name, kind) for ``config.local_server``; "auto": the first that can run here."""
    if name != "auto":
        return name, LOCAL_SERVERS.get(name)
    reasons = []
    for n, kind in LOCAL_SERVERS.items():
        why = kind.unavailable()
        if why is None:
            return n, kind
        reasons.append(f"{n}: {why}")
    raise ServerUnavailable("no local model server can run here (" + "; ".join(reasons)
                            + "); install one, or use an endpoint with --llm-base-url")


def start(config: Config, progress: Progress) -> tuple[LocalServer, LocalModel]:
    """The configured local model behind a started server (the caller stops it)."""
    own = config.options_of(EmbeddedOptions)
    name, kind = pick(own.local_server)
    model = resolve(own.local_model, config.cache_dir, progress)
    others = tuple(n for n, k in LOCAL_SERVERS.items() if n != name and k.unavailable() is None)
    server = LocalServer(kind, model.path, model.name, n_ctx=config.local_ctx,
                         parallel=config.llm_concurrency, threads=own.local_threads,
                         log_dir=config.cache_dir / "logs",
                         alternatives=others)
    with progress.task(f"starting local model {model.name} ({name})", total=None):
        server.start()
    return server, model
