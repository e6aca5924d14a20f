"""``onionlab sites``: check a per-site crawl profile file and show what each site gets.

Also :func:`site_profiles`, the check ``crawl`` and ``demo`` run on their ``--sites`` file
before Tor is touched. CLI layer over :mod:`onionlab.crawler.sitepolicy`.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from onionlab.crawler import config, exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.options import (
    data_dir_option,
    json_option,
    plugins_dir_option,
    print_json,
)
from onionlab.crawler.commands.runninglab import running_lab_or_none
from onionlab.crawler.commands.summary import err
from onionlab.crawler.labstate import LabState
from onionlab.crawler.pluginmanager import get_plugins
from onionlab.crawler.sitepolicy import SiteProfileError, SiteProfiles, load_profiles


def site_profiles(path: Path, state: LabState | None) -> SiteProfiles:
    """Load and check a site-profile file against the installed plugins and the lab (exit 2)."""
    known = [info.name for info in get_plugins().plugins if not info.error]
    try:
        return load_profiles(
            path, services=state.site_hosts() if state else {}, known_plugins=known
        )
    except SiteProfileError as exc:
        fail(str(exc), exitcodes.USAGE)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@plugins_dir_option()
@data_dir_option()
@json_option()
def sites(file: Path, data_dir: Path | None, as_json: bool) -> None:
    """Check a per-site crawl profile FILE and show what each site gets.

    Names in FILE such as [sites.market] are the running lab's services (see `onionlab
    status`); without a running lab, use onion hosts as keys. Exit 2 when FILE is wrong,
    with the table and key at fault.

    \b
    Example:
      onionlab sites examples/lab-sites.toml
    """
    state = running_lab_or_none(config.data_dir(data_dir))
    profiles = site_profiles(file, state)
    rows = [{"hosts": ["*"], **profiles.defaults.as_dict()}]
    by_name: dict[str, list[str]] = {}
    for host, profile in profiles.by_host.items():
        by_name.setdefault(profile.name, []).append(host)
    for hosts in by_name.values():
        rows.append({"hosts": hosts, **profiles.by_host[hosts[0]].as_dict()})
    if as_json:
        print_json(rows)
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
