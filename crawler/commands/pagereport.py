"""Renders what plugins found on pages (``onionlab extract``, ``plugins test``) as rich tables.

The CLI's view layer for :mod:`onionlab.crawler.extraction.offline` and
:mod:`onionlab.crawler.kit.check` results. Depends on rich and the item types.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from onionlab.crawler.extraction.offline import ExtractResult, PageResult, PluginError
from onionlab.crawler.items import Entity, Item, Listing, Vendor, VendorIdentity
from onionlab.crawler.kit.check import SiteCheck, count_items


def describe(item: Item) -> tuple[str, str]:
    """A one-line ``(what, details)`` description of an item for a table row."""
    if isinstance(item, Listing):
        facts = [
            item.vendor and f"by {item.vendor}",
            item.weight_g and f"{item.weight_g} g",
            item.price_usd and f"${item.price_usd}",
            item.ships_from and f"from {item.ships_from}",
        ]
        return "listing", " · ".join([f"#{item.listing_id} {item.title}", *filter(None, facts)])
    if isinstance(item, Vendor):
        facts = [item.pgp_fingerprint and f"PGP {item.pgp_fingerprint}"]
        facts.append(f"{len(item.btc)} BTC address(es)" if item.btc else None)
        return "vendor", " · ".join([item.handle, *filter(None, facts)])
    if isinstance(item, Entity):
        return item.type, item.value
    if isinstance(item, VendorIdentity):
        return "vendor identity", ", ".join(f"{m['handle']}@{m['site']}" for m in item.members)
    return item.kind, item.doc_id()


def _error_text(error: PluginError) -> str:
    return f"[red]{escape(error.plugin)} in {error.hook}: {escape(error.error)}[/red]"


def _page_table(page: PageResult) -> Table:
    table = Table()
    table.add_column("found")
    table.add_column("details", overflow="fold")
    seen: set[tuple[str, str]] = set()
    for item in page.items:
        if isinstance(item, Entity):  # each entity once per page, like --json
            if (item.type, item.value) in seen:
                continue
            seen.add((item.type, item.value))
        what, details = describe(item)
        table.add_row(escape(what), escape(details))
    for error in page.errors:
        table.add_row("[red]error[/red]", _error_text(error))
    if not page.items and not page.errors:
        table.add_row("[dim]nothing[/dim]", "[dim]no plugin recognised this page[/dim]")
    return table


def render_extract(result: ExtractResult, console: Console) -> None:
    """One table per readable page, then the items linked across pages, if any."""
    for page in result.pages:
        if not page.read_error:
            heading = f"[bold]{escape(page.file)}[/bold]"
            if page.url != Path(page.file).resolve().as_uri():
                heading += f" as {escape(page.url)}"
            console.print(heading, soft_wrap=True)
            console.print(_page_table(page))
    if result.linked or result.link_errors:
        table = Table(title="linked across all pages", title_justify="left")
        table.add_column("found")
        table.add_column("details", overflow="fold")
        for item in result.linked:
            table.add_row(*map(escape, describe(item)))
        for error in result.link_errors:
            table.add_row("[red]error[/red]", _error_text(error))
        console.print(table)


def counts_text(counts: dict[str, int]) -> str:
    """``{"listing": 1, "identifier:btc": 2}`` → ``"1 listing, 2 identifier:btc"``."""
    return ", ".join(f"{n} {label}" for label, n in counts.items()) or "[dim]nothing[/dim]"


def _count_table(title: str, rows: Iterable[tuple[str, str, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("page", overflow="fold")
    table.add_column("found")
    table.add_column("errors", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def render_plugin_pages(name: str, result: ExtractResult, console: Console) -> None:
    """Per page, what plugin ``name`` found and where it raised."""
    rows = [
        (
            escape(page.file),
            counts_text(count_items(page.items)),
            "; ".join(_error_text(e) for e in page.errors),
        )
        for page in result.pages
        if not page.read_error
    ]
    if result.linked or result.link_errors:
        errors = "; ".join(_error_text(e) for e in result.link_errors)
        rows.append(("[i]linked across pages[/i]", counts_text(count_items(result.linked)), errors))
    console.print(_count_table(f"plugin {escape(name)}", rows))


def render_site_check(name: str, check: SiteCheck, console: Console) -> None:
    """Per crawled page, what plugin ``name`` found; then its errors and the run directory."""
    rows = [(escape(url), counts_text(counts), "") for url, counts in check.pages.items()]
    console.print(_count_table(f"plugin {escape(name)} on a live site", rows))
    for line in check.error_lines:
        console.print(escape(line), style="red")
    console.print(f"run directory: {escape(str(check.run_dir))}")
