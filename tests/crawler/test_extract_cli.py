"""``onionlab extract``: saved pages through every plugin, one JSON object per file."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from onionlab.crawler.commands import cli
from tests.support.site_pages import fetch_site, host

ADDRESS_PLUGIN = """
    import re

    from onionlab import hookimpl
    from onionlab.crawler.items import Entity

    @hookimpl
    def onionlab_extract(response):
        for match in re.finditer(r"bc1q[a-z0-9]{10}", response.text):
            context = response.text[max(match.start() - 6, 0) : match.end()]
            yield Entity(type="btc", value=match.group(), url=response.url, site="",
                         context=context)
"""

CRASHING_PLUGIN = """
    from onionlab import hookimpl

    @hookimpl
    def onionlab_extract(response):
        raise ValueError("layout changed")
"""

VENDOR_LINKING_PLUGIN = """
    from onionlab import hookimpl
    from onionlab.crawler.items import Vendor, VendorIdentity

    @hookimpl
    def onionlab_extract(response):
        handle = response.css("h1.vendor::text").get()
        return [Vendor(site=response.url, handle=handle, url=response.url)] if handle else None

    @hookimpl
    def onionlab_link_items(items):
        handles = sorted({i.handle for i in items if isinstance(i, Vendor)})
        if len(handles) > 1:
            return [VendorIdentity(identity="+".join(handles), handles=handles)]
