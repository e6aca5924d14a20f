"""Timeouts through Tor: how often a download that ran out of time is tried again.

Scrapy's RetryMiddleware tries a timed-out download ``RETRY_TIMES`` (4) more times, each
costing a whole ``DOWNLOAD_TIMEOUT`` (60 s): five minutes per URL of a site that accepts
connections and then never answers, or drips its answer a byte at a time. Through Tor a
transient fault shows up as a SOCKS error or a lost connection (still retried as before);
a timeout is the site itself being slow, so this Scrapy downloader middleware (before
RetryMiddleware in the exception chain: order 555 > 550) decides:

- a download whose answer had begun (its headers came: Scrapy's ``headers_received``
  signal) and whose body was still arriving at the timeout is not tried again: the site
  answered, slowly on purpose or not, and would do the same again;
- any other timed-out download is tried again at most ``ONIONLAB_TIMEOUT_RETRIES`` times
  (1).

Either way the failure is recorded as it was (``errors.ndjson``, liveness); stats
``onionlab/timeouts/slow_body`` and ``onionlab/timeouts/retries_spent`` count the
decisions. Depends on Scrapy, :mod:`onionlab.crawler.default_settings` and
:mod:`onionlab.crawler.failurekinds`.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler

from onionlab.crawler import default_settings
from onionlab.crawler.failurekinds import failure_kind

ANSWERED = "onionlab_answer_began"  # request meta: its answer's headers came


class TimeoutRetryPolicy:
    """Marks a timed-out request ``dont_retry`` when trying it again is pointless."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.retries = default_settings.getint(crawler.settings, "ONIONLAB_TIMEOUT_RETRIES")
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TimeoutRetryPolicy:
        return cls(crawler)

    def headers_received(self, request: Request, **_: Any) -> None:
        request.meta[ANSWERED] = True

    def process_request(self, request: Request, spider: Any = None) -> None:
        request.meta.pop(ANSWERED, None)  # a retried copy starts afresh

    def process_exception(
        self, request: Request, exception: BaseException, spider: Any = None
    ) -> None:
        if failure_kind(exception) != "timeout" or request.meta.get("dont_retry"):
            return
        if request.meta.get(ANSWERED):
            reason = "slow_body"
        elif request.meta.get("retry_times", 0) >= self.retries:
            reason = "retries_spent"
        else:
            return  # RetryMiddleware tries it again
        request.meta["dont_retry"] = True
        assert self.stats is not None
        self.stats.inc_value(f"onionlab/timeouts/{reason}")
