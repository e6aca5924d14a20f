"""The live progress table: per site (by lab name when known) pages, items and errors."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from scrapy.http import HtmlResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from onionlab.crawler.extensions.progress import ProgressDisplay
from onionlab.crawler.items import Listing

MARKET = "m" * 55 + "d.onion"
OTHER = "o" * 55 + "d.onion"


def _display(settings: dict[str, Any]) -> ProgressDisplay:
    crawler = get_crawler(settings_dict={"ONIONLAB_PROGRESS": True, **settings})
    if crawler.stats is None:
        crawler.stats = MemoryStatsCollector(crawler)
    return ProgressDisplay.from_crawler(crawler)


def _text(display: ProgressDisplay) -> str:
    console = Console(file=io.StringIO(), width=120)
    console.print(display.render(final=True))
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_rows_are_named_after_the_lab_services_with_their_errors() -> None:
    display = _display({"ONIONLAB_SITE_SERVICES": {"market": [MARKET]}})
    stats = display.crawler.stats
    for path in ("/", "/a"):
        display.response_received(HtmlResponse(f"http://{MARKET}{path}", body=b""))
        stats.inc_value("response_received_count")
    display.item_scraped(Listing(site=MARKET, listing_id="1", url=f"http://{MARKET}/a", title="t"))
    stats.inc_value("item_scraped_count", 3)
    display.page_failed(url=f"http://{OTHER}/gone", kind="F0", message="")
    stats.inc_value("onionlab/errors/total")
    rows = [line for line in _text(display).splitlines() if "│" in line]
    market = next(r for r in rows if "market" in r)
    assert [cell.strip() for cell in market.split("│")[1:-1]] == ["market", "2", "1", "0"]
    other = next(r for r in rows if "ooooo" in r)  # no lab name: the shortened host
    assert [cell.strip() for cell in other.split("│")[2:-1]] == ["0", "0", "1"]
    total = next(r for r in rows if "total" in r)
    assert [cell.strip() for cell in total.split("│")[2:-1]] == ["2", "1", "1"]
