"""Nothing a crawl leaves out goes unsaid (issue #10, defects 7 and 8): off-site redirects,
the per-site page budget, the global page cap. Real crawls of local sites through the
recording SOCKS server; the summary's ``dropped`` says what was left out and why."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawls import crawl
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

SITE = "s" * 55 + "d.onion"
OTHER = "o" * 55 + "d.onion"  # another onion, not in the crawl
BIG = "g" * 55 + "d.onion"
SMALL = "l" * 55 + "d.onion"


# --- off-site redirects ---------------------------------------------------------------------


class _Canary:
    """A listener on 127.0.0.1 that records any connection (a leak would reach it)."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def _redirecting(canary: int) -> type[BaseHTTPRequestHandler]:
    redirects = {
        "/to-other-onion": f"http://{OTHER}/phish",
        "/to-canary": f"http://127.0.0.1:{canary}/leak",
        "/to-file": "file:///etc/passwd",
        "/to-same-site": "/landing",
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/refresh":
                body = (
                    f'<html><head><meta http-equiv="refresh" content="0; '
                    f'url=http://127.0.0.1:{canary}/meta"></head><body>moved</body></html>'
                )
            else:
                links = "".join(f'<a href="{p}">{p}</a>' for p in [*redirects, "/refresh"])
                body = f"<html><body>{links}</body></html>"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def redirected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run = tmp_path_factory.mktemp("redirects")
    canary = _Canary()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _redirecting(canary.port))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with FakeTorSocks(routes={SITE: server.server_address[1]}) as socks:
            summary = crawl([f"http://{SITE}/"], socks.port, run)
            connects = [r.host for r in socks.records]
    finally:
        server.shutdown()
        server.server_close()
        canary.close()
    errors = [json.loads(line) for line in (run / "errors.ndjson").read_text().splitlines()]
    return {"summary": summary, "errors": errors, "canary": canary.hits, "connects": connects}


def test_offsite_redirects_are_counted_and_recorded(redirected: dict[str, Any]) -> None:
    summary = redirected["summary"]
    assert summary["dropped"]["offsite_redirect"] == 4  # onion, loopback, file:, meta refresh
    recorded = {e["url"].rsplit("/", 1)[1]: e for e in redirected["errors"]}
    assert {k for k, e in recorded.items() if e["kind"] == "offsite_redirect"} == {
        "to-other-onion",
        "to-canary",
        "to-file",
        "refresh",
    }
    assert f"-> http://{OTHER}/phish" in recorded["to-other-onion"]["message"]
    assert "another scheme (file:)" in recorded["to-file"]["message"]
    assert "a non-onion host" in recorded["to-canary"]["message"]
    assert summary["errors"] == 0, summary["errors_by_kind"]  # drops, not fetch errors


def test_offsite_redirects_go_nowhere(redirected: dict[str, Any]) -> None:
    assert redirected["canary"] == 0
    assert set(redirected["connects"]) == {SITE}  # the same-site redirect was followed
    assert redirected["summary"]["pages"] >= 3  # /, /landing, /refresh (kept as it is)


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (f"http://{SITE}/x", None),
        (f"https://{SITE.upper()}:443/x", None),
        (f"http://{OTHER}/", "another onion site"),
        ("http://127.0.0.1:9/", "a non-onion host"),
        ("data:text/html,hi", "another scheme (data:)"),
        ("ftp://example.com/", "another scheme (ftp:)"),
        ("http://[::1", "a malformed address"),
    ],
)
def test_offsite_why(target: str, why: str | None) -> None:
    from onionlab.crawler.downloadermiddlewares.offsite import offsite_why

    assert offsite_why(f"http://{SITE}/r", target, [SITE]) == why


# --- the per-site page budget and the global page cap ---------------------------------------


def test_a_page_generator_is_stopped_by_the_default_site_budget(tmp_path: Path) -> None:
    """BIG generates pages without end; the default budget (here 15) stops it, SMALL is
    crawled whole, and the summary names the host over budget."""
    with LinkedSite(pages=400) as big, LinkedSite(pages=12) as small:
        routes = {BIG: big.port, SMALL: small.port}
        with FakeTorSocks(routes=routes) as socks:
            summary = crawl(
                [f"http://{BIG}/", f"http://{SMALL}/"], socks.port, tmp_path,
                settings={"ONIONLAB_SITE_MAX_PAGES": 15},
            )  # fmt: skip
        big_paths, small_paths = {p for p, _ in big.requests}, {p for p, _ in small.requests}
    assert len(big_paths) == 15
    assert len(small_paths) == 12
    assert summary["dropped"]["site_budget"] >= 1
    assert summary["sites"]["over_budget"] == [BIG]


def test_the_default_site_budget_is_ten_thousand() -> None:
    from onionlab.crawler.spidermiddlewares.sitelimits import SiteLimitsMiddleware
    from tests.crawler.test_liveness import _crawler

    assert SiteLimitsMiddleware.from_crawler(_crawler()).site_max_pages == 50_000


def test_the_page_cap_says_how_much_was_left(tmp_path: Path) -> None:
    with LinkedSite(pages=400) as big, FakeTorSocks(routes={BIG: big.port}) as socks:
        summary = crawl([f"http://{BIG}/"], socks.port, tmp_path, max_pages=10)
    assert summary["finish_reason"] == "closespider_pagecount"
    assert summary["dropped"]["page_cap"] >= 1
