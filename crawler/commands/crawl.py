"""``onionlab crawl``: crawl onion sites through Tor into a run directory, or resume one.

Also what ``demo`` shares with it: :func:`crawl_through_tor` (checks, then the crawl),
:func:`add_scores` and :func:`finish` (the exit after a crawl). CLI layer over
:mod:`onionlab.crawler.runner`; Scrapy and the Tor client load only when a crawl runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from onionlab.crawler import config, exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.options import (
    data_dir_option,
    json_option,
    plugins_dir_option,
    print_json,
    sites_option,
)
from onionlab.crawler.commands.runninglab import running_lab
from onionlab.crawler.commands.sites import site_profiles
from onionlab.crawler.commands.summary import err, render_summary
from onionlab.crawler.labstate import LabState, load_truth


@click.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--socks",
    metavar="IP:PORT",
    help="Tor's SOCKS port [default: the running lab's client, from lab.json].",
)
@click.option(
    "--max-pages",
    default=1_000_000,
    show_default=True,
    help="Stop after this many pages (the summary says when it did, and how to resume).",
)
@click.option(
    "--max-seconds", default=4 * 3600, show_default=True, help="Stop after this many seconds."
)
@click.option(
    "--concurrency",
    default=32,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Requests in flight at once, over all sites (each site gets half of it at most; a "
    "--sites profile may set a site's own).",
)
@click.option("--score/--no-score", default=True, help="Score against the lab's ground truth.")
@click.option(
    "--capture/--no-capture",
    default=True,
    show_default=True,
    help="Keep every response and its request as evidence, in WARC files under RUN_DIR/warc "
    "(checked by `onionlab verify RUN_DIR`); --no-capture for huge crawls.",
)
@click.option(
    "--resume",
    "resume_dir",
    metavar="RUN_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Continue the interrupted crawl in RUN_DIR (same config, same directory; --socks "
    "may point at a new Tor port). Pages already written are not fetched again; pages "
    "that were in flight are fetched again. A finished run is left alone (exit 0); a "
    "directory that is not a run is wrong usage (exit 2); a damaged one (a garbage line, "
    "an old pickled ledger) is refused (exit 7). After a full disk (exit 6), free space "
    "and resume: the pages whose results were not saved are fetched again.",
)
@sites_option()
@plugins_dir_option()
@data_dir_option()
@json_option()
def crawl(
    urls: tuple[str, ...],
    socks: str | None,
    max_pages: int,
    max_seconds: int,
    concurrency: int,
    score: bool,
    capture: bool,
    resume_dir: Path | None,
    sites_file: Path | None,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """Crawl onion sites through Tor into a new run directory.

    Without URLS, crawls every service of the running lab (see `onionlab up`) through the
    lab's Tor client. Progress is shown live on stderr; the run directory gets items.ndjson
    (Elasticsearch bulk format), errors.ndjson, stats.json and summary.json, every response
    as evidence in warc/ (WARC files), and manifest.json: the SHA-256 of every file, which
    `onionlab verify RUN_DIR` checks.

    Every crawl can be resumed, even after kill -9: stop it with Ctrl-C (once: Scrapy
    finishes what is in flight, for at most 10 s; twice: at once) and continue with
    --resume RUN_DIR. SIGTERM does the same as Ctrl-C. summary.json then adds up every
    session (each one is kept under "sessions"; one that was killed is listed as
    "interrupted"); stats.json is the last session's; items.ndjson holds all.

    Exit codes: 0 when the crawl finished, and also when it stopped at --max-pages or
    --max-seconds (your cap: the summary says so, and how to resume); exit 130 after
    Ctrl-C or SIGTERM; 3 when Tor is not reachable; 2 for a wrong input file or data
    directory; 6 when the run directory cannot be written; 1 when the crawl failed to
    start (see `onionlab --help` for every code).

    \b
    Examples:
      onionlab crawl
      onionlab crawl --max-pages 100 --json
      onionlab crawl --socks 127.0.0.1:9050 http://<56 chars>.onion/
      onionlab crawl --sites examples/lab-sites.toml
      onionlab crawl --resume onionlab-data/runs/<run>
    """
    if resume_dir is not None:
        if urls:
            fail("--resume continues a run with its own URLs: give no URLS with it", 2)
        if not resume_dir.is_dir():
            fail(f"no run directory at {resume_dir}: nothing to resume", 2)
        config.check_config_file()
        resumed = _resume_crawl(resume_dir, socks, progress=not as_json)
        if resumed is None:
            if as_json:
                print_json({"run_dir": str(resume_dir), "resumed": False, "finished": True})
            return
        print_json(resumed) if as_json else render_summary(resumed)
        finish(resumed)
        return
    base = config.data_dir(data_dir)
    state = None
    if not urls or not socks:
        state = running_lab(base)
    start_urls = list(urls) or [s.url for s in state.services]  # type: ignore[union-attr]
    summary = crawl_through_tor(
        urls=start_urls,
        socks=socks or state.socks,  # type: ignore[union-attr]
        data_dir=base,
        max_pages=max_pages,
        max_seconds=max_seconds,
        progress=not as_json,
        state=state,
        concurrency=concurrency,
        sites=sites_file,
        capture=capture,
    )
    if score and state is not None and not summary.get("not_saved"):
        add_scores(summary, state.truth_path)
    print_json(summary) if as_json else render_summary(summary)
    finish(summary)


def _check_tor(host: str, port: int) -> None:
    from onionlab.crawler.tor.check import TorUnavailable, check_socks_is_tor

    try:
        check_socks_is_tor(host, port)
    except TorUnavailable as exc:
        fail(str(exc), 3)


def crawl_through_tor(
    *,
    urls: list[str],
    socks: str,
    data_dir: Path,
    max_pages: int,
    max_seconds: int,
    progress: bool,
    state: LabState | None = None,
    sites: Path | None = None,
    concurrency: int = 32,
    capture: bool = True,
) -> dict[str, Any]:
    """Check the SOCKS address, the ``--sites`` file, ``onionlab.toml`` and Tor, then crawl
    ``urls`` into a new run directory under ``data_dir``; the crawl's summary."""
    from onionlab.crawler.runner import CrawlConfig
    from onionlab.crawler.tor.handler import parse_socks_address

    try:
        host, port = parse_socks_address(socks)
    except ValueError as exc:
        fail(str(exc), exitcodes.USAGE)
    if sites is not None:
        site_profiles(sites, state)  # wrong usage stops here, before Tor is touched
    config.check_config_file()  # onionlab.toml: ConfigError (exit 2) before the crawl
    _check_tor(host, port)
    run = _new_run_dir(data_dir)
    if progress:
        err.print(f"crawling {len(urls)} site(s) through Tor at {socks} → {run.path}")
    return _run_saving(
        run.path,
        CrawlConfig(
            start_urls=urls,
            socks=socks,
            run_dir=run.path,
            max_pages=max_pages,
            max_seconds=max_seconds,
            concurrency=concurrency,
            per_site_concurrency=max(1, concurrency // 2),
            progress=progress,
            # The lab's Tor control port: lets the crawler ask for new circuits (NEWNYM).
            tor_control=state.control if state and socks == state.socks else "",
            tor_control_cookie=state.control_cookie if state and socks == state.socks else "",
            site_profiles=str(sites.resolve()) if sites else "",
            site_services=state.site_hosts() if state else {},
            capture=capture,
            lab_seed=str(state.seed) if state and socks == state.socks else "",
        ),
    )


def _run_saving(run_dir: Path, config: Any) -> dict[str, Any]:
    """``run_crawl(config)``; a run directory that cannot even be written (its config.json,
    on a full disk) is exit 6 with what to do."""
    from onionlab.crawler.runner import run_crawl
    from onionlab.crawler.runs.rundir import WriteFailed

    try:
        return run_crawl(config)
    except WriteFailed as exc:
        fail(
            f"the crawl could not start: {exc}; free space, then: onionlab crawl --resume "
            f"{run_dir}",
            exitcodes.NOT_SAVED,
        )


def _new_run_dir(data_dir: Path) -> Any:
    """A new run directory under ``data_dir``, or one clear line: which path, what to do."""
    from onionlab.crawler.runs.rundir import RunDir

    runs = config.runs_dir(data_dir)
    try:
        return RunDir.create(runs)
    except (FileExistsError, NotADirectoryError):
        culprit = next((p for p in (runs, data_dir) if p.exists() and not p.is_dir()), runs)
        fail(
            f"cannot create a run directory under {runs}: {culprit} is a file, not a "
            "directory; give --data-dir another directory",
            exitcodes.USAGE,
        )
    except OSError as exc:
        fail(
            f"cannot create a run directory under {runs}: {exc.strerror or exc}; give "
            "--data-dir a directory you can write to (or free space)",
            exitcodes.NOT_SAVED,
        )


def _resume_crawl(run_dir: Path, socks: str | None, progress: bool) -> dict[str, Any] | None:
    """Continue the crawl in ``run_dir`` with its stored config; None if it had finished.

    Every file the resume reads back is checked first: a damaged one (a garbage line, an old
    pickled ledger) is one clear error line, exit 7, and nothing of it is executed.
    """
    from onionlab.crawler.runner import CrawlConfig
    from onionlab.crawler.runs.ledger import check_resumable
    from onionlab.crawler.runs.rundir import RunDirDamaged
    from onionlab.crawler.tor.handler import parse_socks_address

    config_path = run_dir / "config.json"
    if not config_path.is_file():
        fail(f"{run_dir} is not a crawl run directory (no config.json): nothing to resume", 2)
    try:
        stored = CrawlConfig.load(config_path)
        state = check_resumable(run_dir)
    except RunDirDamaged as exc:
        fail(str(exc), exitcodes.DAMAGED)
    if state.sessions and state.last_close == "finished":
        err.print(f"{run_dir} finished its crawl already: nothing to resume")
        return None
    stored.run_dir = run_dir
    stored.progress = progress
    stored.socks = socks or stored.socks
    try:
        host, port = parse_socks_address(stored.socks)
    except ValueError as exc:
        fail(str(exc), 2)
    _check_tor(host, port)
    if progress:
        err.print(f"resuming the crawl in {run_dir} through Tor at {stored.socks}")
    return _run_saving(run_dir, stored)


def finish(summary: dict[str, Any]) -> None:
    """After a crawl's summary is shown: exit 6 if not all was saved, say how to resume a
    crawl that stopped early, exit 130 if it was interrupted; else return (exit 0)."""
    _not_saved_exit(summary)
    _resume_hint(summary)
    _exit_for(summary)


def _not_saved_exit(summary: dict[str, Any]) -> None:
    """After a crawl whose results could not all be written: say what and why, exit 6."""
    not_saved = summary.get("not_saved")
    if not not_saved:
        return
    records = ", ".join(f"{n} {what}" for what, n in not_saved.get("records", {}).items())
    files = ", ".join(not_saved.get("files", []))
    lost = "; ".join(part for part in (records and f"not written: {records}", files) if part)
    fail(
        f"the crawl stopped: its results could not be saved ({not_saved['error']})"
        + (f"; {lost}" if lost else "")
        + f". {not_saved['advice']}",
        exitcodes.NOT_SAVED,
    )


CAPS = {
    "closespider_pagecount": "the page cap (--max-pages)",
    "closespider_timeout": "the time cap (--max-seconds)",
}
"""Scrapy finish reasons of a crawl stopped by a cap the user set: exit 0, with a note."""


def _resume_hint(summary: dict[str, Any]) -> None:
    """After a crawl that stopped early (Ctrl-C, a cap), say how to continue it; one line."""
    reason = summary.get("finish_reason", "")
    if not reason or reason == "finished":
        return
    resume = f"resume with: onionlab crawl --resume {summary['run_dir']}"
    if summary.get("interrupted_by"):
        line = f"crawl interrupted ({summary['interrupted_by']}); {resume}"
    elif reason in CAPS:
        left = (summary.get("dropped") or {}).get("page_cap")
        unfetched = f", {left} requests not fetched" if left else ""
        line = f"crawl stopped at {CAPS[reason]}{unfetched}; {resume}"
    else:
        line = f"crawl stopped ({reason}); {resume}"
    err.print(line, markup=False, soft_wrap=True)  # one line, to copy as it is


def _exit_for(summary: dict[str, Any]) -> None:
    """Exit 130 after a crawl Ctrl-C or SIGTERM stopped (resumable); else return (exit 0)."""
    if summary.get("interrupted_by"):
        raise click.exceptions.Exit(exitcodes.INTERRUPTED)


def add_scores(summary: dict[str, Any], truth_path: Path) -> None:
    """Score the crawl's run directory against ``truth_path`` into ``summary["eval"]``."""
    from onionlab.crawler.runs.rundir import RunDir
    from onionlab.crawler.scoring import evaluate

    summary["eval"] = evaluate(RunDir(Path(summary["run_dir"])), load_truth(truth_path))
