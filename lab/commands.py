"""The lab's command-line commands and controller, plugged into ``onionlab`` through hooks.

Registered as the ``lab`` entry point of group ``onionlab``; implements hooks with its own
``HookimplMarker("onionlab")`` so that the lab never imports the crawler.
Depends on click, rich and ``onionlab.lab.controller`` (imported when a command runs: every crawl
and each of its extraction workers loads this plugin, and the controller's imports, the
site server and world generator, cost about 20 MB each time).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pluggy
from rich.console import Console
from rich.table import Table

from onionlab.lab.paths import default_lab_dir
from onionlab.lab.sites.latency import DEFAULT_LATENCY

if TYPE_CHECKING:
    from onionlab.lab.controller import Lab

hookimpl = pluggy.HookimplMarker("onionlab")
err = Console(stderr=True)

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where lab state and crawl runs live [default: ./onionlab-data or $ONIONLAB_DATA].",
)


def _lab_error(exc: Exception, code: int = 4) -> click.ClickException:
    error = click.ClickException(str(exc))
    error.exit_code = code
    return error


def _progress(message: str) -> None:
    err.print(f"[dim]lab:[/dim] {message}")


@click.command()
@click.option("--seed", default=1, show_default=True, help="Seed of the lab world.")
@click.option("--scale", default=1.0, show_default=True, help="Size of the world (1.0 = default).")
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="Obstacles: 'default' (all on, all solvable), 'open' (none), 'hostile' (default "
    "plus a malicious site and its loopback canary), or a TOML file.",
)
@click.option(
    "--latency",
    default=DEFAULT_LATENCY,
    show_default=True,
    type=click.FloatRange(0, 60),
    help="Seconds each page takes to come back, as onion services answer slowly (the lab's "
    "relays themselves answer in about 10 ms). The same for every client and every load.",
)
@click.option(
    "--foreground", is_flag=True, help="Stay running until Ctrl-C/SIGTERM, then stop the lab."
)
@data_dir_option
def up(
    seed: int,
    scale: float,
    profile: str,
    latency: float,
    foreground: bool,
    data_dir: Path | None,
) -> None:
    """Start the lab: a private Tor network and the mock onion services, on 127.0.0.1 only.

    Directory authorities, relays, an onion-service tor and a client tor run from Debian's
    tor with TestingTorNetwork; they never contact the public Tor network. The same seed
    always gives the same onion addresses. Stop it with `onionlab down`.

    \b
    Examples:
      onionlab up                      the default lab, every obstacle on
      onionlab up --profile open       no CAPTCHA, login, rate limit or traps
      onionlab up --profile hostile    and a malicious site attacking the crawler
      onionlab up --seed 2 --scale 5   another, five times larger world
      onionlab up --latency 0.5        pages as slow as on the real Tor network
    """
    from onionlab.lab.controller import Lab, LabError

    lab_dir = default_lab_dir(data_dir)
    if foreground:
        from onionlab.lab.foreground import run_foreground

        try:
            code = run_foreground(
                Lab(), seed=seed, scale=scale, data_dir=lab_dir, profile=profile,
                progress=_progress, latency=latency,
            )  # fmt: skip
        except LabError as exc:
            raise _lab_error(exc) from None
        raise SystemExit(code)
    started = time.monotonic()
    try:
        state_path = Lab().up(
            seed=seed, scale=scale, profile=profile, data_dir=lab_dir, progress=_progress,
            latency=latency,
        )  # fmt: skip
    except LabError as exc:
        raise _lab_error(exc) from None
    state = json.loads(state_path.read_text())
    table = Table(title=f"lab up in {time.monotonic() - started:.1f} s", title_justify="left")
    table.add_column("service")
    table.add_column("onion address")
    for svc in state["services"]:
        table.add_row(svc["name"], svc["url"])
    err.print(table)
    err.print(
        f"Tor SOCKS port: 127.0.0.1:{state['socks']['port']}  ·  crawl it: `onionlab crawl`"
        "  ·  stop it: `onionlab down`"
    )


@click.command()
@data_dir_option
def down(data_dir: Path | None) -> None:
    """Stop the lab's tor processes and sites."""
    from onionlab.lab.controller import Lab

    if Lab().down(data_dir=default_lab_dir(data_dir)):
        err.print("lab stopped")
    else:
        err.print("no lab was running")


