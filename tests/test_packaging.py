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
