"""Live crawl progress on stderr with rich: per site and overall pages, items, errors, pages/s.

A Scrapy extension, enabled by ``ONIONLAB_PROGRESS``; it only reads Scrapy's stats and
signals, so what it shows is what the run directory records.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from onionlab.crawler.signals import page_failed


class ProgressDisplay:
    REFRESH_S = 0.5

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.console = Console(stderr=True)
        self.pages_by_site: Counter[str] = Counter()
        self.items_by_site: Counter[str] = Counter()
        self.errors_by_site: Counter[str] = Counter()
        # Lab service names ("market") instead of 56-character hosts, when the lab says them.
        self.names = {
            host: name
            for name, hosts in crawler.settings.getdict("ONIONLAB_SITE_SERVICES").items()
            for host in hosts
        }
        self.started = time.monotonic()
        self._live: Live | None = None
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressDisplay:
        if not crawler.settings.getbool("ONIONLAB_PROGRESS"):
            raise NotConfigured("progress display is off")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.page_failed, signal=page_failed)
        return ext

    def _site(self, url: str) -> str:
        host = (urlsplit(url).hostname or "?").lower()
        return self.names.get(host) or _short_site(host)

    def response_received(self, response: Any, **_: Any) -> None:
        self.pages_by_site[self._site(response.url)] += 1

    def item_scraped(self, item: Any, **_: Any) -> None:
        site = getattr(item, "site", "") or ""
        if getattr(item, "kind", "") != "page":
            self.items_by_site[self._site("http://" + site)] += 1

    def page_failed(self, url: str, **_: Any) -> None:
        self.errors_by_site[self._site(url)] += 1

    def spider_opened(self, **_: Any) -> None:
        self.started = time.monotonic()
        self._live = Live(
            self.render(), console=self.console, refresh_per_second=4, transient=False
        )
        self._live.start()
        self._loop = task.LoopingCall(self._refresh)
        self._loop.start(self.REFRESH_S, now=False)

    def spider_closed(self, **_: Any) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._live is not None:
            self._live.update(self.render(final=True))
            self._live.stop()
            self.console.print()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self.render())

    def render(self, final: bool = False) -> Table:
        stats = self.crawler.stats
        elapsed = max(time.monotonic() - self.started, 1e-6)
        pages = int(stats.get_value("response_received_count", 0))
        items = int(stats.get_value("item_scraped_count", 0)) - pages
        errors = int(stats.get_value("onionlab/errors/total", 0))
        queued = _queue_size(self.crawler)
        title = "crawl finished" if final else "crawling through Tor"
        table = Table(title=f"{title} — {elapsed:5.1f} s", title_justify="left", expand=False)
        for column in ("site", "pages", "items", "errors"):
            table.add_column(column, justify="right" if column != "site" else "left")
        for site in sorted(set(self.pages_by_site) | set(self.errors_by_site)):
            failed = self.errors_by_site.get(site, 0)
            table.add_row(
                site,
                str(self.pages_by_site.get(site, 0)),
                str(self.items_by_site.get(site, 0)),
                f"[red]{failed}[/red]" if failed else "0",
            )
        table.add_section()
        table.add_row(
            "[bold]total[/bold]",
            f"[bold]{pages}[/bold]",
            f"[bold]{max(items, 0)}[/bold]",
            f"[bold]{errors}[/bold]",
        )
        table.caption = f"{pages / elapsed:6.1f} pages/s · queue {queued} · " + (
            f"[red]{errors} errors[/red]" if errors else "0 errors"
        )
        return table


def _short_site(host: str) -> str:
    return host[:16] + "…" + host[-6:] if len(host) > 30 else host


def _queue_size(crawler: Crawler) -> int:
    try:
        return len(crawler.engine.scheduler)  # type: ignore[union-attr,arg-type]
    except Exception:
        return 0
