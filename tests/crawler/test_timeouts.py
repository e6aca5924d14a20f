"""A download that times out is tried again at most once, and not at all when its body was
still arriving (a drip): Scrapy's default, four retries of a whole DOWNLOAD_TIMEOUT each,
kept the hostile lab's crawl going for minutes (issue #10).

Crawls a local site through the recording SOCKS server (no Tor), with a 1 s timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from tests.support.crawls import crawl, serving
from tests.support.socks5 import FakeTorSocks

SITE = "t" * 55 + "d.onion"
HOME = b'<html><body><a href="/drip">drip</a> <a href="/hang">hang</a></body></html>'


class _Slow(BaseHTTPRequestHandler):
    requests: ClassVar[Counter[str]] = Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.requests[self.path] += 1
        if self.path == "/hang":  # accepts, reads the request, never answers
            time.sleep(3)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        if self.path == "/drip":  # answers at once, then a byte now and then
            for _ in range(30):
                self.wfile.write(b"<")
                self.wfile.flush()
                time.sleep(0.1)
            return
        self.wfile.write(HOME)

    def log_message(self, *args: object) -> None:
        pass


def test_a_timeout_is_retried_once_and_a_drip_never(tmp_path: Path) -> None:
    _Slow.requests = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    with serving(server), FakeTorSocks(routes={SITE: server.server_address[1]}) as socks:
        settings = {"DOWNLOAD_TIMEOUT": 1}
        crawl([f"http://{SITE}/"], socks.port, tmp_path, settings=settings)
    # Without the policy: 3 of each (RETRY_TIMES 4, cut short when liveness declares the
    # site gone after 5 failures in a row).
    assert _Slow.requests == {"/": 1, "/drip": 1, "/hang": 2}
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["onionlab/timeouts/slow_body"] == 1
    assert stats["onionlab/timeouts/retries_spent"] == 1
    errors = [json.loads(line) for line in (tmp_path / "errors.ndjson").read_text().splitlines()]
    assert sorted(e["url"].rsplit("/", 1)[1] for e in errors) == ["drip", "hang"]  # recorded
