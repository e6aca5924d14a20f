"""The same design against a real Elasticsearch: the suite's own node (``bin/elasticsearch``,
the stack's version, on 127.0.0.1), or the cluster ``ES_URL`` names (the compose stack):

    ES_URL=https://127.0.0.1:9200 ONIONLAB_ES_USER=elastic ONIONLAB_ES_PASSWORD=… \\
    ONIONLAB_CA_CERT=… pytest tests/sinks -m elasticsearch

Writes into the cluster's ``onionlab-*`` aliases (documents of a synthetic run whose
``run_id`` is ``pytest-known-crawl``): use a lab cluster, not one holding real crawls.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.sinks.elastic import provision
from onionlab.crawler.sinks.elastic.client import make_client, resolve_settings
from onionlab.crawler.sinks.elastic.load import load_run_dir
from tests.support.known_crawl import known_items, latest_docs, write_run

pytestmark = [pytest.mark.elasticsearch]


@pytest.fixture
def real_es(real_node_url: str) -> Elasticsearch:
    client = make_client(resolve_settings({"url": real_node_url}))
    provision.check_reachable(client, real_node_url)
    return client


def test_setup_is_idempotent_on_a_real_cluster(real_es: Elasticsearch) -> None:
    assert provision.setup(real_es).ok
    assert provision.setup(real_es).changed() == []


def test_load_and_query_a_known_run(real_es: Elasticsearch, tmp_path: Path) -> None:
    run_dir = write_run(tmp_path, known_items(), name="pytest-known-crawl")
    assert provision.setup(real_es).ok
    report = load_run_dir(real_es, run_dir)
    assert report.bulk.failures == []
    real_es.indices.refresh(index="onionlab-*")
    expected = sum(1 for alias, _ in latest_docs(run_dir) if alias == "onionlab-listings")
    found = real_es.count(index="onionlab-listings", query={"term": {"run_id": run_dir.name}})
    assert found["count"] == expected


def test_the_node_is_the_stacks_version(real_es: Elasticsearch, real_node_url: str) -> None:
    """The suite's node is the version the compose stack pins; it has no ``GET /`` (Elastic's
    integration-test distribution leaves out the rest-root module), so onionlab asks
    ``/_nodes/_local`` for the version instead."""
    root = Path(__file__).resolve().parents[2]
    pinned = next(
        line.split("=", 1)[1].strip()
        for line in (root / ".env.example").read_text().splitlines()
        if line.startswith("STACK_VERSION=")
    )
    info = provision.check_reachable(real_es, real_node_url)
    if "ES_URL" not in os.environ:  # the suite's own node, not a cluster named to it
        assert info["version"]["number"] == pinned