@click.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(data_dir: Path | None, as_json: bool) -> None:
    """Show each onion service and whether it answers through Tor."""
    from onionlab.lab.controller import Lab

    report = Lab().status(data_dir=default_lab_dir(data_dir))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    elif not report["running"] and not report["services"]:
        err.print("no lab is running — start one with `onionlab up`")
    else:
        table = Table(
            title=f"lab (seed {report['seed']}), SOCKS {report['socks']}", title_justify="left"
        )
        for column in ("service", "onion address", "through Tor"):
            table.add_column(column)
        for svc in report["services"]:
            mark = "[green]answers[/green]" if svc["answers"] else f"[red]{svc['answer']}[/red]"
            table.add_row(svc["name"], svc["onion"], f"{mark} ({svc['seconds']} s)")
        err.print(table)
        if "canary" in report:
            _print_canary(report["canary"])
    if not all(s["answers"] for s in report["services"]) or not report["running"]:
        raise SystemExit(4)


def _print_canary(canary: dict[str, object]) -> None:
    count = canary["connections"]
    colour = "green" if count == 0 else "red"
    err.print(
        f"canary {canary['address']}: [{colour}]{count} connection(s)[/{colour}] made "
        f"outside Tor (log: {canary['log']})"
    )


@click.group(name="lab")
def lab_group() -> None:
    """The lab's world: ground truth and instructor controls (scam, move, Tor restart, health)."""


@lab_group.command()
@click.option("--seed", default=None, type=int, help="Generate for this seed instead.")
@click.option("--scale", default=1.0, show_default=True)
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="With --seed: the lab profile to generate for (only its 'hostile' switch matters).",
)
@data_dir_option
def truth(seed: int | None, scale: float, profile: str, data_dir: Path | None) -> None:
    """Print the ground truth (JSON): every listing, vendor, identifier and page URL.

    Without --seed, prints the running lab's truth; with it, generates it.
    """
    from onionlab.lab.profiles import ProfileError, load_profile

    try:
        hostile = load_profile(profile).hostile
    except ProfileError as exc:
        raise click.UsageError(str(exc)) from None
    truth_file = default_lab_dir(data_dir) / "truth.json"
    if seed is None and truth_file.exists() and (truth_file.parent / "lab.json").exists():
        click.echo(truth_file.read_text())
        return
    from onionlab.lab.world.generate import build_world
    from onionlab.lab.world.truth import truth_json

    click.echo(truth_json(build_world(1 if seed is None else seed, scale, hostile=hostile)))


@lab_group.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def canary(data_dir: Path | None, as_json: bool) -> None:
    """How many connections the hostile lab's loopback canary recorded (0 = no leak).

    Every off-site redirect, link and refresh of the malicious site points at the canary:
    a crawl that keeps to Tor never reaches it. Exit 1 when it recorded a connection,
    4 when no lab with a canary (`onionlab up --profile hostile`) is running.
    """
    from onionlab.lab.controller import Lab

    report = Lab().canary(data_dir=default_lab_dir(data_dir))
    if report is None:
        raise _lab_error(
            RuntimeError("no lab with a canary is running; start one with "
                         "`onionlab up --profile hostile`")
        )  # fmt: skip
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_canary(report)
    if report["connections"]:
        raise SystemExit(1)


@lab_group.command()
@data_dir_option
def health(data_dir: Path | None) -> None:
    """Exit 0 when every service of the running lab answers through Tor (for healthchecks)."""
    from onionlab.lab.foreground import healthy

    raise SystemExit(0 if healthy(default_lab_dir(data_dir)) else 1)


@lab_group.command(name="restart-tor")
@click.option(
    "--down",
    "down_for",
    default=3.0,
    show_default=True,
    help="Seconds the client tor stays stopped before it starts again.",
)
@data_dir_option
def restart_tor(down_for: float, data_dir: Path | None) -> None:
    """Restart the lab's client tor under a running crawl (same SOCKS and control ports).

    An exercise: a crawl should hold its requests while Tor is away and finish with
    nothing lost. Exit 4 when no lab is running or tor does not come back.
    """
    from onionlab.lab.controller import Lab, LabError
    from onionlab.lab.tornet.network import TorNetworkError

    _progress(f"stopping the client tor for {down_for:g} s")
    try:
        seconds = Lab().restart_tor(data_dir=default_lab_dir(data_dir), down_for=down_for)
    except (LabError, TorNetworkError) as exc:
        raise _lab_error(exc) from None
    _progress(f"client tor bootstrapped again in {seconds:.1f} s")


def _register_scam() -> None:
    from onionlab.lab.admin import move_command, scam_command

    lab_group.add_command(scam_command, name="scam")
    lab_group.add_command(move_command, name="move")


@hookimpl
def onionlab_register_commands(cli: click.Group) -> None:
    _register_scam()
    for command in (up, status, down, lab_group):
        cli.add_command(command)


@hookimpl
def onionlab_lab() -> Lab:
    from onionlab.lab.controller import Lab

    return Lab()
