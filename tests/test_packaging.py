"""The files the package reads at run time are inside the package, so a wheel install has them."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import v2a
from v2a.llm.prompts import SHIPPED, TEMPLATES

ROOT = Path(__file__).resolve().parent.parent


def test_prompts_ship_inside_the_package():
    # v2a/prompts is the editable top-level prompts/ folder (a symlink in the checkout)
    assert SHIPPED.resolve() == (ROOT / "prompts").resolve()
    assert SHIPPED.parent == Path(v2a.__file__).parent
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["v2a"]
    for name in TEMPLATES:
        assert (SHIPPED / name).is_file(), name
        assert any(fnmatch(f"prompts/{name}", g) for g in globs), name


def _default_closure(requirements: list[str]) -> set[str]:
    """The distributions a plain ``pip install v2a`` brings (extras' requirements left out)."""
    import re
    from importlib import metadata

    seen: set[str] = set()
    todo = [r for r in requirements if "extra ==" not in r]
    while todo:
        name = re.split(r"[\s;<>=!~\[(]", todo.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += [r for r in metadata.requires(name) or [] if "extra ==" not in r]
        except metadata.PackageNotFoundError:
            pass
    return seen


def test_every_module_v2a_imports_comes_with_a_plain_install():
    """A module that only arrives with the dev tools (rapidfuzz came with jiwer) breaks the
    README's first command on a fresh machine while every test run passes."""
    import ast
    import sys
    from importlib import metadata

    root = Path(v2a.__file__).parent
    spec = tomllib.loads((root.parent / "pyproject.toml").read_text())["project"]
    closure = _default_closure(spec["dependencies"])
    optional = {m.lower().replace("_", "-") for reqs in spec["optional-dependencies"].values()
                for r in reqs for m in [r.split("[")[0].split(">")[0].split("=")[0].strip()]}
    dists = metadata.packages_distributions()
    missing = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                node.module else []
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "v2a":
                    continue
                owners = {d.lower().replace("_", "-") for d in dists.get(top, [])}
                if owners and not owners & (closure | optional):
                    missing.add(f"{top} ({', '.join(sorted(owners))}) in {path.name}")
    assert not missing, sorted(missing)
