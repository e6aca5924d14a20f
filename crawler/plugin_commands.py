"""The plugin author's commands: ``onionlab extract``, ``plugins new``, ``plugins test``.

CLI layer (parse, call the service, render) over :mod:`onionlab.crawler.extraction.offline`,
:mod:`onionlab.crawler.kit.scaffold` and :mod:`onionlab.crawler.kit.check`; registered in
:mod:`onionlab.crawler.cli` with ``add_command``. Exit codes are the ones ``onionlab --help``
documents.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape

from onionlab.crawler import config
from onionlab.crawler.labstate import LabNotRunning, LabState
from onionlab.crawler.pluginmanager import LoadedPlugins, get_plugins, load_plugins

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class CommandError(click.ClickException):
    """A failure shown as one ``error:`` line, with its exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        err.print(f"[bold red]error:[/bold red] {escape(self.format_message())}", soft_wrap=True)


def fail(message: str, exit_code: int = 1) -> NoReturn:
    raise CommandError(message, exit_code)


def _json_line(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str))


def _plugins(plugins_dir: Path | None) -> LoadedPlugins:
    """The installed plugins, plus those in ``plugins_dir`` (their load errors reported)."""
    if plugins_dir is None:
        return get_plugins()
    if not plugins_dir.is_dir():
        fail(f"--plugins-dir {plugins_dir}: no such directory", 2)
    loaded = load_plugins(plugins_dir)
    for info in loaded.errors:
        if info.source == "directory":
            err.print(f"warning: {info.error}\n{info.traceback}", markup=False)
    return loaded


plugins_dir_option = click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also load the *.py plugins in this directory [default: $ONIONLAB_PLUGINS_DIR].",
)


@click.command(name="extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--url",
    help="The URL the page is given (one file only) [default: its file:// URI, in which "
    "plugins that read the site from the URL see no onion host].",
)
@plugins_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
def extract_command(
    paths: tuple[Path, ...], url: str | None, plugins_dir: Path | None, as_json: bool
) -> None:
    """Run every plugin over saved pages (HTML or text) and show what they find.

    PATHS are files or directories (every file inside, sorted). A page is HTML by its
    extension (.html, .htm) or its first bytes, else plain text. Plugins see it exactly as
    a crawl would: extract, then normalise; then the items of all files are linked.

    \b
    With --json, one JSON object per file (JSON Lines):
      {"file", "url", "content": "html"|"text", "entities": [{"type", "value", "context"}],
       "listings": [...], "vendors": [...], "other": [...],
       "errors": [{"plugin", "hook", "error"}]}
    entities appear once per file, in order of first appearance; listings and vendors are
    the documents a crawl would index. When plugins link items across files (vendor
    identities), one last object {"linked": [...], "errors": [...]} follows.

    A file that cannot be read is named on stderr and the others are still processed;
    the exit code is then 1. A plugin that raises is listed under its file's errors
    (exit code 0: the page was read; `onionlab plugins test` fails on plugin errors).

    \b
    Examples:
      onionlab extract saved/listing.html
      onionlab extract --url http://<56 chars>.onion/item/7 saved/listing.html
      onionlab extract --json saved/ | jq '.entities[]'
    """
    from onionlab.crawler.extraction.offline import expand_paths, extract_files
    from onionlab.crawler.kit.pagereport import render_extract

    files = expand_paths(paths)
    if url is not None and len(files) != 1:
        fail(f"--url gives one page its URL, but {len(files)} files were given", 2)
    result = extract_files(_plugins(plugins_dir).manager, files, url)
    for page in result.unreadable:
        err.print(f"[bold red]error:[/bold red] {escape(page.read_error)}", soft_wrap=True)
    if as_json:
        for page in result.pages:
            if not page.read_error:
                _json_line(page.as_dict())
        if result.linked or result.link_errors:
            _json_line(
                {
                    "linked": [item.to_doc() for item in result.linked],
                    "errors": [error.as_dict() for error in result.link_errors],
                }
            )
    else:
        render_extract(result, out)
    if result.unreadable:
        fail(f"{len(result.unreadable)} of {len(files)} file(s) could not be read", 1)


@click.command(name="new", short_help="Write a new plugin NAME with its test and a sample page.")
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


@click.command(name="test")
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
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the running lab is, and the crawl run goes [default: ./onionlab-data].",
)
@plugins_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per page.")
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
    from onionlab.crawler.kit import check as plugin_check
    from onionlab.crawler.kit.pagereport import render_plugin_pages, render_site_check

    if bool(pages) == bool(site):
        fail("give saved PAGES or --site URL (one of them)", 2)
    loaded = _plugins(plugins_dir)
    try:
        plugin = plugin_check.find_plugin(loaded, name)
    except plugin_check.CheckError as exc:
        fail(str(exc), exc.exit_code)

    if site:
        check = _check_site(loaded, name, site, max_pages, data_dir, plugins_dir)
        if as_json:
            for url, counts in check.pages.items():
                _json_line({"url": url, "found": counts})
            _json_line({"run_dir": str(check.run_dir), "errors": check.errors})
        else:
            render_site_check(name, check, out)
        if check.errors:
            fail(f"plugin {name!r} raised {check.errors} time(s); see {check.run_dir}/crawl.log")
        return

    result = plugin_check.check_pages(plugin, pages)
    for page in result.unreadable:
        err.print(f"[bold red]error:[/bold red] {escape(page.read_error)}", soft_wrap=True)
    if as_json:
        for page in result.pages:
            if not page.read_error:
                found = plugin_check.count_items(page.items)
                errors = [e.as_dict() for e in page.errors]
                _json_line({"file": page.file, "found": found, "errors": errors})
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
    try:
        state = LabState.load(config.lab_dir(base) / "lab.json")
    except LabNotRunning as exc:
        fail(str(exc), 4)
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
