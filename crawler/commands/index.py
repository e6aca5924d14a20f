"""``onionlab index``: set up the indices, load a run directory, show the cluster's state.

CLI layer over :mod:`onionlab.crawler.sinks.elastic.provision` and
:mod:`onionlab.crawler.sinks.elastic.load`; loaded by :mod:`onionlab.crawler.commands` only
when ``index`` runs or is listed (the Elasticsearch client is 17 MB). Settings: flags >
environment > ``onionlab.toml`` (see :mod:`onionlab.crawler.sinks.elastic.client`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from elasticsearch import Elasticsearch
from rich.table import Table

from onionlab.crawler import config, exitcodes
from onionlab.crawler.commands.errors import err, fail, print_error, print_warning
from onionlab.crawler.commands.options import data_dir_option, json_option, print_json
from onionlab.crawler.pluginmanager import call_each, get_plugins
from onionlab.crawler.runs.manifest import record_change
from onionlab.crawler.runs.rundir import RunDirDamaged, WriteFailed
from onionlab.crawler.sinks.elastic import provision
from onionlab.crawler.sinks.elastic.client import (
    START_HINT,
    ElasticConfigError,
    ElasticSettings,
    make_client,
    resolve_settings,
)
from onionlab.crawler.sinks.elastic.load import check_run_dir, load_run_dir
from onionlab.crawler.sinks.elastic.spool import SPOOL_FILE, Spool

EXIT_FAILED, EXIT_USAGE = exitcodes.FAILED, exitcodes.USAGE
EXIT_UNAVAILABLE, EXIT_DAMAGED = exitcodes.SERVICE, exitcodes.DAMAGED
EXIT_CODES = f"""\b
Exit codes:
  0  success
  {EXIT_FAILED}  some documents were rejected or not indexed, or a template could not be applied
  {EXIT_USAGE}  wrong usage (bad URL, missing CA file, not a run directory)
  {EXIT_UNAVAILABLE}  Elasticsearch is not reachable or refused the credentials
  {EXIT_DAMAGED}  the run directory is damaged (a truncated or garbage file: the message names it)
"""


def es_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--es-url``, ``--es-user``, ``--ca-cert`` (the password only from the environment)."""
    for option in reversed(
        (
            click.option("--es-url", help="Elasticsearch URL [env: ONIONLAB_ES_URL]."),
            click.option("--es-user", help="Basic-auth user [env: ONIONLAB_ES_USER]."),
            click.option(
                "--ca-cert",
                "--es-ca-cert",
                "es_ca_cert",
                type=click.Path(dir_okay=False),
                help="CA certificate of an https cluster [env: ONIONLAB_CA_CERT].",
            ),
            json_option(),
        )
    ):
        command = option(command)
    return command


def _settings(es_url: str | None, es_user: str | None, es_ca_cert: str | None) -> ElasticSettings:
    try:
        settings = resolve_settings({"url": es_url, "user": es_user, "ca_cert": es_ca_cert})
    except ElasticConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    for warning in settings.warnings:
        print_warning(warning)
    if not settings.configured:
        fail(f"no Elasticsearch URL: pass --es-url or set ONIONLAB_ES_URL ({START_HINT})", 2)
    return settings


def _connect(settings: ElasticSettings) -> Elasticsearch:
    client = make_client(settings)
    try:
        provision.check_reachable(client, settings.url)
    except provision.ElasticUnavailable as exc:
        fail(str(exc), EXIT_UNAVAILABLE)
    return client


def _setup(client: Elasticsearch, as_json: bool) -> provision.SetupReport:
    contributions = list(call_each(get_plugins().manager, "onionlab_index_fields"))
    report = provision.setup(client, contributions)
    for conflict in report.conflicts:
        print_warning(str(conflict))
    if not as_json:
        changed = report.changed()
        for step in changed:
            detail = f" ({step.detail})" if step.detail else ""
            err.print(f"{step.action} {step.what} {step.name}{detail}")
        unchanged = sum(1 for step in report.steps if step.action == provision.UNCHANGED)
        err.print(f"setup: {len(changed)} created or updated, {unchanged} unchanged")
    for step in report.steps:
        if step.action == provision.FAILED:
            print_error(f"{step.what} {step.name}: {step.detail}")
    return report


@click.group(epilog=EXIT_CODES)
def index() -> None:
    """Elasticsearch: set up the onionlab indices, load crawl runs, check the cluster.

    \b
    Quick start (docs/elasticsearch.md has the index design):
      export ONIONLAB_ES_URL=https://127.0.0.1:9200 ONIONLAB_ES_USER=elastic
      export ONIONLAB_ES_PASSWORD=... ONIONLAB_CA_CERT=certs/ca/ca.crt
      onionlab index setup
      onionlab index load onionlab-data/runs/<run>
      onionlab index status
    """


@index.command(epilog=EXIT_CODES)
@es_options
def setup(es_url: str | None, es_user: str | None, es_ca_cert: str | None, as_json: bool) -> None:
    """Apply the index templates and create the aliases (idempotent: run it any time).

    Plugins' fields (hook onionlab_index_fields) are merged into the templates. Says what it
    created or updated; running it twice changes nothing the second time.
    """
    client = _connect(_settings(es_url, es_user, es_ca_cert))
    report = _setup(client, as_json)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "steps": [step.as_dict() for step in report.steps],
                "conflicts": [str(conflict) for conflict in report.conflicts],
            }
        )
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


