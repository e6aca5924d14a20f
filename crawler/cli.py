"""The ``onionlab`` command: parses flags, calls the services, renders results.

Thin by design: crawling is in :mod:`onionlab.crawler.runner`, scoring in
:mod:`onionlab.crawler.scoring`; lab commands (``up``, ``status``, ``down``, ``lab``) come from the
lab plugin through the ``onionlab_register_commands`` hook, so the core never imports the lab.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from onionlab.crawler import config, exitcodes
from onionlab.crawler.interrupt import add_forced_exit_hint
from onionlab.crawler.labstate import LabNotRunning, LabState, load_truth
from onionlab.crawler.plugin_commands import extract_command, plugins_new, plugins_test
from onionlab.crawler.pluginmanager import call_each, get_plugins
from onionlab.crawler.sitepolicy import SiteProfiles

err = Console(stderr=True)

EXIT_CODES = exitcodes.HELP


class OnionlabError(click.ClickException):
    """An error shown as one clear line, with its exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        message = escape(self.format_message())  # one line, however long (soft_wrap)
        err.print(f"[bold red]error:[/bold red] {message}", soft_wrap=True)


def fail(message: str, exit_code: int = 1) -> NoReturn:
    raise OnionlabError(message, exit_code)


def _os_error_text(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}:{where}" if where else str(exc.strerror or exc)


