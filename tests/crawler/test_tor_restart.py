"""A Tor restart in the middle of a crawl, played by the recording SOCKS server: after N
CONNECTs it drops connections, stops listening, and (first test) a new server comes up on
the same port ~3 s later — every page is fetched exactly once, nothing is an error; or
(second test) it never comes back — the crawl ends within ``TOR_OUTAGE_MAX_SECONDS`` and
the pages it could not fetch are recorded as errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from onionlab.crawler.runs.rundir import RunDir
from tests.support.crawls import crawl
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

SITE = "r" * 55 + "d.onion"
PAGES = 60
FAIL_AFTER = 20  # CONNECTs before "tor" goes away
RESTART_AFTER = 3.0  # seconds the SOCKS port stays closed in the restart test


def _page_urls(run: RunDir) -> list[str]:
    docs = [json.loads(line) for line in run.items.read_text().splitlines()[1::2]]
    return [doc["url"] for doc in docs if doc["kind"] == "page"]


def _stop_when_failing(socks: FakeTorSocks, events: dict[str, float]) -> None:
    assert socks.failing.wait(60), "the crawl never reached the outage"
    events["failing"] = time.monotonic()
    time.sleep(0.3)  # some connections are dropped mid-handshake, the rest are refused
    socks.close()
    events["closed"] = time.monotonic()


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("restart")
    events: dict[str, float] = {}
    servers: list[FakeTorSocks] = []
    with LinkedSite(pages=PAGES) as site:
        routes = {SITE: site.port}
        first = FakeTorSocks(routes=routes, fail_after=FAIL_AFTER).__enter__()
        servers.append(first)

        def restart() -> None:
            _stop_when_failing(first, events)
            time.sleep(RESTART_AFTER)
            servers.append(FakeTorSocks(routes=routes, port=first.port).__enter__())
            events["restarted"] = time.monotonic()

        thread = threading.Thread(target=restart, daemon=True)
        thread.start()
        try:
            started = time.monotonic()
            result = subprocess.run(
                [sys.executable, "-m", "onionlab", "crawl", "--socks",
                 f"127.0.0.1:{first.port}", "--data-dir", str(data), "--json", "--no-score",
                 "--max-seconds", "50", f"http://{SITE}/"],
                capture_output=True, text=True, timeout=90, env=dict(os.environ),
            )  # fmt: skip
            elapsed = time.monotonic() - started
            thread.join(10)
        finally:
            for server in servers:
                server.close()
        site_paths = [path for path, _headers in site.requests]
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    run = RunDir(Path(summary["run_dir"]))
    return {
        "summary": summary,
        "stats": json.loads(run.stats.read_text()),
        "run": run,
        "events": events,
        "elapsed": elapsed,
        "site_paths": site_paths,
        "records": [r for server in servers for r in server.records],
    }


def test_every_page_is_an_item_exactly_once(restarted: dict) -> None:
    urls = _page_urls(restarted["run"])
    assert len(urls) == PAGES
    assert len(set(urls)) == PAGES
    assert restarted["summary"]["items"]["page"] == PAGES


def test_nothing_is_an_error(restarted: dict) -> None:
    assert restarted["summary"]["errors"] == 0
    assert restarted["run"].errors.read_text() == ""


def test_the_site_saw_each_page_once(restarted: dict) -> None:
    counts = Counter(restarted["site_paths"])
    assert len(counts) == PAGES
    assert set(counts.values()) == {1}


def test_the_outage_happened_and_is_in_the_stats(restarted: dict) -> None:
    events, stats = restarted["events"], restarted["stats"]
    assert {"failing", "closed", "restarted"} <= events.keys()
    assert stats["onionlab/tor/outages"] == 1
    assert stats["onionlab/tor/rescheduled"] >= 1
    assert stats["onionlab/tor/probes"] >= 2  # at least one "still down", then "back"
    assert stats["onionlab/tor/longest_outage_seconds"] >= RESTART_AFTER - 0.5
    assert "onionlab/tor/gave_up" not in stats
    assert "onionlab/tor/failed" not in stats
    assert "retry/count" not in stats  # RetryMiddleware never burnt retries on the outage
    assert len(restarted["records"]) > FAIL_AFTER  # CONNECTs went on through the new server


def test_the_log_says_tor_went_away_and_came_back(restarted: dict) -> None:
    log = restarted["run"].log.read_text()
    assert "stopped answering — waiting up to 180 s for it to come back" in log
    assert "answers again after" in log


# --- Tor never comes back ---------------------------------------------------------------

MAX_OUTAGE = 3


@pytest.fixture(scope="module")
def lost(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("lost")
    (tmp / "run").mkdir()
    events: dict[str, float] = {}
    with (
        LinkedSite(pages=PAGES) as site,
        FakeTorSocks(routes={SITE: site.port}, fail_after=FAIL_AFTER) as socks,
    ):
        thread = threading.Thread(target=_stop_when_failing, args=(socks, events), daemon=True)
        thread.start()
        settings = {"TOR_OUTAGE_MAX_SECONDS": MAX_OUTAGE}
        summary = crawl([f"http://{SITE}/"], socks.port, tmp / "run", settings=settings)
        ended = time.monotonic()
        thread.join(10)
        site_paths = [path for path, _headers in site.requests]
    run = RunDir(tmp / "run")
    return {
        "summary": summary,
        "stats": json.loads(run.stats.read_text()),
        "run": run,
        "after_failing": ended - events["failing"],
        "site_paths": site_paths,
    }


def test_the_crawl_ends_within_the_bound(lost: dict) -> None:
    assert lost["after_failing"] < MAX_OUTAGE + 10  # the bound, plus process exit
    assert lost["stats"]["onionlab/tor/gave_up"] == 1
    assert lost["stats"]["onionlab/tor/outages"] == 1


def test_pages_it_could_not_fetch_are_recorded_as_errors(lost: dict) -> None:
    summary, run = lost["summary"], lost["run"]
    errors = [json.loads(line) for line in run.errors.read_text().splitlines()]
    assert errors, "the unfetched pages were dropped silently"
    assert summary["errors_by_kind"] == {"TorUnreachable": len(errors)}
    assert lost["stats"]["onionlab/tor/failed"] == len(errors)
    fetched = set(_page_urls(run))
    assert len(fetched) < PAGES
    assert not fetched & {e["url"] for e in errors}
    assert all("did not answer" in e["message"] for e in errors)
    assert "did not come back within 3 s" in run.log.read_text()
