"""Options several ``onionlab`` commands share: data and plugins directories, sites, JSON.

Each is defined here once, as a factory (``@data_dir_option()``), and rendered the same in
every command's ``--help``; a command whose option means something narrower passes its own
help text. Also what the options give: the loaded plugins, JSON on stdout. Depends on click,
rich, :mod:`onionlab.crawler.pluginmanager` and :mod:`.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from onionlab.crawler.commands.errors import fail
from onionlab.crawler.pluginmanager import LoadedPlugins, get_plugins, load_plugins

F = TypeVar("F", bound=Callable[..., Any])

warnings = Console(stderr=True, highlight=False)

DATA_DIR_HELP = "Where lab state and crawl runs live [default: ./onionlab-data or $ONIONLAB_DATA]."


def data_dir_option(help: str = DATA_DIR_HELP) -> Callable[[F], F]:
    """``--data-dir DIR`` (``None`` when not given: :func:`config.data_dir` decides)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=help,
    )


def json_option(help: str = "Print one JSON object.") -> Callable[[F], F]:
    """``--json``, given to the command as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def sites_option() -> Callable[[F], F]:
    """``--sites FILE``: the per-site crawl profiles (see ``onionlab sites``)."""
    return click.option(
        "--sites",
        "sites_file",
        metavar="FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="ONIONLAB_SITES",
        help="Per-site crawl profiles (TOML): which plugins extract and pass the gate on each "
        "site, and its depth, page, concurrency and delay limits [env: ONIONLAB_SITES; "
        "example: examples/lab-sites.toml; check one with `onionlab sites FILE`].",
    )


def plugins_dir_option(*, value: bool = False) -> Callable[[F], F]:
    """``--plugins-dir DIR``: also load the ``*.py`` plugins in DIR.

    It is read before click parses the command line (plugins add commands: see
    ``_early_plugins_dir`` in :mod:`onionlab.crawler.commands`) and handed on as
    ``ONIONLAB_PLUGINS_DIR``, so by default the command never sees it. With ``value``,
    the command is given the directory too and loads it itself (:func:`loaded_plugins`):
    the plugin author's commands, which name a missing directory in their own words.
    """
    if value:
        return click.option(
            "--plugins-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Also load the *.py plugins in this directory [default: $ONIONLAB_PLUGINS_DIR].",
        )
    return click.option(
        "--plugins-dir",
        metavar="DIR",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        expose_value=False,  # applied before parsing: see _early_plugins_dir
        help="Also load the *.py plugins in DIR [env: ONIONLAB_PLUGINS_DIR].",
    )


def loaded_plugins(plugins_dir: Path | None) -> LoadedPlugins:
    """The installed plugins, plus those in ``plugins_dir`` (their load errors reported)."""
    if plugins_dir is None:
        return get_plugins()
    if not plugins_dir.is_dir():
        fail(f"--plugins-dir {plugins_dir}: no such directory", 2)
    loaded = load_plugins(plugins_dir)
    for info in loaded.errors:
        if info.source == "directory":
            warnings.print(f"warning: {info.error}\n{info.traceback}", markup=False)
    return loaded


def print_json(data: Any) -> None:
    """``data`` as one indented JSON object on stdout (keys sorted)."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def print_json_line(data: Any) -> None:
    """``data`` as one JSON Lines record on stdout (keys sorted)."""
    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str))
