"""Scrapy alone: a plain link-following spider through onionlab's Tor handler, nothing else.

    python -m bench.scrapy_alone --socks 127.0.0.1:PORT --concurrency 32 URL [URL ...]

For :mod:`bench.crawl_shape`: what Scrapy itself gets from the crawl onionlab does (start at
each service's home page, follow every link on the same onion hosts), with none of
onionlab's middlewares, pipelines, extraction workers or plugins: Scrapy's default
settings, its ``LinkExtractor`` in the spider, ``TorDownloadHandler`` (remote name
resolution, so every request goes through the lab's Tor client on 127.0.0.1), the
crawl's concurrency for the whole crawl and for each site. Prints one JSON object: pages,
seconds from the first request to the last response, pages/s. For benchmarks only.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from onionlab.crawler.spidermiddlewares.scope import StateChangingRules

# Links that would change state (log out, delete, add to cart): onionlab's crawl does not
# follow them, so neither does this one, by the same rules.
STATE_CHANGING = StateChangingRules(())


class FollowEverything(scrapy.Spider):
    """Fetches the start URLs and every page they link to on the same hosts."""

    name = "scrapy-alone"

    def __init__(self, start: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = start
        self.hosts = {urlsplit(url).hostname for url in start}
        self.links = LinkExtractor(allow_domains=sorted(h for h in self.hosts if h))
        self.pages = 0
        self.first: float | None = None
        self.last = 0.0

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        self.pages += 1
        self.last = time.monotonic()
        if not isinstance(response, TextResponse):
            return
        for link in self.links.extract_links(response):
            if not STATE_CHANGING.matches(link.url):
                yield response.follow(link.url, callback=self.parse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socks", required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("urls", nargs="+")
    options = parser.parse_args()
    process = CrawlerProcess(
        {
            "DOWNLOAD_HANDLERS": {"http": "onionlab.crawler.tor.handler.TorDownloadHandler"},
            "TOR_SOCKS": options.socks,
            "CONCURRENT_REQUESTS": options.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": options.concurrency,
            "ROBOTSTXT_OBEY": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "CLOSESPIDER_TIMEOUT": 600,  # bounded, like every bench loop
        }
    )
    crawler = process.create_crawler(FollowEverything)
    started: dict[str, float] = {}

    def opened(spider: scrapy.Spider) -> None:
        started["at"] = time.monotonic()

    crawler.signals.connect(opened, signal=signals.spider_opened)
    process.crawl(crawler, start=options.urls)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, FollowEverything)
    seconds = max(1e-3, spider.last - started.get("at", spider.last))
    print(json.dumps({"pages": spider.pages, "seconds": seconds,
                      "pages_per_s": spider.pages / seconds}))  # fmt: skip


if __name__ == "__main__":
    main()
