"""Test-only glue between the official ``elasticsearch`` client and ``osmem-server``.

osmem-server (an in-memory OpenSearch-compatible server) answers HTTP 406 to the client's
``application/vnd.elasticsearch+json; compatible-with=N`` media types (``+x-ndjson`` for
bulk) and sends no ``X-Elastic-Product`` header. :class:`PlainJsonNode` rewrites the media
types to plain ``application/json``/``application/x-ndjson`` and adds the product header to
responses, so the product's real client code runs unchanged against it. Test code only.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from elastic_transport import HttpHeaders, Urllib3HttpNode
from elasticsearch import Elasticsearch
from osmem_server import OsmemServer

_VENDOR_TYPE = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson);\s*compatible-with=\d+")


class PlainJsonNode(Urllib3HttpNode):
    """A urllib3 node that speaks plain ``application/json`` (osmem-server refuses the rest)."""

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # type: ignore[no-untyped-def, override]
        rewritten = HttpHeaders(headers or {})
        for name in ("accept", "content-type"):
            if name in rewritten:
                rewritten[name] = _VENDOR_TYPE.sub(r"application/\1", rewritten[name])
        response = super().perform_request(
            method, target, body=body, headers=rewritten, request_timeout=request_timeout
        )
        # The client refuses servers that do not say they are Elasticsearch.
        response.meta.headers.setdefault("x-elastic-product", "Elasticsearch")
        return response


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Osmem:
    """An osmem-server process on a fixed loopback port that can be stopped and restarted."""

    port: int
    server: OsmemServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.server is None:
            self.server = OsmemServer.start(japanese=False, addr=f"127.0.0.1:{self.port}")

    def stop(self) -> None:
        """Stop the server: its data is gone (it is in-memory) and its port is closed."""
        if self.server is not None:
            self.server.close(grace=2.0)
            self.server = None

    def client(self, **options: object) -> Elasticsearch:
        """The official client, pointed at this server through :class:`PlainJsonNode`."""
        return Elasticsearch(self.url, node_class=PlainJsonNode, **options)  # type: ignore[arg-type]


@pytest.fixture
def osmem() -> Iterator[Osmem]:
    """A fresh, empty osmem-server on 127.0.0.1 (a free port), stopped after the test."""
    server = Osmem(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["Osmem", "PlainJsonNode", "free_port", "osmem"]
