"""Renders a crawl's summary and its scores as rich tables on stderr (crawl, demo, eval).

The view layer for :func:`onionlab.crawler.runner.run_crawl`'s summary and
:func:`onionlab.crawler.scoring.evaluate`'s result. Depends on rich only.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

err = Console(stderr=True)


def _plural(kind: str) -> str:
    words = kind.replace("_", " ")
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _items_text(items: dict[str, int]) -> str:
    return ", ".join(f"{count} {_plural(kind)}" for kind, count in sorted(items.items())) or "none"


def render_summary(summary: dict[str, Any]) -> None:
    """Print a crawl summary (and its eval, when present) as tables on stderr."""
    table = Table(title="crawl summary", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", overflow="fold")  # a hash is shown whole, never cut
    table.add_row("pages fetched", str(summary["pages"]))
    table.add_row("items", _items_text(summary["items"]))
    errors = summary["errors"]
    table.add_row("errors", f"[red]{errors}[/red] {summary['errors_by_kind']}" if errors else "0")
    dropped = summary.get("dropped") or {}
    if dropped:  # left out on purpose (budgets, traps) or not kept: every reason counted
        table.add_row("left out", ", ".join(f"{n} {why}" for why, n in dropped.items()))
    table.add_row("duration", f"{summary['duration_s']} s ({summary['pages_per_s']} pages/s)")
    if (
        "sites" in summary
    ):  # per-site liveness (downloadermiddlewares.liveness); gone = vanished mid-crawl
        sites, gone = summary["sites"], ", ".join(summary["sites"]["gone_hosts"])
        moved = ", ".join(f"{a} → {b}" for a, b in sites.get("moved", {}).items())
        table.add_row(
            "sites",
            f"{sites['up']} up, {sites['down']} down, "
            + (f"[red]{sites['gone']} gone ({gone})[/red]" if gone else "0 gone")
            + (f", [yellow]moved: {moved}[/yellow]" if moved else ""),
        )
    table.add_row("run directory", summary["run_dir"])
    evidence = _evidence_text(summary)
    if evidence:
        table.add_row("evidence", evidence)
    err.print(table)
    if "eval" in summary:
        rows = _eval_rows(summary["eval"])
        scores = Table(title="score against ground truth", title_justify="left")
        for column in ("kind", "precision", "recall", "found", "expected", "decoys accepted"):
            if column == "kind":
                scores.add_column(column, no_wrap=True)
            else:
                scores.add_column(column, justify="right")
        for kind, score in rows.items():
            decoys = score.get("decoys_accepted")
            scores.add_row(
                kind,
                f"{score['precision']:.3f}",
                f"{score['recall']:.3f}",
                str(score["found"]),
                str(score["expected"]),
                "" if decoys is None else (f"[red]{decoys}[/red]" if decoys else "0"),
            )
        err.print(scores)
        per_site = {k: v for k, v in rows.items() if k in ("listings", "vendors", "pages")}
        sites = sorted({site for score in per_site.values() for site in score.get("by_site", {})})
        if len(sites) > 1:
            err.print(_per_site_table(per_site, sites))


def _eval_rows(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One row per scored kind; entity types as ``entity <type>`` rows."""
    rows = {kind: score for kind, score in result.items() if kind != "entities"}
    for kind, score in result.get("entities", {}).items():
        rows[f"entity {kind}"] = score
    return rows


def _per_site_table(scores: dict[str, Any], sites: list[str]) -> Table:
    """Recall per site and kind: which sites the installed extractors cover."""
    table = Table(title="recall per site", title_justify="left")
    table.add_column("site")
    kinds = list(scores)
    for kind in kinds:
        table.add_column(kind, justify="right")
    for site in sites:
        cells = []
        for kind in kinds:
            score = scores[kind].get("by_site", {}).get(site)
            if score is None or not score["expected"]:
                cells.append("[dim]–[/dim]")
            else:
                colour = "green" if score["recall"] >= 0.995 else "yellow"
                cells.append(f"[{colour}]{score['recall']:.3f}[/{colour}] of {score['expected']}")
        table.add_row(site, *cells)
    return table


def is_summary(summary: dict[str, Any]) -> bool:
    """Whether ``summary`` has what :func:`render_summary` shows."""
    return (
        isinstance(summary.get("pages"), int)
        and isinstance(summary.get("items"), dict)
        and isinstance(summary.get("errors"), int)
        and isinstance(summary.get("errors_by_kind"), dict)
        and isinstance(summary.get("duration_s"), (int, float))
        and isinstance(summary.get("pages_per_s"), (int, float))
        and isinstance(summary.get("run_dir"), str)
        and isinstance(summary.get("dropped", {}), dict)
        and (
            "sites" not in summary
            or (
                isinstance(summary["sites"], dict)
                and all(k in summary["sites"] for k in ("up", "down", "gone", "gone_hosts"))
            )
        )
    )


def _evidence_text(summary: dict[str, Any]) -> str:
    """The run's WARC files and its manifest's SHA-256 (to note in a case file)."""
    parts = []
    capture = summary.get("capture") or {}
    if capture.get("files"):
        megabytes = capture.get("bytes", 0) / 1e6
        parts.append(
            f"{capture.get('records', 0)} WARC records in {capture['files']} file(s), "
            f"{megabytes:.1f} MB (warc/)"
        )
    if summary.get("manifest_sha256"):
        parts.append(f"manifest.json sha256 {summary['manifest_sha256']}")
        parts.append(f"check with: onionlab verify {summary['run_dir']}")
    return "\n".join(parts)
