"""``onionlab extract``: run every plugin over saved pages and show what they find.

CLI layer over :mod:`onionlab.crawler.extraction.offline`; the tables are
:mod:`.pagereport`'s. Exit codes are the ones ``onionlab --help`` documents.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from onionlab.crawler.commands.errors import fail, print_error
from onionlab.crawler.commands.options import (
    json_option,
    loaded_plugins,
    plugins_dir_option,
    print_json_line,
)

out = Console(highlight=False)


@click.command(name="extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--url",
    help="The URL the page is given (one file only) [default: its file:// URI, in which "
    "plugins that read the site from the URL see no onion host].",
)
@plugins_dir_option(value=True)
@json_option(help="Print one JSON object per file.")
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
    from onionlab.crawler.commands.pagereport import render_extract
    from onionlab.crawler.extraction.offline import expand_paths, extract_files

    files = expand_paths(paths)
    if url is not None and len(files) != 1:
        fail(f"--url gives one page its URL, but {len(files)} files were given", 2)
    result = extract_files(loaded_plugins(plugins_dir).manager, files, url)
    for page in result.unreadable:
        print_error(page.read_error)
    if as_json:
        for page in result.pages:
            if not page.read_error:
                print_json_line(page.as_dict())
        if result.linked or result.link_errors:
            print_json_line(
                {
                    "linked": [item.to_doc() for item in result.linked],
                    "errors": [error.as_dict() for error in result.link_errors],
                }
            )
    else:
        render_extract(result, out)
    if result.unreadable:
        fail(f"{len(result.unreadable)} of {len(files)} file(s) could not be read", 1)