"""


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["extract", *map(str, args)])


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def plugins_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plugins directory of test plugins, the only ones loaded with ``--plugins-dir``."""
    directory = tmp_path / "plugins"
    directory.mkdir()
    for name, body in (
        ("addresses", ADDRESS_PLUGIN),
        ("crashing", CRASHING_PLUGIN),
        ("handle_linker", VENDOR_LINKING_PLUGIN),
    ):
        (directory / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.setenv("ONIONLAB_LOAD_PLUGINS", "addresses")
    return directory


def test_entities_appear_once_per_file_in_order_of_first_appearance(
    tmp_path: Path, plugins_dir: Path
) -> None:
    page = tmp_path / "paste.txt"
    page.write_text("pay bc1qzzzzzzzzzz or bc1qaaaaaaaaaa, then again bc1qzzzzzzzzzz\n")

    result = run("--json", "--plugins-dir", plugins_dir, page)

    assert result.exit_code == 0, result.output
    [line] = json_lines(result)
    assert line["file"] == str(page)
    assert line["content"] == "text"
    assert [(e["type"], e["value"]) for e in line["entities"]] == [
        ("btc", "bc1qzzzzzzzzzz"),
        ("btc", "bc1qaaaaaaaaaa"),
    ]
    assert line["entities"][0]["context"] == "pay bc1qzzzzzzzzzz"
    assert line["listings"] == line["vendors"] == line["errors"] == []


def test_html_or_text_is_told_by_extension_then_by_content(
    tmp_path: Path, plugins_dir: Path
) -> None:
    pages = {
        "a.html": "just words",
        "b.txt": "<html><body>markup in a text file</body></html>",
        "c": "<!DOCTYPE html>\n<html><body>saved without extension</body></html>",
        "d": "no markup at all",
    }
    for name, body in pages.items():
        (tmp_path / name).write_text(body)

    result = run("--json", "--plugins-dir", plugins_dir, *(tmp_path / n for n in pages))

    assert result.exit_code == 0, result.output
    assert [line["content"] for line in json_lines(result)] == ["html", "text", "html", "text"]


def test_a_directory_means_every_file_inside_sorted_hidden_ones_skipped(
    tmp_path: Path, plugins_dir: Path
) -> None:
    saved = tmp_path / "saved"
    for relative in ("b.html", "a/z.html", "a/y.txt", ".cache/x.html", "a/.swap"):
        (saved / relative).parent.mkdir(parents=True, exist_ok=True)
        (saved / relative).write_text("<p>page</p>")

    result = run("--json", "--plugins-dir", plugins_dir, saved)

    assert result.exit_code == 0, result.output
    files = [Path(line["file"]).relative_to(saved).as_posix() for line in json_lines(result)]
    assert files == ["a/y.txt", "a/z.html", "b.html"]


def test_an_unreadable_file_is_named_and_the_others_are_still_processed(
    tmp_path: Path, plugins_dir: Path
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("bc1qgggggggggg")
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")

    result = run("--json", "--plugins-dir", plugins_dir, tmp_path / "missing.html", good, binary)

    assert result.exit_code == 1
    assert [line["file"] for line in json_lines(result)] == [str(good)]
    errors = result.stderr.splitlines()
    assert errors[0] == f"error: cannot read {tmp_path / 'missing.html'}: No such file or directory"
    assert errors[1].startswith(f"error: cannot read {binary}: not a text or HTML page")
    assert errors[2] == "error: 2 of 3 file(s) could not be read"


def test_a_raising_plugin_is_named_and_the_others_still_see_the_page(
    tmp_path: Path, plugins_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONIONLAB_LOAD_PLUGINS", "addresses,crashing")
    page = tmp_path / "page.txt"
    page.write_text("bc1qcccccccccc")

    result = run("--json", "--plugins-dir", plugins_dir, page)

    assert result.exit_code == 0, result.output
    [line] = json_lines(result)
    assert line["errors"] == [
        {"plugin": "crashing", "hook": "onionlab_extract", "error": "ValueError: layout changed"}
    ]
    assert [e["value"] for e in line["entities"]] == ["bc1qcccccccccc"]
    assert "layout changed" not in result.stderr  # reported once, in the output


def test_items_are_linked_across_all_the_files_given(
    tmp_path: Path, plugins_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONIONLAB_LOAD_PLUGINS", "handle_linker")
    saved = tmp_path / "saved"
    saved.mkdir()
    for name in ("alice", "bob"):
        (saved / f"{name}.html").write_text(f"<h1 class='vendor'>{name}</h1>")

    result = run("--json", "--plugins-dir", plugins_dir, saved)

    assert result.exit_code == 0, result.output
    *pages, linked = json_lines(result)
    assert [page["vendors"][0]["handle"] for page in pages] == ["alice", "bob"]
    assert [doc["identity"] for doc in linked["linked"]] == ["alice+bob"]
    assert linked["errors"] == []


def test_url_gives_the_page_its_onion_host_and_a_file_uri_gives_none(tmp_path: Path) -> None:
    url, response = next(
        (url, r) for url, r in fetch_site(1, "market").items() if b"listing-title" in r.body
    )
    page = tmp_path / "listing.html"
    page.write_bytes(response.body)

    with_url = json_lines(run("--json", "--url", url, page))
    without = json_lines(run("--json", page))

    [listing] = with_url[0]["listings"]
    assert (listing["site"], listing["url"]) == (host(1, "market"), url)
    assert listing["kind"] == "listing" and listing["title"]
    [same_listing] = without[0]["listings"]
    assert without[0]["url"] == page.resolve().as_uri()
    assert same_listing["site"] == ""
    assert same_listing["listing_id"] == listing["listing_id"]


def test_url_names_a_single_page(tmp_path: Path) -> None:
    for name in ("a.html", "b.html"):
        (tmp_path / name).write_text("<p>x</p>")

    result = run("--url", "http://x.onion/", tmp_path)

    assert result.exit_code == 2
    assert "--url gives one page its URL, but 2 files were given" in result.stderr


def test_without_json_each_file_is_a_readable_table(tmp_path: Path, plugins_dir: Path) -> None:
    page = tmp_path / "paste.txt"
    page.write_text("bc1qtttttttttt")
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here")

    result = run("--plugins-dir", plugins_dir, page, empty)

    assert result.exit_code == 0, result.output
    assert result.stdout.index(str(page)) < result.stdout.index("bc1qtttttttttt")
    assert result.stdout.index("bc1qtttttttttt") < result.stdout.index(str(empty))
    assert "no plugin recognised this page" in result.stdout
