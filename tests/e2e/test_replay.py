"""``onionlab replay``: a captured listing page, served by pywb, seen in headless Chromium.

Uses the session's crawl of the whole lab through Tor; the replay serves its WARC files on
127.0.0.1 without any live web, and Chromium (flags keeping it on loopback) loads the
listing's page from it: its title and its price must be on the page as drawn.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import html

from onionlab.crawler.commands.replay import replay_url
from onionlab.crawler.runs.rundir import RunDir
from tests.support import browser
from tests.support.es_node import free_port


@pytest.fixture(scope="module")
def replay(crawl_summary: dict[str, Any]) -> Iterator[dict[str, Any]]:
    run = Path(crawl_summary["run_dir"])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "onionlab", "replay", str(run), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the replay did not answer within 60 s"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        yield {"run": RunDir(run), "port": port, "server": server}
    finally:
        server.terminate()
        server.wait(timeout=20)
        # pywb, its child, stopped with it
        deadline = time.monotonic() + 20
        while _pywb_on(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _pywb_on(port), "onionlab replay left pywb running"


def _pywb_on(port: int) -> list[int]:
    """pids of the wayback processes serving ``port``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            cmdline = (status.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if fields.get("State", "").startswith("Z"):
            continue
        if any(arg.endswith(b"wayback") for arg in cmdline) and str(port).encode() in cmdline:
            found.append(int(status.parent.name))
    return found


def test_a_captured_listing_page_renders_with_its_title_and_price(
    replay: dict[str, Any], tmp_path: Path
) -> None:
    listings = sorted(replay["run"].documents("listing"), key=lambda d: d["url"])
    listing = next(d for d in listings if d.get("price_usd") and "/item" in d["url"])
    url = replay_url(replay["port"], listing["url"])
    text = " ".join(html.fromstring(browser.dump_dom(url)).text_content().split())
    assert listing["title"] in text
    assert listing["price_usd"] in text
    shot = browser.screenshot(url, tmp_path / "replay-listing.png")
    print(f"screenshot of {listing['url']} as replayed: {shot}")
    assert shot.stat().st_size > 10_000


def test_only_captures_are_served_never_the_network(replay: dict[str, Any]) -> None:
    pages = replay["run"].documents("page")
    host = pages[0]["url"].split("/")[2]
    missing = replay_url(replay["port"], f"http://{host}/never-crawled-{time.time_ns()}")
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(missing, timeout=10)
    assert answer.value.code == 404


def test_replay_says_what_to_do_without_warc_files(tmp_path: Path) -> None:
    (tmp_path / "items.ndjson").write_text("")
    (tmp_path / "config.json").write_text(json.dumps({"start_urls": []}))
    done = subprocess.run(
        [sys.executable, "-m", "onionlab", "replay", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 7 and "--no-capture" in done.stderr
