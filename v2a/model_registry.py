"""`v2a models`: the packaged offline models (Whisper, GGUF) — what exists, what is ready."""

from __future__ import annotations

from rich.table import Table

from .progress import console


def _registries():
    from .llm import gguf
    from .transcribe import whisper_models

    return [("whisper", whisper_models), ("llm", gguf)]


def describe_models(prepare: bool = False) -> None:
    """Print every packaged model; with ``prepare`` assemble/verify them now."""
    table = Table(box=None, header_style="bold")
    for col in ("kind", "name", "ready", "description", "path"):
        table.add_column(col, overflow="fold")
    for kind, reg in _registries():
        for m in reg.list_packaged():
            if prepare and m.get("installed", True) and not m["ready"]:
                console.print(f"preparing {kind} model {m['name']} ...")
                m["path"] = str(reg.prepare(m["name"]))
                m["ready"] = True
            table.add_row(kind, m["name"], "yes" if m["ready"] else "no",
                          m.get("description", ""), str(m.get("path") or ""))
    console.print(table)
