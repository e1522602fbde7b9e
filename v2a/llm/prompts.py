"""Prompt templates: editable jinja2 files in ``prompts/`` (or ``config.prompts_dir``).

Their hashes are part of the outline/write stage keys (``fingerprint``) and of every per-call
cache key, so editing a template re-runs exactly the calls that use it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

import v2a

from ..errors import V2AError
from ..language import Language
from ..workspace import sha256_bytes

# ``v2a/prompts`` is a symlink to the top-level ``prompts/`` in a checkout (where editors edit
# them) and a real folder inside a built wheel, so one path serves both installs
SHIPPED = Path(v2a.__file__).parent / "prompts"
# every shipped template (prompts/README.md says which job and stage renders which)
TEMPLATES = tuple(sorted(p.name for p in SHIPPED.glob("*.j2")))


def language_name(code: str | None) -> str | None:
    """What the prompts call the language ``code`` names (``Language.name``); None: none."""
    lang = Language.of(code)
    return lang.name if lang is not None else code or None


def prompts_dir(config) -> Path:
    """``config.prompts_dir`` if set, else the shipped ``prompts/``."""
    if getattr(config, "prompts_dir", None):
        d = Path(config.prompts_dir)
        if not d.is_dir():
            raise V2AError(f"prompts folder {d} does not exist")
        return d
    return SHIPPED


def _path(config, name: str) -> Path:
    """A template from the configured folder, falling back to the shipped one per file."""
    own = prompts_dir(config) / name
    if own.is_file():
        return own
    shipped = SHIPPED / name
    if shipped.is_file():
        return shipped
    raise V2AError(f"prompt template {name} not found in {prompts_dir(config)}")


@functools.lru_cache(maxsize=64)
def _read(path: Path, mtime_ns: int) -> str:
    return path.read_text("utf-8")


def source(config, name: str) -> str:
    p = _path(config, name)
    return _read(p, p.stat().st_mtime_ns)


def template_hash(config, name: str) -> str:
    return sha256_bytes(source(config, name).encode("utf-8"))


_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
                          trim_blocks=True, lstrip_blocks=True, autoescape=False)


def render(config, name: str, **variables) -> str:
    try:
        tpl = _ENV.from_string(source(config, name))
        return tpl.render(**variables).strip()
    except jinja2.TemplateError as exc:
        raise V2AError(f"prompt template {name}: {exc}") from None


def fingerprint(ctx) -> dict:
    """sha256 of every template the LLM stages use (part of their cache keys)."""
    return {name: template_hash(ctx.config, name) for name in TEMPLATES}
