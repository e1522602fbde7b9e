"""The extension points. A plugin is a module with ``@hookimpl`` functions of these names.

Built-ins are plugins too (``v2a.plugins.BUILTIN``), registered exactly as a third-party one is
through the ``v2a`` entry point group. Each hook receives ``register(name, obj)``; what ``obj``
is depends on the registry (typed in ``v2a.registry``), which calls the hook as
``pm.hook.register_x(register=...)``. An engine, provider, server, renderer or batch engine may
carry ``options``, a pydantic model of ``Opt`` fields: its own command-line options
(``v2a.config.plugin_options``).
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

hookspec = pluggy.HookspecMarker("v2a")
hookimpl = pluggy.HookimplMarker("v2a")

Register = Callable[[str, object], None]


@hookspec
def register_asr_engines(register: Register) -> None:
    """Speech recognisers: ``register(name, factory(config) -> AsrEngine)``."""


@hookspec
def register_llm_providers(register: Register) -> None:
    """LLM providers: ``register(name, provider)`` with ``target(config)`` and
    ``open(config, target, progress)`` (``v2a.registry.LLMProvider``)."""


@hookspec
def register_local_servers(register: Register) -> None:
    """Local model servers: ``register(name, ServerKind())`` (see ``v2a.llm.local.base``)."""


@hookspec
def register_renderers(register: Register) -> None:
    """Output formats: ``register(name, Renderer)`` (see ``v2a.render.base``)."""


@hookspec
def register_ocr_engines(register: Register) -> None:
    """Screen readers for keyframes: ``register(name, factory(config) -> OcrEngine)``."""


@hookspec
def register_stages(register: Register) -> None:
    """Pipeline stages: ``register(name, StageSpec)`` (see ``v2a.stages``)."""


@hookspec
def register_batch_engines(register: Register) -> None:
    """Where a batch runs: ``register(name, factory(...) -> BatchEngine)``."""


@hookspec
def register_commands(register: Register) -> None:
    """Subcommands of ``v2a``: ``register(name, function)``, a typer command (its signature
    is its command line; ``v2a.commandline.with_config`` adds the config's options)."""
