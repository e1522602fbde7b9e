"""The end-of-run summary printed by `v2a run/transcribe/scenes`."""

from __future__ import annotations

from rich.table import Table

from .models import RunReport
from .progress import console, plain


def print_summary(report: RunReport) -> None:
    table = Table(title=None, show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("stage")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("detail", overflow="fold")
    for s in report.stages:
        color = {"ran": "green", "cached": "cyan", "failed": "red"}.get(s.status, "white")
        table.add_row(s.name, f"[{color}]{s.status}[/]", f"{s.wall_s:.1f}s" if s.wall_s else "-",
                      plain(s.detail or ""))
    console.print(table)
    u = report.usage
    if u.calls or u.cached_calls:
        cost = f", ${u.cost_usd:.4f}" if u.cost_usd is not None else ""
        est = " (estimated)" if u.estimated else ""
        console.print(f"LLM: {u.calls} calls ({u.cached_calls} cached), {u.prompt_tokens} prompt "
                      f"+ {u.completion_tokens} completion tokens{est}{cost}")
    console.print(f"work folder: {plain(report.workdir)}")
    for name, path in report.outputs.items():
        if name.startswith("article") or name.startswith("transcript."):
            console.print(f"  {name}: {plain(path)}")
