"""``v2a book BATCH_FOLDER``: the book of a (finished or growing) batch, brought up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import Config
from ..errors import UsageError
from ..progress import console
from ..progress import plain as escape
from .build import FILES, BookResult, build_book

ALIASES = {"md": "markdown", "htm": "html", "word": "docx", "vault": "obsidian"}
DEFAULT = ["markdown", "html", "epub"]


def parse_formats(values: list[str] | None) -> list[str]:
    """``--format epub --format pdf`` or ``--format md,html,epub,pdf,docx``."""
    out = []
    for v in values or DEFAULT:
        for f in v.split(","):
            f = ALIASES.get(f.strip().lower(), f.strip().lower())
            if f and f not in FILES:
                raise UsageError(f"--format {f!r}: the book is made as one of "
                                 f"{', '.join(FILES)} (md for markdown)")
            if f:
                out.append(f)
    return list(dict.fromkeys(out))


def book_config(root: Path) -> Config:
    """The LLM options of the batch's last run (its first video's), for --summaries llm."""
    from ..pipeline import saved_config
    from ..workspace import Workspace

    for folder in sorted((root / "videos").glob("*")):
        if (folder / ".v2a" / "config.json").exists():
            return saved_config(Workspace(folder)).model_copy(update={"quiet": True})
    return Config()


def report(r: BookResult) -> None:
    kept = r.parts - r.reread
    console.print(f"book: {r.parts} parts ({r.reread} read again, {kept} unchanged), "
                  f"{r.index_terms} index terms, {r.crossrefs} cross-references; "
                  f"{r.timings.get('total', 0):.1f} s", soft_wrap=True)
    for f, path in r.outputs.items():
        state = "written" if f in r.written else "up to date"
        console.print(f"  {f:9} {escape(str(path))} ({state})")


def book(
    folder: Annotated[Path, typer.Argument(
        help="A batch folder (the one with batch.json).", show_default=False)],
    formats: Annotated[list[str] | None, typer.Option(
        "--format", metavar="FORMAT",
        help=f"Formats of the book, repeatable or comma-separated: {', '.join(FILES)} (md). "
             f"Default: {','.join(DEFAULT)}.")] = None,
    summaries: Annotated[str, typer.Option(
        "--summaries", help="The front page's summary of each part: outline (its chapter "
                            "titles, no model) or llm (one call per part, cached).")] = "outline",
    approved: Annotated[bool, typer.Option(
        "--approved", help="Publish the book only once an editor has approved every chapter "
                           "of every part (v2a review); exit code 1 before.")] = False,
) -> None:
    """The book of a batch: its videos as parts in playlist order, a front page with a summary
    of each part, contents, a glossary, an index of key terms and cross-references between
    parts, as book.md/.html/.epub/.pdf/.docx and an Obsidian folder in FOLDER/book/.

    Incremental: run it again after a video is added or re-run, and only that part is read
    again (the book's files are rewritten only when what they hold changed).
    """
    if summaries not in ("outline", "llm"):
        raise UsageError("--summaries is outline or llm")
    fmts = parse_formats(formats)
    config = book_config(folder) if summaries == "llm" else None
    with console.status("making the book …"):
        r = build_book(folder, fmts, config, summaries=summaries, approved=approved)
    report(r)
