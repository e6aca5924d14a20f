"""``onionlab report``: one self-contained HTML file with the analyst's views of a run.

CLI layer over :mod:`onionlab.crawler.report` (plotly is loaded only when a report is made).
The file goes beside the runs, never into the run directory (its manifest stays true).
"""

from __future__ import annotations

from pathlib import Path

import click

from onionlab.crawler import exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.summary import err


def default_path(run_dir: Path) -> Path:
    """``<data>/reports/<run>.html`` for a run in ``<data>/runs``, else ``<run>-report.html``
    beside it."""
    if run_dir.resolve().parent.name == "runs":
        return run_dir.resolve().parent.parent / "reports" / f"{run_dir.resolve().name}.html"
    return run_dir.resolve().with_name(f"{run_dir.resolve().name}-report.html")


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the report of ``run_dir``; its path (RunDirDamaged if the run is damaged)."""
    from onionlab.crawler.report.page import render
    from onionlab.crawler.report.views import build
    from onionlab.crawler.runs.rundir import RunDir

    path = out or default_path(run_dir)
    document = render(build(RunDir(run_dir)))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(document, encoding="utf-8")
    temporary.replace(path)
    return path


@click.command(name="report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the HTML file [default: onionlab-data/reports/<run>.html, beside "
    "the runs].",
)
def report_command(run_dir: Path, out: Path | None) -> None:
    """Write one HTML file with the analyst's views of the crawl in RUN_DIR.

    Listings per market; median price per gram by substance and market, and by city; where
    a gram is cheapest; vendors linked across markets (PGP keys, contacts, wallets);
    addresses and contacts seen on several sites; crawl health. Charts are plotly's, with
    plotly.js inside the file: open it in any browser, with no network and no Docker. The
    file is written beside the runs, never into RUN_DIR.

    Exit codes: 0; 7 when RUN_DIR is damaged or is not an onionlab run.

    \b
    Examples:
      onionlab report onionlab-data/runs/<run>
      onionlab report onionlab-data/runs/<run> --out /tmp/market.html
    """
    from onionlab.crawler.runs.rundir import RunDirDamaged

    if not (run_dir / "items.ndjson").is_file():
        fail(
            f"{run_dir} is not an onionlab run directory (no items.ndjson): give the "
            "directory of a crawl, e.g. onionlab-data/runs/<run>",
            exitcodes.DAMAGED,
        )
    try:
        path = write_report(run_dir, out)
    except RunDirDamaged as exc:
        fail(str(exc), exitcodes.DAMAGED)
    err.print(f"report written: {path}", markup=False, highlight=False)
    click.echo(str(path))
