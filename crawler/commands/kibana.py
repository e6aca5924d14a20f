"""``onionlab kibana``: bundle the saved objects, wait for Kibana, import them.

CLI layer over :mod:`onionlab.crawler.kibana.bundle` and :mod:`onionlab.crawler.kibana.client`;
loaded by :mod:`onionlab.crawler.commands` only when ``kibana`` runs or is listed. Settings:
flags, else environment. The CA certificate is ``ONIONLAB_CA_CERT``, the one ``onionlab index``
reads too; the deprecated ``ONIONLAB_ES_CA_CERT`` is read after it, with a warning.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from onionlab.crawler import exitcodes
from onionlab.crawler.commands.errors import CommandError, err, print_warning
from onionlab.crawler.commands.options import json_option, print_json
from onionlab.crawler.kibana.bundle import BundleError, build
from onionlab.crawler.kibana.client import KibanaClient, KibanaError, KibanaNotReady

EXIT_NOT_READY = exitcodes.SERVICE
EXIT_CODES = f"""\b
Exit codes:
  0  every object imported (or the bundle was written)
  1  the bundle is invalid, or Kibana refused the import or some objects (each is listed)
  2  wrong usage
  {EXIT_NOT_READY}  Kibana was not serving within --wait seconds (unreachable, or its Elasticsearch
     or saved-objects service unavailable; a degraded plugin does not count)
"""
CA_CERT_ENV = "ONIONLAB_CA_CERT"
DEPRECATED_CA_CERT_ENV = "ONIONLAB_ES_CA_CERT"  # read after CA_CERT_ENV, with a warning
# The repository's kibana/objects/ (a source checkout); containers pass
# ONIONLAB_KIBANA_OBJECTS or --objects instead.
DEFAULT_OBJECTS = Path(__file__).resolve().parents[2] / "kibana" / "objects"


def _error(message: str, exit_code: int = exitcodes.FAILED) -> CommandError:
    """A failure shown as ``error:`` lines (one per line of ``message``)."""
    return CommandError(message, exit_code, each_line=True)


objects_option = click.option(
    "--objects",
    "objects_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ONIONLAB_KIBANA_OBJECTS",
    default=DEFAULT_OBJECTS,
    show_default="kibana/objects of this checkout, or $ONIONLAB_KIBANA_OBJECTS",
    help="Directory of saved-object JSON files (one object per file).",
)


def _deprecated_ca_cert() -> Path | None:
    """The CA certificate named by the deprecated variable, if set (with a warning)."""
    value = os.environ.get(DEPRECATED_CA_CERT_ENV, "")
    if not value:
        return None
    print_warning(f"{DEPRECATED_CA_CERT_ENV} is deprecated: set {CA_CERT_ENV}")
    path = Path(value).expanduser()
    if not path.is_file():
        message = f"CA certificate not found: {value} (from ${DEPRECATED_CA_CERT_ENV})"
        raise _error(message, 2)
    return path


def _bundle(objects_dir: Path) -> bytes:
    try:
        return build(objects_dir)
    except BundleError as exc:
        raise _error("\n".join(["invalid saved objects:", *exc.problems])) from exc


@click.group(epilog=EXIT_CODES)
def kibana() -> None:
    """Kibana as code: the onionlab data views, searches, visualisations and dashboards.

    \b
    The saved objects live as JSON files in kibana/objects/ (see docs/kibana.md):
      onionlab kibana bundle --out onionlab.ndjson   write the import file
      onionlab kibana setup                          wait for Kibana, then import them
    """


@kibana.command()
@objects_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    show_default="stdout",
    help="Where to write the NDJSON bundle.",
)
def bundle(objects_dir: Path, out: Path) -> None:
    """Validate the saved objects and write them as one NDJSON file.

    The file imports in Kibana (Stack Management → Saved objects → Import) exactly like
    `onionlab kibana setup` does it. The same files always give the same bytes.
    """
    data = _bundle(objects_dir)
    if str(out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out.write_bytes(data)
    err.print(f"wrote {len(data.splitlines())} saved objects to {out}", markup=False)


@kibana.command()
@objects_option
@click.option(
    "--url",
    envvar="ONIONLAB_KIBANA_URL",
    default="http://127.0.0.1:5601",
    show_default=True,
    help="Kibana's base URL [env: ONIONLAB_KIBANA_URL].",
)
@click.option(
    "--user", envvar="ONIONLAB_KIBANA_USER", help="Basic-auth user [env: ONIONLAB_KIBANA_USER]."
)
@click.option(
    "--password",
    envvar="ONIONLAB_KIBANA_PASSWORD",
    help="Prefer the environment: flags show in the process list [env: ONIONLAB_KIBANA_PASSWORD].",
)
@click.option(
    "--ca-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar=CA_CERT_ENV,
    help=f"CA certificate for an https:// Kibana [env: {CA_CERT_ENV}].",
)
@click.option("--space", help="Import into this Kibana space instead of the default one.")
@click.option(
    "--wait",
    "max_wait",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="Seconds to wait for Kibana to serve (core available; degraded plugins are accepted).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.01),
    default=5.0,
    show_default=True,
    help="Seconds between two status checks while waiting.",
)
@json_option(help="Print the import result as JSON.")
def setup(
    objects_dir: Path,
    url: str,
    user: str | None,
    password: str | None,
    ca_cert: Path | None,
    space: str | None,
    max_wait: float,
    interval: float,
    as_json: bool,
) -> None:
    """Wait until Kibana serves, then import every saved object (overwriting).

    Kibana serves when its core services (Elasticsearch, saved objects) are available or
    degraded: a Kibana that reports itself degraded for a plugin (task manager at start,
    say) is imported into, and the command says so.

    Idempotent: run it again after editing kibana/objects/. Every object Kibana refuses
    is listed with its reason, and the exit code is then 1.
    """
    data = _bundle(objects_dir)
    ca_cert = ca_cert or _deprecated_ca_cert()
    try:
        client = KibanaClient(
            url, user=user, password=password, ca_cert=ca_cert, space=space or None
        )
    except ValueError as exc:
        raise _error(str(exc), 2) from exc
    try:
        waited = client.wait_until_ready(
            max_wait, interval=interval, report=lambda line: err.print(line, markup=False)
        )
        if waited >= 1:
            err.print(f"Kibana at {url} is serving after {waited:.0f} s", markup=False)
        result = client.import_objects(data, overwrite=True)
    except KibanaNotReady as exc:
        raise _error(str(exc), EXIT_NOT_READY) from exc
    except KibanaError as exc:
        raise _error(str(exc)) from exc
    if as_json:
        summary = {
            "success": result.success,
            "successCount": result.success_count,
            "errors": result.errors,
        }
        print_json(summary)
    total = len(data.splitlines())
    if not result.success or result.errors:
        lines = result.error_lines() or ["Kibana reported success: false without errors"]
        raise _error(
            "\n".join([f"imported {result.success_count} of {total} saved objects", *lines])
        )
    err.print(
        f"imported {result.success_count} of {total} saved objects into Kibana at {url}",
        markup=False,
    )
