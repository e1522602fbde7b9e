"""Loads plugins: v2a's built-ins first, then third-party ones from the ``v2a`` entry points."""

from __future__ import annotations

import importlib
import threading

import pluggy

from . import hookspecs

# built-in plugins, each a module with @hookimpl functions; listed in preference order (the
# first registered name of a kind is its default where a default is "the first that works")
BUILTIN = (
    "v2a.llm.local.xllamacpp",
    "v2a.llm.local.llama_cpp_python",
    "v2a.llm.local.llama_server",
)

_pm: pluggy.PluginManager | None = None
_lock = threading.Lock()


def manager() -> pluggy.PluginManager:
    """The plugin manager, loaded once (built-ins, then entry points)."""
    global _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager("v2a")
            pm.add_hookspecs(hookspecs)
            for name in BUILTIN:
                pm.register(importlib.import_module(name), name)
            pm.load_setuptools_entrypoints("v2a")
            _pm = pm
        return _pm


def register_plugin(module: object, name: str | None = None) -> None:
    """Add a plugin at run time (tests, notebooks): same effect as an entry point."""
    from . import registry

    manager().register(module, name)
    registry.reset()


def unregister_plugin(name: str) -> None:
    from . import registry

    manager().unregister(name=name)
    registry.reset()
