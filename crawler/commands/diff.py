"""``onionlab diff``: what changed between two crawls (new, gone and changed things).

CLI layer over :func:`onionlab.crawler.runs.diff.diff_runs`: a table of counts, then for each
kind the new, the gone and the changed (``--limit`` lines each; ``--json`` gives all).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from onionlab.crawler import exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.options import json_option, print_json

out = Console(highlight=False, soft_wrap=True)


def _change(field: str, was: Any, now: Any) -> str:
    """``price_usd 40.00 → 35.00``; for lists, what was added and removed."""
    if isinstance(was, list) and isinstance(now, list):
        added = [f"+{value}" for value in now if value not in was]
        removed = [f"−{value}" for value in was if value not in now]
        return f"{field} {' '.join(added + removed)}"
    return f"{field} {was} → {now}"


@click.command(name="diff")
@click.argument("first", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("second", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(0),
    help="Lines shown of each list (new, gone, changed) of each kind; 0: all.",
)
@json_option()
def diff_command(first: Path, second: Path, limit: int, as_json: bool) -> None:
    """What changed from the crawl in FIRST to the crawl in SECOND (give the older first).

    Compares listings (by site and listing id: price, vendor, title, stock), vendors (by
    site and handle: PGP key, wallets), pages (by URL: status, title, length), crypto
    addresses (by value: the sites they were seen on) and sites (their state: a market that
    answered in FIRST and is gone in SECOND has vanished, e.g. in an exit scam). Prints a
    table of counts, then the new, gone and changed things of each kind.

    Exit codes: 0 (also when things changed: that is the answer, not an error); 7 when a
    run directory is damaged or is not an onionlab run.

    \b
    Examples:
      onionlab diff onionlab-data/runs/<older> onionlab-data/runs/<newer>
      onionlab diff RUN_A RUN_B --json | jq '.listings.changed'
    """
    from onionlab.crawler.runs.diff import diff_runs
    from onionlab.crawler.runs.rundir import RunDir, RunDirDamaged

    runs = (RunDir(first), RunDir(second))
    for run in runs:
        if not run.items.is_file():
            fail(
                f"{run.path} is not an onionlab run directory (no items.ndjson): give the "
                "directories of two crawls, e.g. onionlab-data/runs/<run>",
                exitcodes.DAMAGED,
            )
    try:
        result = diff_runs(*runs)
    except RunDirDamaged as exc:
        fail(str(exc), exitcodes.DAMAGED)
    if as_json:
        print_json({"first": str(first), "second": str(second)} | {
            name: kind.as_dict() for name, kind in result.items()
        })  # fmt: skip
        return
    table = Table(title=f"{first.name} → {second.name}", title_justify="left")
    for column in ("kind", "first", "second", "new", "gone", "changed"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for name, kind in result.items():
        table.add_row(
            name, *map(str, (*kind.total, len(kind.new), len(kind.gone), len(kind.changed)))
        )
    out.print(table)
    for name, kind in result.items():
        sections = (("new", kind.new), ("gone", kind.gone))
        for title, labels in sections:
            _print_list(f"{name} {title}", [escape(label) for label in labels], limit)
        changed = [
            escape(label + ": " + "; ".join(_change(f, *values) for f, values in fields.items()))
            for label, fields in kind.changed
        ]
        _print_list(f"{name} changed", changed, limit)


def _print_list(title: str, lines: list[str], limit: int) -> None:
    if not lines:
        return
    out.print(f"[bold]{title}[/bold] ({len(lines)})")
    shown = lines if limit == 0 else lines[:limit]
    for line in shown:
        out.print(f"  {line}")
    if len(shown) < len(lines):
        out.print(f"  … {len(lines) - len(shown)} more (--limit 0 shows all, --json everything)")
