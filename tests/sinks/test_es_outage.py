"""Elasticsearch goes down mid-crawl and comes back: nothing lost, nothing duplicated.

A real Scrapy crawl (in a subprocess: one reactor per process) feeds the run-directory and
Elasticsearch pipelines; the test stops a real Elasticsearch node of its own after the first
phase and starts it again, on the same port and data, after the second. Phase 1 is kept by
the node, phase 2 must come back by the spool's replay, and ``index load`` of the whole run
afterwards changes nothing: every document exactly once, each listing's observation of the
crawl too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.sinks.elastic import provision
from onionlab.crawler.sinks.elastic.bulk import REJECTED
from onionlab.crawler.sinks.elastic.client import make_client, resolve_settings
from onionlab.crawler.sinks.elastic.load import load_run_dir
from onionlab.crawler.sinks.elastic.spool import Spool
from tests.support.es_crawl import PER_PHASE, SERVICE
from tests.support.es_node import Node, running_node, start_node, stop_node
from tests.support.known_crawl import latest_docs

REPO = Path(__file__).resolve().parents[2]
OBSERVATIONS = "onionlab-listing-observations"
pytestmark = pytest.mark.slow


def wait_until(condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def listings(client: Elasticsearch, alias: str = "onionlab-listings") -> int:
    client.indices.refresh(index=alias)
    return int(client.count(index=alias)["count"])


@pytest.fixture
def node() -> Iterator[Node]:
    """A node of this test's own (it is stopped and started again)."""
    with running_node("onionlab-es-outage-") as own:
        yield own


def _client(url: str) -> Elasticsearch:
    return make_client(resolve_settings({"url": url})).options(max_retries=0, request_timeout=5)


def test_cluster_down_mid_crawl_then_back(node: Node, tmp_path: Path) -> None:
    directory, port, url = node.directory, node.port, node.url
    client = _client(url)
    assert provision.setup(client).ok
    run_dir, control = tmp_path / "run", tmp_path / "control"
    run_dir.mkdir()
    control.mkdir()
    crawl = subprocess.Popen(
        [sys.executable, "-m", "tests.support.es_crawl", str(run_dir), url, str(control)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: (control / "phase1").exists(), "phase 1")
        wait_until(lambda: listings(client) == PER_PHASE, "phase 1 indexed")
        stop_node(directory)
        (control / "stopped").write_text("")
        wait_until(lambda: (control / "phase2").exists(), "phase 2 spooled")
        assert Spool.of_run_dir(run_dir).sizes()["unavailable"] >= PER_PHASE
        assert start_node(directory, port) == url  # same port, same data
        client = _client(url)
        assert provision.setup(client).ok and provision.setup(client).changed() == []
        (control / "restarted").write_text("")
        out, err = crawl.communicate(timeout=120)
    finally:
        crawl.kill()
    assert crawl.returncode == 0, err
    stats = json.loads(out.strip().splitlines()[-1])

    # Phase 2 went to the spool and came back by replay; one phase-3 item is refused for good:
    # the listing and its observation (each listing is sent with one).
    assert stats["onionlab/es/spooled"] >= 2 * PER_PHASE
    assert stats["onionlab/es/rejected"] == 2
    assert stats["onionlab/es/replayed"] == stats["onionlab/es/spooled"] - 2
    spool = Spool.of_run_dir(run_dir)
    kept = spool.entries()
    assert {entry.action.alias for entry in kept} == {OBSERVATIONS, "onionlab-listings"}
    assert all(entry.reason == REJECTED and "price_usd" in entry.error for entry in kept)
    assert listings(client) == 3 * PER_PHASE - 1  # phase 1 kept, 2 replayed, 3 live: once each
    assert listings(client, OBSERVATIONS) == 3 * PER_PHASE - 1
    named = client.count(index="onionlab-listings", query={"term": {"site_name": SERVICE}})
    assert named["count"] == 3 * PER_PHASE - 1  # the live sink named the site

    report = load_run_dir(client, run_dir)  # the whole run again: the same documents
    assert report.bulk.count(REJECTED) == 2
    assert report.bulk.indexed_total == 2 * (3 * PER_PHASE - 1)
    expected = {doc_id for (alias, doc_id) in latest_docs(run_dir) if alias == "onionlab-listings"}
    assert len(expected) == 3 * PER_PHASE
    for alias in ("onionlab-listings", OBSERVATIONS):
        assert listings(client, alias) == len(expected) - 1
        response = client.search(
            index=alias, size=0, aggs={"ids": {"terms": {"field": "listing_id", "size": 400}}}
        )
        assert {b["doc_count"] for b in response["aggregations"]["ids"]["buckets"]} == {1}
    assert spool.sizes() == {REJECTED: 2}
