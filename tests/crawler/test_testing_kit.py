"""``onionlab.testing``: what a plugin author's tests get — pages, one-plugin managers, fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, TextResponse

from onionlab import hookimpl
from onionlab.crawler.items import Listing
from onionlab.testing import (
    PluginFailed,
    extract,
    load_plugin_file,
    plugin_manager,
    response_from_file,
    response_from_text,
)

PAGE = "<html><body><h1 class='t'>Blue Dream</h1><span class='id'>77</span></body></html>"


class TitlePlugin:
    """Reads ``h1.t`` into a listing; stays silent on other pages."""

    @hookimpl
    def onionlab_extract(self, response: TextResponse) -> list[Listing] | None:
        title = response.css("h1.t::text").get()
        if title is None:
            return None
        listing_id = response.css("span.id::text").get() or "?"
        return [Listing(site="s", listing_id=listing_id, url=response.url, title=title)]


class UnitNormaliser:
    @hookimpl
    def onionlab_normalize_item(self, item: object) -> None:
        if isinstance(item, Listing):
            item.unit = "g"


class Crashing:
    @hookimpl
    def onionlab_extract(self, response: TextResponse) -> None:
        raise KeyError("price")


def test_a_saved_html_page_becomes_an_html_response_with_a_file_url(tmp_path: Path) -> None:
    path = tmp_path / "listing.html"
    path.write_text(PAGE)

    response = response_from_file(path)

    assert isinstance(response, HtmlResponse)
    assert response.url == path.resolve().as_uri()
    assert response.css("h1.t::text").get() == "Blue Dream"


def test_a_text_page_keeps_the_url_it_is_given(tmp_path: Path) -> None:
    path = tmp_path / "paste.txt"
    path.write_text("contact me on session 05ab…", encoding="utf-8")

    response = response_from_file(path, url="http://paste.onion/p/1")

    assert type(response) is TextResponse
    assert response.url == "http://paste.onion/p/1"
    assert response.text == "contact me on session 05ab…"


def test_the_manager_holds_only_the_plugins_given_under_their_names() -> None:
    pm = plugin_manager(TitlePlugin(), UnitNormaliser())

    assert sorted(name for name, _ in pm.list_name_plugin()) == ["TitlePlugin", "UnitNormaliser"]
    assert [impl.plugin_name for impl in pm.hook.onionlab_extract.get_hookimpls()] == [
        "TitlePlugin"
    ]


def test_extract_runs_the_normalisers_too_like_a_crawl() -> None:
    [listing] = extract(plugin_manager(TitlePlugin(), UnitNormaliser()), response_from_text(PAGE))

    assert (listing.listing_id, listing.title, listing.unit) == ("77", "Blue Dream", "g")


def test_extract_with_one_plugin_returns_nothing_for_pages_it_does_not_know() -> None:
    assert extract(TitlePlugin(), response_from_text("<p>hello</p>")) == []


def test_a_raising_plugin_fails_the_test_with_its_name_and_traceback() -> None:
    with pytest.raises(PluginFailed) as failure:
        extract(plugin_manager(TitlePlugin(), Crashing()), response_from_text(PAGE))

    message = str(failure.value)
    assert "plugin 'Crashing' raised in onionlab_extract on http://example.onion/" in message
    assert "KeyError: 'price'" in message


def test_a_plugin_file_is_imported_the_way_plugins_dir_imports_it(tmp_path: Path) -> None:
    path = tmp_path / "shop.py"
    path.write_text(
        textwrap.dedent(
            """
            from onionlab import hookimpl
            from onionlab.crawler.items import Listing

            @hookimpl
            def onionlab_extract(response):
                return [Listing(site="s", listing_id="1", url=response.url, title=__name__)]
            """
        )
    )

    plugin = load_plugin_file(path)
    [listing] = extract(plugin, response_from_text(PAGE))

    assert listing.title == "onionlab_local_plugins.shop"
    assert [name for name, _ in plugin_manager(plugin).list_name_plugin()] == ["shop"]


def test_the_fixtures_resolve_pages_and_plugins_next_to_the_test_file(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "tests" / "pages").mkdir(parents=True)
    (project / "tests" / "pages" / "item.html").write_text(PAGE)
    (project / "title.py").write_text(
        textwrap.dedent(
            """
            from onionlab import hookimpl
            from onionlab.crawler.items import Listing

            @hookimpl
            def onionlab_extract(response):
                title = response.css("h1.t::text").get()
                return [Listing(site="s", listing_id="1", url=response.url, title=title)]
            """
        )
    )
    (project / "tests" / "test_title.py").write_text(
        textwrap.dedent(
            """
            def test_page(onionlab_page):
                page = onionlab_page("pages/item.html", url="http://x.onion/item")
                assert (page.url, page.css("h1.t::text").get()) == (
                    "http://x.onion/item", "Blue Dream")

            def test_extract(onionlab_extract):
                [listing] = onionlab_extract("../title.py", "pages/item.html")
                assert listing.title == "Blue Dream"

            def test_failure(onionlab_extract):
                onionlab_extract("../title.py", "<not a path>")
            """
        )
    )

    # Run from elsewhere: relative paths must not depend on the working directory.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "onionlab.testing", "-p", "no:cacheprovider",
         str(project / "tests")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )  # fmt: skip

    assert "1 failed, 2 passed" in result.stdout, result.stdout
    assert f"PageUnreadable: cannot read {project / 'tests' / '<not a path>'}" in result.stdout
