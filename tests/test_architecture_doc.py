"""ARCHITECTURE.md is complete and true: it names every package and every module over 150 lines,
and every module it cites exists.

A module counts as named by its path (``v2a/batch/site.py``, ``batch/site.py``), its dotted name
(``v2a.batch.site``), or by its file name (``site.py``) in a section whose text names its package
folder (``v2a/batch/``), as the per-package tables do.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "ARCHITECTURE.md"
BIG = 150  # lines: a module this long must be named


def sections(text: str) -> list[str]:
    """The doc cut at its headings (``#``, ``##``, ``###``), each with its heading."""
    return re.split(r"(?m)^(?=#{1,3} )", text)


def modules() -> dict[str, int]:
    """``v2a/x/y.py`` → its line count, for every module but packages' ``__init__``."""
    return {p.relative_to(ROOT).as_posix(): len(p.read_text("utf-8").splitlines())
            for p in sorted((ROOT / "v2a").rglob("*.py")) if p.name != "__init__.py"}


def packages() -> list[str]:
    return sorted(p.parent.relative_to(ROOT).as_posix() + "/"
                  for p in (ROOT / "v2a").rglob("__init__.py") if p.parent != ROOT / "v2a")


def named(path: str, doc: str, parts: list[str]) -> bool:
    """Whether the doc names the module (or package folder) ``path``."""
    stem = path.removesuffix(".py").removesuffix("/")
    inner = path.removeprefix("v2a/")
    if path in doc or stem.replace("/", ".") in doc or f"`{inner}" in doc or f" {inner}" in doc:
        return True
    folder, _, name = path.rpartition("/")
    return any(f"{folder}/" in part and re.search(rf"[`/ ]{re.escape(name)}\b", part)
               for part in parts)


def test_every_package_and_every_long_module_is_named():
    doc = DOC.read_text("utf-8")
    parts = sections(doc)
    missing = [p for p in packages() if not named(p, doc, parts)]
    missing += [m for m, n in modules().items() if n > BIG and not named(m, doc, parts)]
    assert missing == [], f"ARCHITECTURE.md does not name: {missing}"


def test_every_module_it_cites_exists():
    doc = DOC.read_text("utf-8")
    cited = set(re.findall(r"\bv2a(?:\.[a-z_0-9]+)+", doc))
    cited |= {c.rstrip("/") for c in re.findall(r"\bv2a/[a-z_0-9/]+(?:\.py)?", doc)}
    assert len(cited) > 30
    gone = [c for c in sorted(cited) if not exists(c)]
    assert gone == [], f"ARCHITECTURE.md cites modules that do not exist: {gone}"


def exists(cited: str) -> bool:
    """A folder or module path, a dotted module, or ``module.name`` that the module defines."""
    if "/" in cited:
        base = ROOT / cited.removesuffix(".py")
        return base.with_suffix(".py").exists() or base.is_dir()
    parts = cited.split(".")
    for n in range(len(parts), 1, -1):
        base = ROOT.joinpath(*parts[:n])
        src = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if src.exists():
            rest = parts[n:]
            return not rest or (len(rest) == 1 and re.search(
                rf"(?m)^(?:def|class) {rest[0]}\b|^{rest[0]}\b.*=", src.read_text("utf-8"))
                is not None)
    return False


def test_the_check_finds_a_missing_module():
    """The rule itself: a module is named by its path, or by its name under its package."""
    doc = "## Batch (`v2a/batch/`)\n| `site.py` | x |\n## Other\n| `v2a/audio.py` | y |\n"
    parts = sections(doc)
    assert named("v2a/batch/site.py", doc, parts) and named("v2a/audio.py", doc, parts)
    assert not named("v2a/batch/plan.py", doc, parts)
    assert not named("v2a/render/site.py", doc, parts)  # the name under another package
    assert exists("v2a.config.plugin_options") and exists("v2a/batch/") and exists("v2a.stages")
    assert not exists("v2a.llm.provider") and not exists("v2a.config.nothing_here")