@index.command(epilog=EXIT_CODES)
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--setup/--no-setup",
    "run_setup",
    default=True,
    show_default=True,
    help="Apply templates and aliases first (idempotent).",
)
@es_options
def load(
    run_dir: Path,
    run_setup: bool,
    es_url: str | None,
    es_user: str | None,
    es_ca_cert: str | None,
    as_json: bool,
) -> None:
    """Load a crawl's RUN_DIR into Elasticsearch: items, crawl events and the spool.

    Idempotent: loading the same run twice leaves the same documents (ids are
    deterministic). What Elasticsearch rejects or cannot take now stays in RUN_DIR/spool.ndjson
    with the reason; fix the cause and run load again.
    """
    if not (run_dir / "items.ndjson").exists() and not (run_dir / SPOOL_FILE).exists():
        fail(f"{run_dir} is not a crawl run directory (no items.ndjson)", EXIT_USAGE)
    try:  # a damaged run is one clear line (file, line), before anything is sent
        check_run_dir(run_dir)
    except RunDirDamaged as exc:
        fail(str(exc), EXIT_DAMAGED)
    client = _connect(_settings(es_url, es_user, es_ca_cert))
    if run_setup and not _setup(client, as_json=True).ok:
        fail("index setup failed: see the errors above (onionlab index setup)")
    if not as_json:
        err.print(f"loading {run_dir} …")
    try:
        report = load_run_dir(client, run_dir)
    except RunDirDamaged as exc:
        fail(str(exc), EXIT_DAMAGED)
    except WriteFailed as exc:  # the spool of what was not indexed (disk full)
        fail(f"{exc}: free space, then load again (onionlab index load {run_dir})")
    summary = report.as_dict()
    sealed = record_change(run_dir, [SPOOL_FILE], "onionlab index load", "spool replayed")
    if sealed is not None:
        summary["manifest_sha256"] = sealed
    if as_json:
        print_json(summary)
    else:
        table = Table(title=f"loaded {run_dir.name}", title_justify="left")
        for column in ("alias", "read", "indexed"):
            table.add_column(column, justify="left" if column == "alias" else "right")
        for alias, read in summary["read"].items():  # type: ignore[union-attr]
            table.add_row(alias, str(read), str(report.bulk.indexed.get(alias, 0)))
        err.print(table)
        err.print(
            f"{summary['indexed_total']} indexed "
            f"({summary['replayed_from_spool']} from the spool), "
            f"{summary['rejected']} rejected, {summary['unavailable']} unavailable"
        )
        for error in summary["errors"]:  # type: ignore[union-attr]
            err.print(f"  {error}", markup=False)
        if sealed is not None:
            err.print(f"{SPOOL_FILE} changed: recorded in manifest.json, now sha256 {sealed}")
    if summary["rejected"] or summary["unavailable"]:
        spool = run_dir / SPOOL_FILE
        fail(
            f"not every document was indexed: the rest is in {spool}; fix the cause and load again"
        )


@index.command(epilog=EXIT_CODES)
@click.argument("run_dirs", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@data_dir_option(
    help="Where crawl runs live, for spool sizes [default: ./onionlab-data or $ONIONLAB_DATA]."
)
@es_options
def status(
    run_dirs: tuple[Path, ...],
    data_dir: Path | None,
    es_url: str | None,
    es_user: str | None,
    es_ca_cert: str | None,
    as_json: bool,
) -> None:
    """Is the cluster reachable, how many documents each alias holds, what the spools hold.

    Spools are read from RUN_DIRS, else from every run under the data directory.
    """
    dirs = list(run_dirs) or sorted(config.runs_dir(config.data_dir(data_dir)).glob("*"))
    spools = {
        str(path): dict(Spool.of_run_dir(path).sizes())
        for path in dirs
        if (path / SPOOL_FILE).exists()
    }
    settings = _settings(es_url, es_user, es_ca_cert)
    result: dict[str, Any] = {"url": settings.url, "spools": spools}
    client = make_client(settings)
    try:
        info = provision.check_reachable(client, settings.url)
        result.update(reachable=True, version=info.get("version", {}).get("number"))
        result["aliases"] = provision.alias_counts(client)
    except provision.ElasticUnavailable as exc:
        result.update(reachable=False, error=str(exc))
    if as_json:
        print_json(result)
    else:
        if result["reachable"]:
            err.print(f"Elasticsearch {result['version']} at {settings.url}: reachable")
            table = Table(title="documents per alias", title_justify="left")
            for column in ("alias", "indices", "documents"):
                table.add_column(column, justify="right" if column == "documents" else "left")
            for alias, entry in result["aliases"].items():
                indices = ", ".join(entry["indices"]) if entry["exists"] else "[red]missing[/red]"
                table.add_row(alias, indices, str(entry["docs"]))
            err.print(table)
        for path, sizes in spools.items():
            text = ", ".join(f"{n} {reason}" for reason, n in sorted(sizes.items()))
            err.print(f"spool {path}: {text}", markup=False)
        if not spools:
            err.print("no spooled documents")
    if not result["reachable"]:
        fail(result["error"], EXIT_UNAVAILABLE)
