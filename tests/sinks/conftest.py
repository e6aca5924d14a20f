"""Fixtures of the Elasticsearch sink tests: a real node per session (``ES_URL`` when set,
else one started by ``bin/elasticsearch``), emptied of onionlab's indices and templates for
each test that takes ``es`` or ``bare_es``; a known crawl."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.sinks.elastic import provision
from onionlab.crawler.sinks.elastic.client import make_client, resolve_settings
from tests.support.es_node import running_node, wipe
from tests.support.known_crawl import known_items, write_run


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
    with running_node() as node:
        yield node.url


@pytest.fixture
def bare_es(real_node_url: str) -> Iterator[Elasticsearch]:
    """The official client on the session's real node, with nothing of onionlab's on it."""
    client = make_client(resolve_settings({"url": real_node_url}))
    wipe(client)
    yield client
    wipe(client)


@pytest.fixture
def es(real_node_url: str) -> Iterator[Elasticsearch]:
    """The official client on the session's real node, emptied of onionlab's indices and
    templates, then set up."""
    client = make_client(resolve_settings({"url": real_node_url}))
    wipe(client)
    assert provision.setup(client).ok
    yield client
    wipe(client)


@pytest.fixture
def known_run(tmp_path: Path) -> Path:
    """A run directory of a known synthetic crawl (see tests.support.known_crawl)."""
    return write_run(tmp_path, known_items())
