"""The plugin loader: broken plugins are named, not fatal; a raising plugin is isolated."""

from __future__ import annotations

import inspect
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from onionlab.crawler import hookspecs
from onionlab.crawler.items import Listing
from onionlab.crawler.pluginmanager import call_each, load_plugins


class Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def write(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(body))


@pytest.fixture
def plugins_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONIONLAB_LOAD_PLUGINS", "good,crashing,broken_import,half_way")
    write(
        tmp_path,
        "good",
        """
        from onionlab import hookimpl
        from onionlab.crawler.items import Listing

        @hookimpl
        def onionlab_extract(response):
            return [Listing(site="s", listing_id="1", url=response.url, title="ok")]
    """,
    )
    write(
        tmp_path,
        "crashing",
        """
        from onionlab import hookimpl

        @hookimpl
        def onionlab_extract(response):
            raise ValueError("layout changed")
    """,
    )
    write(
        tmp_path,
        "half_way",
        """
        from onionlab import hookimpl
        from onionlab.crawler.items import Listing

        @hookimpl
        def onionlab_extract(response):
            yield Listing(site="s", listing_id="2", url=response.url, title="partial")
            raise KeyError("second listing")
    """,
    )
    write(tmp_path, "broken_import", "import does_not_exist\n")
    return tmp_path


def page() -> HtmlResponse:
    return HtmlResponse("http://x.onion/", body=b"<html></html>", encoding="utf-8")


def test_a_plugin_that_fails_to_import_is_named_and_the_others_load(plugins_dir: Path) -> None:
    loaded = load_plugins(plugins_dir)
    by_name = {p.name: p for p in loaded.plugins}
    assert by_name["broken_import"].error.startswith('Error importing plugin "broken_import"')
    assert "does_not_exist" in by_name["broken_import"].error
    assert by_name["good"].hooks == ["onionlab_extract"]
    assert not by_name["good"].error


def test_a_raising_plugin_is_counted_and_skipped_others_still_answer(plugins_dir: Path) -> None:
    loaded = load_plugins(plugins_dir)
    stats = Stats()
    results = dict(call_each(loaded.manager, "onionlab_extract", stats=stats, response=page()))
    assert [item.title for item in results["good"]] == ["ok"]
    assert "crashing" not in results and "half_way" not in results
    assert stats.values == Counter(
        {
            "plugins/crashing/errors": 1,
            "plugins/half_way/errors": 1,
            "onionlab/dropped/malformed_result": 1,  # half_way's results so far are dropped
        }
    )


def test_load_none_and_disable_switches(plugins_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONIONLAB_LOAD_PLUGINS", "")
    assert load_plugins(plugins_dir).plugins == []
    monkeypatch.delenv("ONIONLAB_LOAD_PLUGINS")
    monkeypatch.setenv("ONIONLAB_DISABLE_PLUGINS", "crashing,broken_import")
    names = {p.name for p in load_plugins(plugins_dir).plugins}
    assert "crashing" not in names and "good" in names


def test_builtin_plugins_load_through_the_entry_point_group() -> None:
    loaded = load_plugins()
    by_name = {p.name: p for p in loaded.plugins}
    assert by_name["market_listings"].source == "entry point"
    assert not by_name["market_listings"].error, by_name["market_listings"].traceback
    assert "onionlab_extract" in by_name["market_listings"].hooks
    assert "onionlab_register_commands" in by_name["lab"].hooks


def test_every_hook_is_documented_with_its_arguments_and_return() -> None:
    hooks = [f for name, f in vars(hookspecs).items() if name.startswith("onionlab_")]
    assert hooks
    for hook in hooks:
        doc = inspect.getdoc(hook) or ""
        assert doc.splitlines()[0].endswith("."), f"{hook.__name__}: no one-line summary"
        for arg in inspect.signature(hook).parameters:
            assert f":param {arg}:" in doc, f"{hook.__name__}: {arg} undocumented"
        assert ":return:" in doc, f"{hook.__name__}: return undocumented"


def test_listing_ids_are_stable_across_runs() -> None:
    a = Listing(site="x.onion", listing_id="42", url="http://x.onion/l/42", title="a")
    b = Listing(site="x.onion", listing_id="42", url="http://x.onion/l/42?ref=2", title="b")
    assert a.doc_id() == b.doc_id()
    assert a.doc_id() != Listing(site="y.onion", listing_id="42", url="", title="").doc_id()


def test_plugins_dir_flag_loads_a_directory_before_the_command_runs(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "probe.py").write_text(
        "from crawler import hookimpl\n\n\n@hookimpl\n"
        "def onionlab_extract(response):\n    return None\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ONIONLAB_PLUGINS_DIR"}
    listed = subprocess.run(
        [sys.executable, "-m", "onionlab", "plugins", "list", "--json",
         "--plugins-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    probe = next(p for p in json.loads(listed.stdout) if p["name"] == "probe")
    assert probe["source"] == "directory" and probe["hooks"] == ["onionlab_extract"]
    missing = subprocess.run(
        [sys.executable, "-m", "onionlab", "plugins", "list", "--plugins-dir",
         str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert missing.returncode == 2 and "does not exist" in missing.stderr
