"""Fixtures of the Elasticsearch sink tests: an osmem-server per test, a real node per
session (``ES_URL`` when set, else one started by ``bin/elasticsearch``), a known crawl."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.sinks.elastic import provision
from tests.support.es_node import start_node, stop_node
from tests.support.known_crawl import known_items, write_run
from tests.support.osmem import Osmem, osmem  # noqa: F401  (the fixture)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "elasticsearch: runs against a real Elasticsearch node (real_node_url)"
    )


@pytest.fixture(scope="session")
def real_node_url() -> Iterator[str]:
    """A real Elasticsearch for the session: ``ES_URL`` if set (a compose stack, say), else a
    node of the stack's version started on 127.0.0.1 and stopped at the end."""
    if os.environ.get("ES_URL"):
        yield os.environ["ES_URL"]
        return
    # Not under pytest's folder: as root the node runs as its own user, to whom that is closed.
    directory = Path(tempfile.mkdtemp(prefix="onionlab-es-"))
    directory.chmod(0o755)
    try:
        yield start_node(directory)
    finally:
        stop_node(directory)
        shutil.rmtree(directory, ignore_errors=True)


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
