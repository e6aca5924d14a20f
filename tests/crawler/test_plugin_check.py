"""``onionlab plugins test``: one plugin alone on saved pages, its findings and its failures."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from onionlab.crawler.commands import cli
from onionlab.crawler.kit.check import plugins_for_site_check
from onionlab.crawler.pluginmanager import load_plugins
from tests.support.site_pages import fetch_site


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["plugins", "test", *map(str, args)])


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def market_pages(tmp_path: Path) -> Path:
    """Three saved pages of seed 1's market: a listing, a vendor profile, the home page."""
    pages = fetch_site(1, "market")
    listing = next(r for r in pages.values() if b"listing-title" in r.body)
    vendor = next(r for r in pages.values() if b"vendor-profile" in r.body)
    home = next(r for url, r in pages.items() if url.endswith(".onion/"))
    saved = tmp_path / "market"
    saved.mkdir()
    for name, response in (("1-listing", listing), ("2-vendor", vendor), ("3-home", home)):
        (saved / f"{name}.html").write_bytes(response.body)
    return saved


def test_counts_what_the_plugin_finds_on_each_saved_page(market_pages: Path) -> None:
    result = run("--json", "market_listings", market_pages)

    assert result.exit_code == 0, result.output
    lines = json_lines(result)
    assert [Path(line["file"]).name for line in lines] == [
        "1-listing.html",
        "2-vendor.html",
        "3-home.html",
    ]
    assert [line["found"] for line in lines] == [{"listing": 1}, {"vendor": 1}, {}]
    assert all(line["errors"] == [] for line in lines)


def test_only_the_named_plugin_runs(market_pages: Path) -> None:
    result = run("--json", "bazaar", market_pages)

    assert result.exit_code == 0, result.output
    assert [line["found"] for line in json_lines(result)] == [{}, {}, {}]


def test_the_table_names_each_page_and_its_counts(market_pages: Path) -> None:
    result = run("market_listings", market_pages / "1-listing.html")

    assert result.exit_code == 0, result.output
    assert "plugin market_listings" in result.stdout
    assert "1-listing.html" in result.stdout and "1 listing" in result.stdout


def test_a_plugin_that_raises_fails_the_command_and_is_shown_per_page(
    tmp_path: Path, market_pages: Path
) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "fragile.py").write_text(
        textwrap.dedent(
            """
            from onionlab import hookimpl
            from onionlab.crawler.items import Listing

            @hookimpl
            def onionlab_extract(response):
                if "vendor-profile" in response.text:
                    raise IndexError("no handle")
                return [Listing(site="s", listing_id="1", url=response.url, title="t")]
            """
        )
    )

    result = run("--json", "--plugins-dir", plugins_dir, "fragile", market_pages)

    assert result.exit_code == 1
    lines = json_lines(result)
    assert [line["found"] for line in lines] == [{"listing": 1}, {}, {"listing": 1}]
    assert lines[1]["errors"] == [
        {"plugin": "fragile", "hook": "onionlab_extract", "error": "IndexError: no handle"}
    ]
    assert "error: plugin 'fragile' raised 1 time(s)" in result.stderr


def test_a_plugin_that_does_not_import_is_reported(tmp_path: Path, market_pages: Path) -> None:
    (tmp_path / "broken.py").write_text("import does_not_exist\n")

    result = run("--plugins-dir", tmp_path, "broken", market_pages)

    assert result.exit_code == 1
    assert 'Error importing plugin "broken"' in result.stderr
    assert "ModuleNotFoundError: No module named 'does_not_exist'" in result.stderr


def test_an_unknown_plugin_is_refused_with_the_installed_names(market_pages: Path) -> None:
    result = run("no_such_plugin", market_pages)

    assert result.exit_code == 1
    assert "no plugin named 'no_such_plugin'; installed: " in result.stderr
    assert "market_listings" in result.stderr


def test_a_mistyped_plugin_name_gets_a_suggestion(market_pages: Path) -> None:
    result = run("market_listing", market_pages)

    assert result.exit_code == 1
    assert "did you mean 'market_listings'?" in result.stderr


def test_needs_either_pages_or_a_site(market_pages: Path) -> None:
    assert run("market_listings").exit_code == 2
    assert run("market_listings", market_pages, "--site", "market").exit_code == 2


def test_a_site_needs_a_running_lab(tmp_path: Path) -> None:
    result = run("market_listings", "--site", "market", "--data-dir", tmp_path)

    assert result.exit_code == 4
    assert "Start one with `onionlab up`" in result.stderr


def test_a_live_check_keeps_the_plugins_that_make_no_items() -> None:
    loaded = load_plugins()
    names = plugins_for_site_check(loaded, "market_listings")

    assert names[0] == "market_listings"
    item_makers = {p.name for p in loaded.plugins if "onionlab_extract" in p.hooks}
    assert not item_makers & set(names[1:])
    assert "lab_gate" in names  # passes the lab's queue, CAPTCHA and login
