"""``onionlab plugins``: list the plugins, write a new one, test one alone.

CLI layer over :mod:`onionlab.crawler.pluginmanager`, :mod:`onionlab.crawler.kit.scaffold`
and :mod:`onionlab.crawler.kit.check`; the page tables are :mod:`.pagereport`'s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from onionlab.crawler import config
from onionlab.crawler.commands.errors import fail, print_error
from onionlab.crawler.commands.options import (
    data_dir_option,
    json_option,
    loaded_plugins,
    plugins_dir_option,
    print_json,
    print_json_line,
)
from onionlab.crawler.commands.runninglab import running_lab
from onionlab.crawler.commands.summary import err
from onionlab.crawler.pluginmanager import LoadedPlugins, get_plugins

out = Console(highlight=False)


@click.group()
def plugins() -> None:
    """Inspect, write and test plugins."""


@plugins.command(name="list")
@plugins_dir_option()
@json_option()
def plugins_list(as_json: bool) -> None:
    """List plugins: name, version, hooks, where each comes from, load errors."""
    loaded = get_plugins()
    rows = [info.as_dict() for info in loaded.plugins]
    if as_json:
        print_json(rows)
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


@plugins.command(name="new", short_help="Write a new plugin NAME with its test and a sample page.")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    help="Where to create the NAME/ project directory [default: the current directory].",
)
def plugins_new(name: str, parent: Path) -> None:
    """Write a new plugin NAME: a working module, its tests and a sample saved page.

    Creates NAME/NAME.py (the plugin), NAME/tests/test_NAME.py and
    NAME/tests/pages/sample.html. The tests pass as written: change the sample page for
    a page saved from your site, then the selectors until they pass again.
    """
    from onionlab.crawler.kit.scaffold import ScaffoldError, new_plugin

    taken = {info.name for info in get_plugins().plugins}
    try:
        project = new_plugin(name, parent, taken)
    except ScaffoldError as exc:
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"cannot write the plugin into {parent}: {exc}", 1)

    inside = project.root.resolve().is_relative_to(Path.cwd())

    def shown(path: Path) -> str:
        return os.path.relpath(path) if inside else str(path.resolve())

    root, sample = shown(project.root), shown(project.sample)
    load_dir = f'"$PWD/{root}"' if inside else root
    click.echo(
        f"Created plugin {name!r} in {root}/:\n"
        f"  {shown(project.plugin):<40} the plugin (one onionlab_extract hook)\n"
        f"  {shown(project.test):<40} its tests\n"
        f"  {sample:<40} a saved page it reads\n"
        "\nNext:\n"
        f"  pytest {root}/tests\n"
        f"  onionlab extract --plugins-dir {root} {sample}\n"
        f"  onionlab plugins test --plugins-dir {root} {name} {sample}\n"
        "Load it in every command (crawl too):\n"
        f"  export ONIONLAB_PLUGINS_DIR={load_dir}"
    )


@plugins.command(name="test")
@click.argument("name")
@click.argument("pages", nargs=-1, type=click.Path(path_type=Path))
@click.option("--site", metavar="URL|NAME", help="Crawl this live lab site instead of PAGES.")
@click.option(
    "--pages",
    "max_pages",
    default=20,
    show_default=True,
    help="About how many pages to crawl (requests in flight still finish).",
)
@data_dir_option(
    help="Where the running lab is, and the crawl run goes [default: ./onionlab-data]."
)
@plugins_dir_option(value=True)
@json_option(help="Print one JSON object per page.")
def plugins_test(
    name: str,
    pages: tuple[Path, ...],
    site: str | None,
    max_pages: int,
    data_dir: Path | None,
    plugins_dir: Path | None,
    as_json: bool,
) -> None:
    """Run plugin NAME alone over saved PAGES, or over a live lab site with --site.

    Shows what the plugin found on each page (counts by kind, identifiers by type) and
    where it raised. PAGES are files or directories. --site takes a URL or a service name
    of the running lab (`onionlab up`) and crawls about --pages pages from it through the
    lab's Tor with only NAME making items (plugins that make none, such as the lab's
    obstacle gate, stay on); the run directory is kept.

    Exit code 1 when the plugin raised, could not be loaded or a page could not be read.

    \b
    Examples:
      onionlab plugins test market_listings saved/
      onionlab plugins test --plugins-dir my_market my_market my_market/tests/pages
      onionlab plugins test bazaar --site bazaar --pages 30
    """
    from onionlab.crawler.commands.pagereport import render_plugin_pages, render_site_check
    from onionlab.crawler.kit import check as plugin_check

    if bool(pages) == bool(site):
        fail("give saved PAGES or --site URL (one of them)", 2)
    loaded = loaded_plugins(plugins_dir)
    try:
        plugin = plugin_check.find_plugin(loaded, name)
    except plugin_check.CheckError as exc:
        fail(str(exc), exc.exit_code)

    if site:
        check = _check_site(loaded, name, site, max_pages, data_dir, plugins_dir)
        if as_json:
            for url, counts in check.pages.items():
                print_json_line({"url": url, "found": counts})
            print_json_line({"run_dir": str(check.run_dir), "errors": check.errors})
        else:
            render_site_check(name, check, out)
        if check.errors:
            fail(f"plugin {name!r} raised {check.errors} time(s); see {check.run_dir}/crawl.log")
        return

    result = plugin_check.check_pages(plugin, pages)
    for page in result.unreadable:
        print_error(page.read_error)
    if as_json:
        for page in result.pages:
            if not page.read_error:
                found = plugin_check.count_items(page.items)
                errors = [e.as_dict() for e in page.errors]
                print_json_line({"file": page.file, "found": found, "errors": errors})
    else:
        render_plugin_pages(name, result, out)
    raised = sum(len(page.errors) for page in result.pages) + len(result.link_errors)
    if raised:
        fail(f"plugin {name!r} raised {raised} time(s)")
    if result.unreadable:
        fail(f"{len(result.unreadable)} page(s) could not be read")


def _check_site(
    loaded: LoadedPlugins,
    name: str,
    site: str,
    max_pages: int,
    data_dir: Path | None,
    plugins_dir: Path | None,
) -> Any:
    from onionlab.crawler.kit import check as plugin_check

    base = config.data_dir(data_dir)
    state = running_lab(base)
    by_name = {service.name: service.url for service in state.services}
    if "://" not in site and site not in by_name:
        fail(f"no lab service {site!r} (running: {', '.join(sorted(by_name))})", 2)
    url = by_name.get(site, site)
    try:
        return plugin_check.check_site(
            loaded,
            name,
            url,
            pages=max_pages,
            socks=state.socks,
            data_dir=base,
            plugins_dir=plugins_dir,
        )
    except plugin_check.CheckError as exc:
        fail(str(exc), exc.exit_code)
