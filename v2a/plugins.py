"""Loads plugins: v2a's built-ins first, then third-party ones from the ``v2a`` entry points."""

from __future__ import annotations

import importlib
import threading

import pluggy

from . import hookspecs

# built-in plugins, each a module with @hookimpl functions; listed in preference order (the
# first registered name of a kind is its default where a default is "the first that works")
BUILTIN = (
    "v2a.stages",
    "v2a.transcribe.faster",
    "v2a.transcribe.openai_whisper",
    "v2a.llm.providers.openai_api",
    "v2a.llm.providers.langchain_chat",
    "v2a.llm.local.xllamacpp",
    "v2a.llm.local.llama_cpp_python",
    "v2a.llm.local.llama_server",
    "v2a.ocr.rapid",
    "v2a.render.markdown_article",
    "v2a.render.html_article",
    "v2a.render.epub_article",
    "v2a.render.pdf_article",
    "v2a.render.docx_article",
    "v2a.render.obsidian_article",
    "v2a.batch.runner",
    "v2a.batch.ray_engine",
    "v2a.commands",
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
            # pluggy asks the plugin registered last first: built-ins in reverse, so they are
            # asked in BUILTIN order, after installed plugins (which may replace one by name)
            for name in reversed(BUILTIN):
                pm.register(importlib.import_module(name), name)
            pm.load_setuptools_entrypoints("v2a")
            _pm = pm
        return _pm
