"""The same design against a real Elasticsearch (the compose stack): run with ``ES_URL`` set.

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

pytestmark = [
    pytest.mark.elasticsearch,
    pytest.mark.skipif(not os.environ.get("ES_URL"), reason="needs a real cluster: set ES_URL"),
]


@pytest.fixture
def real_es() -> Elasticsearch:
    client = make_client(resolve_settings({"url": os.environ["ES_URL"]}))
    provision.check_reachable(client, os.environ["ES_URL"])
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
