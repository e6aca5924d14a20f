"""``onionlab eval``: score a crawl's run directory against the lab's ground truth.

CLI layer over :func:`onionlab.crawler.scoring.evaluate`; the tables are
:mod:`.summary`'s.
"""

from __future__ import annotations

from pathlib import Path

import click

from onionlab.crawler import config, exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.options import data_dir_option, json_option, print_json
from onionlab.crawler.commands.runninglab import running_lab
from onionlab.crawler.commands.summary import err, is_summary, render_summary
from onionlab.crawler.labstate import load_truth


@click.command(name="eval")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ground truth JSON [default: the running lab's truth.json].",
)
@data_dir_option()
@json_option()
def eval_command(run_dir: Path, truth: Path | None, data_dir: Path | None, as_json: bool) -> None:
    """Score a crawl's RUN_DIR against the lab's ground truth (precision and recall).

    A directory that is not an onionlab run, or a damaged one (a truncated or garbage
    items.ndjson or summary.json), is one error line naming the file and line (exit 7).
    """
    from onionlab.crawler.runs.rundir import RunDir, RunDirDamaged
    from onionlab.crawler.scoring import evaluate

    run = RunDir(run_dir)
    if not run.items.is_file():
        fail(
            f"{run_dir} is not an onionlab run directory (no items.ndjson): give the directory "
            "of a crawl, e.g. onionlab-data/runs/<run>",
            exitcodes.DAMAGED,
        )
    truth_path = truth or running_lab(config.data_dir(data_dir)).truth_path
    try:
        result = evaluate(run, load_truth(truth_path))
        summary = None if as_json else run.read_json(run.summary)
    except RunDirDamaged as exc:
        fail(str(exc), exitcodes.DAMAGED)
    if as_json:
        print_json(result)
        return
    if summary is None or not is_summary(summary):
        err.print(f"{run.summary} is missing or incomplete: showing the scores only")
        summary = {"pages": 0, "items": {}, "errors": 0, "errors_by_kind": {}}
        summary |= {"duration_s": 0, "pages_per_s": 0, "run_dir": str(run_dir)}
        summary["items"] = run.count_documents()
    summary["eval"] = result
    render_summary(summary)
