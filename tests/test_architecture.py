"""The architecture holds: no import cycles, registries drive the choices, and a plugin adds an
extension point's implementation with one module and one registration."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.render import context, synthetic_workdir
from tests.plugins import plain_text
from v2a import registry
from v2a.config import Config
from v2a.hookspecs import hookimpl
from v2a.models import Segment, Transcript
from v2a.pipeline import run_pipeline, run_stage
from v2a.workspace import read_model

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "v2a"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def import_graph() -> dict[str, set[str]]:
    """Module → v2a modules it imports anywhere (functions too), except for type checking."""
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text("utf-8"))
        skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                and _is_type_checking(node) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".")[: len(mod.split(".")) - node.level + is_pkg]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                for a in node.names:
                    sub = f"{prefix}.{a.name}"
                    targets.append(sub if sub in files else prefix)
            for t in targets:
                if t in files and t != mod:
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50 and graph["v2a.cli"]
    assert cycles(graph) == []


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The import graph folded to v2a's packages (``v2a.render.stage`` → ``v2a.render``)."""
    def pkg(mod: str) -> str:
        return ".".join(mod.split(".")[:2])

    out: dict[str, set[str]] = {pkg(m): set() for m in graph}
    for mod, targets in graph.items():
        out[pkg(mod)] |= {pkg(t) for t in targets if pkg(t) != pkg(mod)}
    return out


def test_no_package_cycles_and_the_models_at_the_bottom():
    """Imports inside functions count: a package that imports another only when called still
    depends on it. The artifacts' models import nothing of v2a (they were part of a cycle
    {models, scenes, stage, llm, links} through one import inside a method)."""
    graph = import_graph()
    assert graph["v2a.models"] == set()
    assert cycles(package_graph(graph)) == []


def test_the_web_app_is_a_leaf_above_the_editors_layer():
    graph = import_graph()
    # only the CLI's wiring reaches the app, through its commands; no stage, renderer or batch
    # module does
    reach = {(m, t) for m, ts in graph.items() if not m.startswith("v2a.review") for t in ts
             if t == "v2a.review" or t.startswith("v2a.review.")}
    assert {t for _, t in reach} <= {"v2a.review.command"}, reach
    assert {m for m, _ in reach} <= {"v2a.cli", "v2a.commands"}, reach
    # the editors' layer sits below the stages that apply it, and knows nothing of them
    pkgs = package_graph(graph)
    assert {"v2a.edits"} <= pkgs["v2a.render"] & pkgs["v2a.write"] & pkgs["v2a.review"]
    assert not pkgs["v2a.edits"] & {"v2a.render", "v2a.write", "v2a.review", "v2a.pipeline"}
    for comp in cycles(pkgs):
        assert len(set(comp) & {"v2a.render", "v2a.review", "v2a.write", "v2a.edits"}) <= 1, comp


def test_choices_come_from_the_registries():
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", "--help"],
                         capture_output=True, text=True, env={"COLUMNS": "250", "PATH": ""},
                         timeout=60).stdout
    for reg in (registry.ASR_ENGINES, registry.LOCAL_SERVERS, registry.LLM_PROVIDERS,
                registry.RENDERERS):
        names = reg.names()
        assert names
        for n in names:
            assert n in out, (reg.kind, n)
    assert registry.LOCAL_SERVERS.names()[0] == "xllamacpp"  # "auto" tries it first


def test_a_bad_choice_is_one_usage_line():
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", "x.mp4",
                          "--asr-backend", "nope"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "faster-whisper" in res.stderr  # the choices are named


# --- a plugin is one module and one registration ----------------------------------------------


class EchoAsr:
    """A third-party ASR engine that 'hears' one fixed sentence."""

    class Engine:
        name = "echo"

        def __init__(self, config):
            self.config = config

        def transcribe(self, audio_path, language, on_progress):
            on_progress(1.0)
            return Transcript(language="en", origin="asr", backend="echo", model="none",
                              duration=2.0, segments=[Segment(id=0, start=0.0, end=2.0,
                                                              text="Hello from a plugin.")])

    @staticmethod
    @hookimpl
    def register_asr_engines(register):
        register("echo", EchoAsr.Engine)


@pytest.fixture
def plugins():
    registry.register_plugin(plain_text, "test-plain")  # tests/plugins/plain_text.py
    registry.register_plugin(EchoAsr, "test-echo")
    try:
        yield
    finally:
        registry.unregister_plugin("test-plain")
        registry.unregister_plugin("test-echo")


def test_a_plugin_adds_an_output_format(plugins, tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    ctx = context(ws, formats=["markdown", "plain"])
    run_stage(ctx, "render")
    text = ws.path("article.txt").read_text("utf-8")
    assert text.splitlines()[0] == ctx.source.title
    assert ws.path("article.md").exists() and not ws.path("article.html").exists()


def test_a_plugin_adds_an_asr_engine(plugins, lecture_audio, tmp_path):
    run_pipeline(str(lecture_audio.video), Config(workdir=tmp_path / "w", asr="always",
                                                  asr_backend="echo"),
                 target="transcribe")
    tr = read_model(tmp_path / "w" / "transcript.json", Transcript)
    assert (tr.backend, tr.text) == ("echo", "Hello from a plugin.")
    stages = [json.loads(ln)["stage"] for ln in
              (tmp_path / "w" / ".v2a" / "stages.log").read_text().splitlines()]
    assert stages == ["ingest", "audio", "scenes", "screen", "transcribe"]


def test_an_unknown_plugin_name_in_config_is_refused():
    with pytest.raises(ValueError, match="--asr-backend 'echo' is not one of"):
        Config(asr_backend="echo")
