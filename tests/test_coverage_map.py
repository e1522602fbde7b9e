"""Every module is covered by some test: imported by a test, or by what a test imports
(transitively, imports inside functions counted, the built-in plugins ``v2a.plugins`` loads by
name and the stage runners ``v2a.stages`` names as "module:function" strings included).

``NOT_IMPORTED`` lists the modules no test reaches this way, each with why; a new module must
be reached by a test or listed here with its reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.test_architecture import import_graph

ROOT = Path(__file__).resolve().parents[1]

NOT_IMPORTED = {
    "v2a.llm.local.xllamacpp_child": "run as a child process (python -m) by llm/local/xllamacpp.py",
    "v2a.ocr.base": "the OcrEngine Protocol: imported for type checking only",
}


def dynamic_edges(graph: dict[str, set[str]]) -> None:
    """Imports made by name: the built-in plugins, and the stages' runners."""
    from v2a.plugins import BUILTIN

    graph["v2a.plugins"] |= set(BUILTIN)
    src = (ROOT / "v2a" / "stages.py").read_text("utf-8")
    graph["v2a.stages"] |= {m for m in re.findall(r'"(v2a[\w.]+):\w+"', src) if m in graph}


def imported_by_tests(graph: dict[str, set[str]]) -> set[str]:
    """The v2a modules the test files import directly."""
    out: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        for n in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(n, ast.Import):
                out |= {a.name for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                out |= {n.module} | {f"{n.module}.{a.name}" for a in n.names}
    return {m for m in out if m in graph}


def reached(graph: dict[str, set[str]], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        mod = stack.pop()
        if mod in seen:
            continue
        seen.add(mod)
        stack += graph[mod]
        parts = mod.split(".")  # importing a module runs its packages' __init__ too
        stack += [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in graph]
    return seen


def test_every_module_is_reached_by_a_test():
    graph = import_graph()
    dynamic_edges(graph)
    covered = reached(graph, imported_by_tests(graph))
    assert len(covered) > 100
    uncovered = set(graph) - covered
    assert uncovered - set(NOT_IMPORTED) == set(), "no test reaches these modules"
    assert set(NOT_IMPORTED) - set(graph) == set(), "NOT_IMPORTED names modules that are gone"
    assert set(NOT_IMPORTED) & covered == set(), "now reached by a test: remove from NOT_IMPORTED"