class OnionlabGroup(click.Group):
    """The root command: every command's failure becomes one clear line and an exit code.

    Ctrl-C outside a crawl exits 130; a bad data directory or configuration file 2; a
    crawl that could not start or whose engine failed 1; a file-system error 1 (with the
    path). Anything else unexpected is one line too (``ONIONLAB_DEBUG=1`` re-raises it,
    with its traceback).
    """

    # Commands whose modules load big clients (Elasticsearch's is 17 MB): imported when
    # run or listed, so a crawl never carries them (click's "lazily loading subcommands").
    lazy_commands: ClassVar[dict[str, str]] = {
        "index": "onionlab.crawler.sinks.elastic.commands:index",
        "kibana": "onionlab.crawler.kibana.commands:kibana",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, _, name = self.lazy_commands[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from onionlab.crawler.runner import CrawlFailed

        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise OnionlabError("interrupted (Ctrl-C)", exitcodes.INTERRUPTED) from None
        except config.ConfigError as exc:
            raise OnionlabError(str(exc), exitcodes.USAGE) from None
        except CrawlFailed as exc:  # wrong input read at the start: 2; anything else: 1
            wrong_input = isinstance(exc.cause, config.ConfigError)
            raise OnionlabError(
                str(exc), exitcodes.USAGE if wrong_input else exitcodes.FAILED
            ) from None
        except OSError as exc:
            if os.environ.get("ONIONLAB_DEBUG"):
                raise
            raise OnionlabError(_os_error_text(exc), exitcodes.FAILED) from None
        except Exception as exc:
            if os.environ.get("ONIONLAB_DEBUG"):
                raise
            raise OnionlabError(
                f"unexpected {type(exc).__name__}: {exc} (ONIONLAB_DEBUG=1 shows the "
                "traceback; please report it)",
                exitcodes.FAILED,
            ) from None


@click.group(
    cls=OnionlabGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.version_option(package_name="onionlab")
def cli() -> None:
    """onionlab — crawl a laboratory darknet of Tor onion services, safely, on this machine.

    \b
    Quick start (everything stays on 127.0.0.1, nothing touches the real Tor network):
      onionlab demo            bring the lab up, crawl it through Tor, score, take it down
      onionlab up              start the lab (private Tor network + mock sites)
      onionlab status          which onion services answer through Tor
      onionlab crawl           crawl the running lab through Tor into a run directory
      onionlab eval RUNDIR     score a run against the lab's ground truth
      onionlab down            stop the lab

    Data (lab state, crawl runs) goes to ./onionlab-data, or --data-dir / $ONIONLAB_DATA.
    """


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def _plural(kind: str) -> str:
    words = kind.replace("_", " ")
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _items_text(items: dict[str, int]) -> str:
    return ", ".join(f"{count} {_plural(kind)}" for kind, count in sorted(items.items())) or "none"


def render_summary(summary: dict[str, Any]) -> None:
    """Print a crawl summary (and its eval, when present) as tables on stderr."""
    table = Table(title="crawl summary", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value")
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


def _lab_state(data_dir: Path) -> LabState:
    try:
        return LabState.load(config.lab_dir(data_dir) / "lab.json")
    except LabNotRunning as exc:
        fail(str(exc), 4)


def _check_tor(host: str, port: int) -> None:
    from onionlab.crawler.tor.check import TorUnavailable, check_socks_is_tor

    try:
        check_socks_is_tor(host, port)
    except TorUnavailable as exc:
        fail(str(exc), 3)


def _crawl(
    *,
    urls: list[str],
    socks: str,
    data_dir: Path,
    max_pages: int,
    max_seconds: int,
    progress: bool,
    state: LabState | None = None,
    sites: Path | None = None,
) -> dict[str, Any]:
    from onionlab.crawler.runner import CrawlConfig
    from onionlab.crawler.tor.handler import parse_socks_address

    try:
        host, port = parse_socks_address(socks)
    except ValueError as exc:
        fail(str(exc), 2)
    if sites is not None:
        _site_profiles(sites, state)  # wrong usage stops here, before Tor is touched
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
            progress=progress,
            # The lab's Tor control port: lets the crawler ask for new circuits (NEWNYM).
            tor_control=state.control if state and socks == state.socks else "",
            tor_control_cookie=state.control_cookie if state and socks == state.socks else "",
            site_profiles=str(sites.resolve()) if sites else "",
            site_services=state.site_hosts() if state else {},
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


def _score(summary: dict[str, Any], truth_path: Path) -> None:
    from onionlab.crawler.runs.rundir import RunDir
    from onionlab.crawler.scoring import evaluate

    summary["eval"] = evaluate(RunDir(Path(summary["run_dir"])), load_truth(truth_path))


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where lab state and crawl runs live [default: ./onionlab-data or $ONIONLAB_DATA].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
sites_option = click.option(
    "--sites",
    "sites_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ONIONLAB_SITES",
    help="Per-site crawl profiles (TOML): which plugins extract and pass the gate on each "
    "site, and its depth, page, concurrency and delay limits [env: ONIONLAB_SITES; "
    "example: examples/lab-sites.toml; check one with `onionlab sites FILE`].",
)


plugins_dir_option = click.option(
    "--plugins-dir",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    expose_value=False,  # applied before parsing: see _early_plugins_dir
    help="Also load the *.py plugins in DIR [env: ONIONLAB_PLUGINS_DIR].",
)


def _site_profiles(path: Path, state: LabState | None) -> SiteProfiles:
    """Load and check a site-profile file against the installed plugins and the lab."""
    from onionlab.crawler.sitepolicy import SiteProfileError, load_profiles

    known = [info.name for info in get_plugins().plugins if not info.error]
    try:
        return load_profiles(
            path, services=state.site_hosts() if state else {}, known_plugins=known
        )
    except SiteProfileError as exc:
        fail(str(exc), 2)


@cli.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--socks",
    metavar="IP:PORT",
    help="Tor's SOCKS port [default: the running lab's client, from lab.json].",
)
@click.option("--max-pages", default=50_000, show_default=True, help="Stop after this many pages.")
@click.option(
    "--max-seconds", default=4 * 3600, show_default=True, help="Stop after this many seconds."
)
@click.option("--score/--no-score", default=True, help="Score against the lab's ground truth.")
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
@sites_option
@plugins_dir_option
@data_dir_option
@json_option
def crawl(
    urls: tuple[str, ...],
    socks: str | None,
    max_pages: int,
    max_seconds: int,
    score: bool,
    resume_dir: Path | None,
    sites_file: Path | None,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """Crawl onion sites through Tor into a new run directory.

    Without URLS, crawls every service of the running lab (see `onionlab up`) through the
    lab's Tor client. Progress is shown live on stderr; the run directory gets items.ndjson
    (Elasticsearch bulk format), errors.ndjson, stats.json and summary.json.

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
                _print_json({"run_dir": str(resume_dir), "resumed": False, "finished": True})
            return
        _print_json(resumed) if as_json else render_summary(resumed)
        _not_saved_exit(resumed)
        _resume_hint(resumed)
        _exit_for(resumed)
        return
    base = config.data_dir(data_dir)
    state = None
    if not urls or not socks:
        state = _lab_state(base)
    start_urls = list(urls) or [s.url for s in state.services]  # type: ignore[union-attr]
    summary = _crawl(
        urls=start_urls,
        socks=socks or state.socks,  # type: ignore[union-attr]
        data_dir=base,
        max_pages=max_pages,
        max_seconds=max_seconds,
        progress=not as_json,
        state=state,
        sites=sites_file,
    )
    if score and state is not None and not summary.get("not_saved"):
        _score(summary, state.truth_path)
    _print_json(summary) if as_json else render_summary(summary)
    _not_saved_exit(summary)
    _resume_hint(summary)
    _exit_for(summary)


@cli.command(name="eval")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ground truth JSON [default: the running lab's truth.json].",
)
@data_dir_option
@json_option
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
    truth_path = truth or _lab_state(config.data_dir(data_dir)).truth_path
    try:
        result = evaluate(run, load_truth(truth_path))
        summary = None if as_json else run.read_json(run.summary)
    except RunDirDamaged as exc:
        fail(str(exc), exitcodes.DAMAGED)
    if as_json:
        _print_json(result)
        return
    if summary is None or not _is_summary(summary):
        err.print(f"{run.summary} is missing or incomplete: showing the scores only")
        summary = {"pages": 0, "items": {}, "errors": 0, "errors_by_kind": {}}
        summary |= {"duration_s": 0, "pages_per_s": 0, "run_dir": str(run_dir)}
        summary["items"] = run.count_documents()
    summary["eval"] = result
    render_summary(summary)


def _is_summary(summary: dict[str, Any]) -> bool:
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


@cli.command(short_help="The whole job: lab up, crawl through Tor, score, lab down.")
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
@sites_option
@plugins_dir_option
@data_dir_option
@json_option
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
    """Bring the lab up, crawl it through Tor, score it, take it down: the whole job.

    With --json, prints one object: pages, items (per type), errors, duration_s and eval
    (precision and recall per scored kind against the lab's ground truth).
    """
    import time

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
        summary = _crawl(
            urls=[s.url for s in state.services],
            socks=state.socks,
            data_dir=base,
            max_pages=50_000,
            max_seconds=max_seconds,
            progress=not as_json,
            state=state,
            sites=sites_file,
        )
        _score(summary, state.truth_path)
        summary["lab_up_s"] = round(lab_up_s, 2)
    finally:
        if not keep_lab:
            lab.down(data_dir=config.lab_dir(base))
    _print_json(summary) if as_json else render_summary(summary)
    if not as_json:
        err.print(f"lab up in {lab_up_s:.1f} s" + (", still running" if keep_lab else ", now down"))
    _not_saved_exit(summary)
    _resume_hint(summary)
    _exit_for(summary)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@plugins_dir_option
@data_dir_option
@json_option
def sites(file: Path, data_dir: Path | None, as_json: bool) -> None:
    """Check a per-site crawl profile FILE and show what each site gets.

    Names in FILE such as [sites.market] are the running lab's services (see `onionlab
    status`); without a running lab, use onion hosts as keys. Exit 2 when FILE is wrong,
    with the table and key at fault.

    \b
    Example:
      onionlab sites examples/lab-sites.toml
    """
    try:
        lab_json = config.lab_dir(config.data_dir(data_dir)) / "lab.json"
        state: LabState | None = LabState.load(lab_json)
    except LabNotRunning:
        state = None
    profiles = _site_profiles(file, state)
    rows = [{"hosts": ["*"], **profiles.defaults.as_dict()}]
    by_name: dict[str, list[str]] = {}
    for host, profile in profiles.by_host.items():
        by_name.setdefault(profile.name, []).append(host)
    for hosts in by_name.values():
        rows.append({"hosts": hosts, **profiles.by_host[hosts[0]].as_dict()})
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"site profiles from {file}", title_justify="left")
    for column in ("site", "plugins", "gate", "limits", "allow/deny"):
        table.add_column(column, overflow="fold")
    for row in rows:
        hosts = "\n".join(h[:12] + "…" if len(h) > 20 else h for h in row["hosts"])
        rules = [f"+{p}" for p in row["allow"]] + [f"-{p}" for p in row["deny"]]
        limits = [
            f"depth {row['depth'] or '∞'}",
            f"pages {row['max_pages'] or '∞'}",
            f"{row['concurrency'] or 'crawl default'} at once",
            f"delay {row['delay']:g} s",
        ]
        table.add_row(
            f"{row['name']}\n[dim]{hosts}[/dim]",
            "\n".join(row["plugins"]),
            "\n".join(row["gate"]) or "(none)",
            "\n".join(limits),
            "\n".join(rules) or "–",
        )
    err.print(table)


@cli.group()
def plugins() -> None:
    """Inspect, write and test plugins."""


@plugins.command(name="list")
@plugins_dir_option
@json_option
def plugins_list(as_json: bool) -> None:
    """List plugins: name, version, hooks, where each comes from, load errors."""
    loaded = get_plugins()
    rows = [info.as_dict() for info in loaded.plugins]
    if as_json:
        _print_json(rows)
        return
    table = Table(title="plugins", title_justify="left")
    for column in ("name", "version", "hooks", "source", "status"):
        table.add_column(column)
    for row in rows:
        status = "[red]failed to load[/red]" if row["error"] else "ok"
        table.add_row(row["name"], row["version"], ", ".join(row["hooks"]), row["source"], status)
    err.print(table)
    for info in loaded.errors:
        err.print(f"{info.error}\n{info.traceback}", markup=False, style="red")


cli.add_command(extract_command)
plugins.add_command(plugins_new)
plugins.add_command(plugins_test)


def _early_plugins_dir(argv: list[str]) -> str | None:
    """``--plugins-dir DIR`` anywhere on the command line (like pytest's ``-p``).

    Plugins are loaded before click parses the command line, because plugins add
    commands; so this one option is read first and handed on as ``ONIONLAB_PLUGINS_DIR``.
    """
    for index, arg in enumerate(argv):
        if arg == "--plugins-dir" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--plugins-dir="):
            return arg.partition("=")[2]
    return None


def main() -> None:
    """Entry point of the ``onionlab`` console script."""
    plugins_dir = _early_plugins_dir(sys.argv[1:])
    if plugins_dir:
        os.environ["ONIONLAB_PLUGINS_DIR"] = str(Path(plugins_dir).resolve())
    try:
        loaded = get_plugins()
        for _name, _ in call_each(loaded.manager, "onionlab_register_commands", cli=cli):
            pass
    except KeyboardInterrupt:  # Ctrl-C while plugins load: before any command ran
        err.print("[bold red]error:[/bold red] interrupted (Ctrl-C)")
        sys.exit(exitcodes.INTERRUPTED)
    for info in loaded.errors:
        err.print(f"warning: {info.error} (`onionlab plugins list` shows more)", markup=False)
    cli(prog_name="onionlab")


if __name__ == "__main__":
    sys.exit(main())
