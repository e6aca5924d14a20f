"""Fixtures of the Elasticsearch sink tests: an osmem-server per test, a known crawl."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.sinks.elastic import provision
from tests.support.known_crawl import known_items, write_run
from tests.support.osmem import Osmem, osmem  # noqa: F401  (the fixture)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "elasticsearch: needs a real Elasticsearch cluster (ES_URL set)"
    )


@pytest.fixture
def es(osmem: Osmem) -> Elasticsearch:  # noqa: F811
    """The official client on a fresh osmem-server, indices set up."""
    client = osmem.client()
    assert provision.setup(client).ok
    return client


@pytest.fixture
def known_run(tmp_path: Path) -> Path:
    """A run directory of a known synthetic crawl (see tests.support.known_crawl)."""
    return write_run(tmp_path, known_items())
