"""A real Scrapy crawl without any network: a spider whose ``start()`` yields listings.

Run as ``python -m tests.support.es_crawl RUN_DIR ES_URL CONTROL_DIR``; used by the
Elasticsearch outage test. It yields three phases of 100 listings (one of the last phase
violates the mapping) through the run-directory and Elasticsearch pipelines, and between
phases waits for the test's marker files in CONTROL_DIR (``stopped``, ``restarted``) so the
test can stop and restart the cluster mid-crawl. Its ``HOST`` is the lab service ``SERVICE``
(Scrapy setting ``ONIONLAB_SITE_SERVICES``). Prints the crawl's stats as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess

from onionlab.crawler.items import Listing

HOST = "c" * 56 + ".onion"
SERVICE = "phased-market"  # HOST's lab service name, given as the crawl's site services
PER_PHASE = 100


def listing(number: int) -> Listing:
    price = "free" if number == 2 * PER_PHASE + 50 else f"{10 + number}.00"  # one bad value
    return Listing(
        HOST, f"L{number}", f"http://{HOST}/i/{number}", f"Item {number}", price_usd=price
    )


class PhasedSpider(scrapy.Spider):
    name = "phased"

    def __init__(self, control: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.control = Path(control)

    async def _wait_for(self, marker: str) -> None:
        while not (self.control / marker).exists():
            await asyncio.sleep(0.05)

    async def _mark(self, marker: str) -> None:
        (self.control / marker).write_text("")

    async def start(self) -> AsyncIterator[Any]:
        for number in range(PER_PHASE):
            yield listing(number)
        await self._mark("phase1")
        await self._wait_for("stopped")
        for number in range(PER_PHASE, 2 * PER_PHASE):
            yield listing(number)
        stats = self.crawler.stats
        while (stats.get_value("onionlab/es/spooled") or 0) < 2 * PER_PHASE:
            await asyncio.sleep(0.05)  # every phase-2 listing and its observation was spooled
        await self._mark("phase2")
        await self._wait_for("restarted")
        for number in range(2 * PER_PHASE, 3 * PER_PHASE):
            yield listing(number)


def main(run_dir: str, es_url: str, control: str) -> None:
    process = CrawlerProcess(
        {
            "ITEM_PIPELINES": {
                "onionlab.crawler.pipelines.rundir.RunDirPipeline": 800,
                "onionlab.crawler.sinks.elastic.pipeline.ElasticsearchPipeline": 900,
            },
            "ONIONLAB_RUN_DIR": run_dir,
            "ONIONLAB_SITE_SERVICES": {SERVICE: [HOST]},
            "ES_URL": es_url,
            "ES_CHUNK_SIZE": 20,
            "ES_FLUSH_INTERVAL": 0.2,
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    crawler = process.create_crawler(PhasedSpider)
    process.crawl(crawler, control=control)
    process.start()
    stats = {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("onionlab/")}
    print(json.dumps(stats))


if __name__ == "__main__":
    main(*sys.argv[1:4])
