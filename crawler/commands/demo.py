"""``onionlab demo``: the whole job (lab up, crawl through Tor, score, lab down).

The lab comes from the plugin that implements ``onionlab_lab``; the crawl and its exit are
:mod:`.crawl`'s.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from onionlab.crawler import config
from onionlab.crawler.commands.crawl import add_scores, crawl_through_tor, finish
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.options import (
    data_dir_option,
    json_option,
    plugins_dir_option,
    print_json,
    sites_option,
)
from onionlab.crawler.commands.summary import err, render_summary
from onionlab.crawler.interrupt import add_forced_exit_hint
from onionlab.crawler.labstate import LabState
from onionlab.crawler.pluginmanager import get_plugins


@click.command(short_help="The whole job: lab up, crawl through Tor, score, report, lab down.")
@click.option("--seed", default=1, show_default=True, help="Seed of the lab world.")
@click.option("--scale", default=1.0, show_default=True, help="Size of the lab world.")
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="Lab obstacles: 'default' (queue, CAPTCHA, login, rate limits, link traps), "
    "'open' (none), or an instructor's TOML file.",
)
@click.option("--keep-lab", is_flag=True, help="Leave the lab running afterwards.")
@click.option("--max-seconds", default=1800, show_default=True, help="Crawl time limit.")
@sites_option()
@plugins_dir_option()
@data_dir_option()
@json_option()
def demo(
    seed: int,
    scale: float,
    profile: str,
    keep_lab: bool,
    max_seconds: int,
    sites_file: Path | None,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """Bring the lab up, crawl it through Tor, score it, write its report, take it down.

    The report is one HTML file (onionlab report) beside the runs, in
    onionlab-data/reports/<run>.html: its path is printed at the end. With --json, prints
    one object: pages, items (per type), errors, duration_s, eval (precision and recall per
    scored kind against the lab's ground truth) and report (the file's path).
    """
    lab = get_plugins().manager.hook.onionlab_lab()
    if lab is None:
        fail("No lab is installed (no plugin provides `onionlab_lab`). Reinstall onionlab.", 4)
    base = config.data_dir(data_dir)
    config.check_config_file()  # before the lab comes up, not after
    started = time.monotonic()

    def progress(message: str) -> None:
        err.print(f"[dim]lab:[/dim] {message}")

    try:
        state_path = lab.up(
            seed=seed,
            scale=scale,
            profile=profile,
            data_dir=config.lab_dir(base),
            progress=progress,
        )
    except Exception as exc:
        fail(f"the lab did not come up: {exc}", 4)
    lab_up_s = time.monotonic() - started
    if not keep_lab:  # a forced stop (Ctrl-C twice) cannot take the lab down
        add_forced_exit_hint("the lab is still running: stop it with `onionlab down`")
    try:
        state = LabState.load(state_path)
        summary = crawl_through_tor(
            urls=[s.url for s in state.services],
            socks=state.socks,
            data_dir=base,
            max_pages=1_000_000,
            max_seconds=max_seconds,
            progress=not as_json,
            state=state,
            sites=sites_file,
        )
        add_scores(summary, state.truth_path)
        summary["lab_up_s"] = round(lab_up_s, 2)
    finally:
        if not keep_lab:
            lab.down(data_dir=config.lab_dir(base))
    if not summary.get("not_saved"):
        from onionlab.crawler.commands.report import write_report

        summary["report"] = str(write_report(Path(summary["run_dir"])))
    print_json(summary) if as_json else render_summary(summary)
    if not as_json:
        err.print(f"lab up in {lab_up_s:.1f} s" + (", still running" if keep_lab else ", now down"))
        if summary.get("report"):
            err.print(f"report (open it in a browser): {summary['report']}", markup=False)
    finish(summary)
