"""A download Scrapy cancels (a body past DOWNLOAD_MAXSIZE) says so in errors.ndjson.

Issue #10 (defect 7): Scrapy 2.19 raises ``DownloadCancelledError`` with an empty message
when a body without Content-Length grows past the limit, so the analyst read an error with
no words. Crawls a local site through the recording SOCKS server.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.crawls import crawl, serving
from tests.support.socks5 import FakeTorSocks

SITE = "m" * 55 + "d.onion"


class _Big(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()  # no Content-Length: the size is only known while reading
        if self.path == "/big":
            for _ in range(64):
                self.wfile.write(b"x" * 16384)
        else:
            self.wfile.write(b'<html><body><a href="/big">big</a></body></html>')

    def log_message(self, *args: object) -> None:
        pass


def test_a_body_past_the_size_limit_is_an_error_that_says_why(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Big)
    server.daemon_threads = True
    with serving(server), FakeTorSocks(routes={SITE: server.server_address[1]}) as socks:
        settings = {"DOWNLOAD_MAXSIZE": 256 * 1024, "DOWNLOAD_WARNSIZE": 0}
        crawl([f"http://{SITE}/"], socks.port, tmp_path, settings=settings)
    errors = [json.loads(line) for line in (tmp_path / "errors.ndjson").read_text().splitlines()]
    big = [e for e in errors if e["url"].endswith("/big")]
    assert len(big) == 1, errors
    assert big[0]["message"] == "body larger than DOWNLOAD_MAXSIZE (256 KiB): download cancelled"
    sites = json.loads((tmp_path / "sites.json").read_text())
    assert sites[SITE]["state"] == "up"  # an oversized answer is still an answer
