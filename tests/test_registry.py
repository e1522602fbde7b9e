"""Registries are filled through pluggy's hook calls: built-ins in their BUILTIN order, and a
plugin installed after them may replace a built-in by registering its name."""

from __future__ import annotations

from v2a import registry
from v2a.hookspecs import hookimpl
from v2a.plugins import BUILTIN
from v2a.registry import LOCAL_SERVERS, RENDERERS
from v2a.render.base import Renderer


def test_builtins_are_asked_in_their_declared_order():
    renderers = [m.rsplit(".", 1)[1] for m in BUILTIN if m.startswith("v2a.render.")]
    assert RENDERERS.names()[:2] == ["markdown", "html"] and len(renderers) == len(RENDERERS.names())
    assert LOCAL_SERVERS.names()[0] == "xllamacpp"  # --local-server auto tries it first


class Loud:
    @staticmethod
    @hookimpl
    def register_renderers(register):
        register("markdown", Renderer("markdown", "loud.md", lambda a, config: a.title.upper()))


def test_a_plugin_replaces_a_builtin_by_its_name():
    registry.register_plugin(Loud, "test-loud")
    try:
        assert RENDERERS.get("markdown").filename == "loud.md"
        assert RENDERERS.names().count("markdown") == 1
    finally:
        registry.unregister_plugin("test-loud")
    assert RENDERERS.get("markdown").filename == "article.md"


class Hello:
    @staticmethod
    @hookimpl
    def register_commands(register):
        def hello(name: str) -> None:
            """Say hello."""
            print(f"hello {name}")

        register("hello", hello)


def test_a_plugin_adds_a_command_beside_the_builtin_ones():
    import typer
    from typer.testing import CliRunner

    from v2a.cli import _register_commands

    registry.register_plugin(Hello, "test-hello")
    try:
        assert {"batch", "book", "review", "publish", "hello"} <= set(registry.COMMANDS.names())
        cli = typer.Typer()
        _register_commands(cli)
        res = CliRunner().invoke(cli, ["hello", "world"])
        assert res.exit_code == 0 and res.output.strip() == "hello world", res.output
        assert CliRunner().invoke(cli, ["publish", "--help"]).exit_code == 0
    finally:
        registry.unregister_plugin("test-hello")
    assert "hello" not in registry.COMMANDS.names()
