"""Instructor controls of a running lab, through the site server's admin socket.

``scam(lab_dir, "market")`` makes a site disappear, as in an exit scam (its listeners close:
connection refused); ``site_status(lab_dir)`` says which sites are up. The socket is the
one the site server named in ``sites.ready.json`` (else ``<lab_dir>/sites.sock``).
``scam_command`` is the click command ``onionlab lab scam SITE``.
Depends on the standard library, click and ``onionlab.lab.paths``; never on the crawler.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from typing import Any

import click

from onionlab.lab.paths import default_lab_dir

ADMIN_SOCKET_NAME = "sites.sock"  # the same name as onionlab.lab.sites.serve.ADMIN_SOCKET_NAME
READY_FILE_NAME = "sites.ready.json"


class AdminError(RuntimeError):
    """The admin request failed; the message says why and what to do."""


class NoLabError(AdminError):
    """No site server is running in the lab directory."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(os.fspath(self._path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


def admin_socket(lab_dir: Path) -> Path:
    """Where the running site server of ``lab_dir`` listens for admin requests."""
    ready = Path(lab_dir) / READY_FILE_NAME
    try:
        named = json.loads(ready.read_text()).get("admin_socket")
    except (OSError, ValueError, AttributeError):
        named = None
    return Path(named) if named else Path(lab_dir) / ADMIN_SOCKET_NAME


def _request(lab_dir: Path, method: str, path: str, timeout: float) -> tuple[int, Any]:
    sock_path = admin_socket(lab_dir)
    if not sock_path.exists():
        raise NoLabError(
            f"no lab site server is running in {lab_dir} (no admin socket {sock_path}); "
            "start the lab with `onionlab up`"
        )
    conn = _UnixConnection(sock_path, timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read()
    except (ConnectionRefusedError, FileNotFoundError):
        raise NoLabError(
            f"the lab site server in {lab_dir} is not running (stale socket {sock_path}); "
            "start the lab with `onionlab up`"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise AdminError(f"the lab site server did not answer on {sock_path}: {exc}") from None
    finally:
        conn.close()
    try:
        data = json.loads(body)
    except ValueError:
        raise AdminError(f"unexpected answer from the site server: {body[:200]!r}") from None
    return response.status, data


def scam(lab_dir: Path, site: str, *, timeout: float = 10.0) -> None:
    """Make ``site`` disappear for good (exit scam); AdminError if it cannot."""
    status, data = _request(lab_dir, "POST", f"/scam/{site}", timeout)
    if status != 200:
        raise AdminError(data.get("error") or f"exit scam of {site} failed (HTTP {status})")


def move(lab_dir: Path, site: str, *, back: bool = False, timeout: float = 10.0) -> None:
    """Take ``site``'s main address down, its mirrors up (``back``: undo); AdminError if not."""
    status, data = _request(lab_dir, "POST", f"/move/{site}" + ("?back=1" if back else ""), timeout)
    if status != 200:
        raise AdminError(data.get("error") or f"moving {site} failed (HTTP {status})")


def site_status(lab_dir: Path, *, timeout: float = 10.0) -> dict[str, Any]:
    """``{"pid", "profile", "sites": {site: {"up", "scammed", "listeners", …}}}``."""
    status, data = _request(lab_dir, "GET", "/status", timeout)
    if status != 200:
        raise AdminError(data.get("error") or f"status request failed (HTTP {status})")
    return data


@click.command("scam")
@click.argument("site")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where lab state and crawl runs live [default: ./onionlab-data or $ONIONLAB_DATA].",
)
def scam_command(site: str, data_dir: Path | None) -> None:
    """Make SITE disappear, as in an exit scam.

    Its onion address stops answering (connection refused) for the rest of the lab's life;
    the other sites keep answering. `onionlab status` shows it.
    """
    lab_dir = default_lab_dir(data_dir)
    try:
        scam(lab_dir, site)
    except AdminError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = 4 if isinstance(exc, NoLabError) else 1
        raise error from None
    click.echo(f"{site} has disappeared (exit scam): its address now refuses connections", err=True)


@click.command("move")
@click.argument("site")
@click.option("--back", is_flag=True, help="Bring SITE back to its main address.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where lab state and crawl runs live [default: ./onionlab-data or $ONIONLAB_DATA].",
)
def move_command(site: str, back: bool, data_dir: Path | None) -> None:
    """Move SITE to its mirror: its main address stops answering, its mirrors go on.

    An exercise: a crawler that reads the site's signed mirrors.txt carries on through the
    mirror and loses nothing. Only a site with a mirror can move (the bazaar in the lab).
    """
    lab_dir = default_lab_dir(data_dir)
    try:
        move(lab_dir, site, back=back)
    except AdminError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = 4 if isinstance(exc, NoLabError) else 1
        raise error from None
    if back:
        click.echo(f"{site} answers on its main address again", err=True)
    else:
        click.echo(f"{site} moved: its main address refuses, its mirrors answer", err=True)
