"""Politeness: ``Retry-After`` parsing, then real crawls through the recording SOCKS server —
the lab market behind a tight rate limit, and a site that never stops answering 429."""

from __future__ import annotations

import json
import re
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from onionlab.crawler.downloadermiddlewares.politeness import parse_retry_after
from onionlab.crawler.runs.rundir import RunDir
from tests.support.crawls import crawl, serving
from tests.support.lab_sites import crawl_site, lab_sites
from tests.support.socks5 import FakeTorSocks

MARKET = "uuqy7gqxosefwgvdzft7nuffrpwfymp2cay6krbdvxw6544yb33ocdyd.onion"
BUSY = "f" * 55 + "d.onion"
RATE_LIMITED = """base = "open"
rate_limit = true
rate = 20
burst = 10
"""


# --- Retry-After ------------------------------------------------------------------------


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after(b"7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0


def test_retry_after_as_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize("value", [None, b"", b"soon", b"-5", b"1.5e9"])
def test_unusable_retry_after(value: bytes | None) -> None:
    assert parse_retry_after(value) is None


# --- end to end: the lab market behind a tight rate limit --------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("ratelimit")
    with lab_sites(tmp, RATE_LIMITED, ("market",)) as routes:
        return crawl_site(MARKET, routes[MARKET], tmp)


def test_rate_limited_crawl_still_fetches_every_page(limited: dict) -> None:
    assert limited["eval"]["pages"]["by_site"]["market"]["recall"] == 1.0
    assert limited["summary"]["errors"] == 0


def test_retry_after_was_honoured(limited: dict) -> None:
    stats = limited["stats"]
    assert stats.get("downloader/response_status_count/429", 0) > 0, "the limit never hit"
    assert stats["onionlab/politeness/retry_after"] > 0
    assert stats["onionlab/politeness/wait_seconds"] >= 1  # the lab says "Retry-After: 1+"
    assert stats["onionlab/politeness/slowdowns"] >= 1
    assert "onionlab/politeness/gave_up" not in stats
    assert "retry/count" not in stats  # Scrapy's RetryMiddleware never retried a 429 blindly


# --- end to end: a site that never stops answering 429 -----------------------------------


class _Busy(BaseHTTPRequestHandler):
    server: _BusyServer

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.path == "/busy":  # always busy: the crawler must give up, and say so
            self._send(429, "<html><body>slow down</body></html>", "0")
        elif self.path == "/forever":  # a hostile wait: 3 years, every time
            self._send(429, "<html><body>come back never</body></html>", "99999999")
        elif self.path == "/later" and self.server.paths.count("/later") == 1:
            self._send(
                429, "<html><body>later</body></html>", formatdate(time.time() + 1, usegmt=True)
            )
        else:
            links = '<a href="/busy">b</a><a href="/later">l</a><a href="/ok">o</a>'
            self._send(200, f"<html><body>{links}</body></html>", None)

    def _send(self, status: int, body: str, retry_after: str | None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _BusyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Busy)
        self.paths: list[str] = []
        self.port = self.server_address[1]


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("busy")
    (tmp / "run").mkdir()
    with serving(_BusyServer()) as server, FakeTorSocks(routes={BUSY: server.port}) as socks:
        settings = {"POLITENESS_MAX_RETRIES": 2}
        summary = crawl([f"http://{BUSY}/"], socks.port, tmp / "run", settings=settings)
    return {"summary": summary, "paths": list(server.paths), "run": RunDir(tmp / "run")}


def test_retries_are_bounded_then_the_page_is_an_error(busy: dict) -> None:
    assert busy["paths"].count("/busy") == 1 + 2  # POLITENESS_MAX_RETRIES = 2, nothing more
    assert busy["summary"]["errors_by_kind"] == {"http_429": 1}
    errors = busy["run"].path.joinpath("errors.ndjson").read_text().splitlines()
    assert [json.loads(line)["url"] for line in errors] == [f"http://{BUSY}/busy"]
    stats = json.loads(busy["run"].stats.read_text())
    assert stats["onionlab/politeness/gave_up"] == 1


def test_an_http_date_retry_after_is_waited_for_then_succeeds(busy: dict) -> None:
    assert busy["paths"].count("/later") == 2
    assert busy["summary"]["pages"] >= 3  # /, /later (after its wait), /ok
    assert not re.search("later", busy["run"].path.joinpath("errors.ndjson").read_text())


def test_a_huge_retry_after_is_capped_for_the_whole_request(tmp_path: Path) -> None:
    """``Retry-After: 99999999`` on every answer: the request waits at most
    ONIONLAB_RETRY_AFTER_MAX in all (not the cap per retry), is recorded as an error, and
    the capped wait is counted as dropped/retry_after_capped."""
    with serving(_BusyServer()) as server, FakeTorSocks(routes={BUSY: server.port}) as socks:
        settings = {"ONIONLAB_RETRY_AFTER_MAX": 1.5, "POLITENESS_MAX_RETRIES": 6}
        started = time.monotonic()
        summary = crawl([f"http://{BUSY}/forever"], socks.port, tmp_path, settings=settings)
        took = time.monotonic() - started
    assert summary["errors_by_kind"] == {"http_429": 1}
    assert summary["dropped"]["retry_after_capped"] >= 1
    stats = json.loads(RunDir(tmp_path).stats.read_text())
    assert stats["onionlab/politeness/wait_seconds"] <= 1.5 + 0.01  # in all, not per retry
    assert server.paths.count("/forever") <= 3
    assert took < 30


def test_a_site_that_repeats_an_absurd_retry_after_waits_the_cap_only_once() -> None:
    """The hostile lab site answers ``Retry-After: 99999999`` on several pages: the first
    costs the cap (60 s by default), every later one the short default wait, so one site
    cannot stall its own crawl by the cap again and again (each is still counted)."""
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from onionlab.crawler.downloadermiddlewares.politeness import (
        DEFAULT_RETRY_AFTER_MAX,
        RetryAfterMiddleware,
    )

    crawler = get_crawler(settings_dict={})
    crawler.stats.open_spider()
    middleware = RetryAfterMiddleware(crawler)

    def answer(host: str, path: str, retry_after: str) -> HtmlResponse:
        return HtmlResponse(
            f"http://{host}/{path}", status=429, headers={"Retry-After": retry_after}
        )

    assert middleware.wait_for(answer("a.onion", "1", "99999999")) == DEFAULT_RETRY_AFTER_MAX
    assert middleware.wait_for(answer("a.onion", "2", "99999999")) == 5.0
    assert middleware.wait_for(answer("a.onion", "3", "99999999")) == 5.0
    assert middleware.wait_for(answer("a.onion", "4", "30")) == 30.0  # believable: as told
    assert middleware.wait_for(answer("b.onion", "1", "99999999")) == DEFAULT_RETRY_AFTER_MAX
    assert crawler.stats.get_value("onionlab/dropped/retry_after_capped") == 4
