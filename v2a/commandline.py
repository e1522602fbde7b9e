"""Command-line options derived from the config: every ``Opt`` becomes a typer option.

``@with_config("run")`` turns ``fn(config: Config, **own)`` into a typer command that takes the
function's own parameters plus every config option whose ``commands`` include "run" (a
registered plugin's own options too, ``v2a.config.plugin_options``), builds the ``Config`` from
them (one clear line on a bad value) and calls ``fn``.
"""

from __future__ import annotations

import enum
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer
from pydantic import ValidationError

from .config import FORMAT_ALIASES, Config, field_of, options
from .errors import UsageError
from .options import Opt


def _choice_enum(name: str, values: list[str]) -> type[enum.Enum]:
    # typer lists an Enum's values in --help and rejects others with a usage error
    return enum.Enum(name, [(v, v) for v in values], type=str)  # type: ignore[return-value]


def _annotation(name: str, o: Opt, default: Any) -> Any:
    field_type = field_of(name).annotation  # Config's own field, or a plugin's
    args = [a for a in typing.get_args(field_type) if a is not type(None)]
    base: Any = args[0] if args else field_type
    if isinstance(base, type) and issubclass(base, str):
        base = str  # a str type (``Language``): Config validates it, with the flag in its line
    if typing.get_origin(base) is list:
        base = typing.get_args(base)[0]
    if (o.registry is not None or o.choices) and not o.multiple:
        # a list option is plain text: "--format md,html,epub" is split and checked by Config
        base = _choice_enum("".join(w.title() for w in name.split("_")), o.allowed())
    kind = list[base] if o.multiple else base
    if default is None or o.multiple:
        kind = Optional[kind]
    help_text = o.help
    if o.multiple and (o.registry is not None or o.choices):
        help_text += f" One of: {', '.join(o.allowed())}."
    kw: dict[str, Any] = {"help": help_text, "rich_help_panel": o.panel}
    if o.envvar:
        kw["envvar"] = o.envvar
    if o.min is not None:
        kw["min"] = o.min
    if o.metavar or o.multiple:
        kw["metavar"] = o.metavar or name.rstrip("s").upper()
    if o.multiple:
        kw["show_default"] = ", ".join(default) if default else False
        if o.registry is not None or o.choices:
            kw["callback"] = _list_of(o, FORMAT_ALIASES if name == "formats" else {})
    return Annotated[kind, typer.Option(*o.flags, **kw)]


def _list_of(o: Opt, aliases: dict[str, str]) -> Callable[[list[str] | None], list[str] | None]:
    """Repeated or comma-separated names, each checked while the command line is parsed (a
    mistake is a usage line that points at --help)."""

    def check(values: list[str] | None) -> list[str] | None:
        if not values:
            return values
        allowed = o.allowed()
        out = []
        for value in values:
            for name in (aliases.get(n.strip(), n.strip()) for n in value.split(",")):
                if name and name not in allowed:
                    raise typer.BadParameter(f"{name!r} is not one of: {', '.join(allowed)}")
                if name:
                    out.append(name)
        return out

    return check


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def make_config(values: dict[str, Any]) -> Config:
    """A Config from option values (None: the default); a bad value is one usage line."""
    try:
        return Config(**{k: _plain(v) for k, v in values.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        raise UsageError(msg if "--" in msg else f"{err['loc'][0]}: {msg}") from None


def with_config(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: add the config options of ``command`` to a typer command function."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(fn).parameters.values() if p.name != "config"]
        fields = []
        params = list(own)
        for name, o, default in options():
            if command not in o.commands or not o.flags:
                continue
            cli_default = None if (o.multiple or isinstance(default, list)) else (
                default.value if isinstance(default, enum.Enum) else default)
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                            default=cli_default,
                                            annotation=_annotation(name, o, default)))
            fields.append(name)

        @functools.wraps(fn)
        def wrapper(**kw: Any) -> Any:
            config = make_config({k: kw.pop(k) for k in fields})
            return fn(config=config, **kw)

        del wrapper.__wrapped__  # typer must see the new signature, not fn's
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return deco
