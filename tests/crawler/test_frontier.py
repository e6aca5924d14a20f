"""The crawl's fast paths: compact seen-sets, links already scheduled, one parse per page,
and a global concurrency that pages waiting for a worker do not use up."""

from __future__ import annotations

import asyncio
import random
from time import monotonic
from typing import Any

import pluggy
import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from onionlab import hookimpl
from onionlab.crawler import hookspecs
from onionlab.crawler.downloader import OnionDownloader
from onionlab.crawler.frontier import DigestSet, KnownLinks
from onionlab.crawler.pluginmanager import LoadedPlugins
from onionlab.crawler.spiders.onion import OnionSpider

SITE = "http://" + "f" * 56 + ".onion"


def test_a_digest_set_holds_what_was_added_and_nothing_else() -> None:
    keys = [f"{SITE}/listing/{n}?page={n % 7}" for n in range(20_000)]
    seen = DigestSet()
    assert all(seen.add(key) for key in keys)
    assert not any(seen.add(key) for key in keys[::97])  # a second add is no news
    assert len(seen) == len(keys)
    assert all(key in seen for key in keys)
    assert not any(f"{SITE}/other/{n}" in seen for n in range(20_000))
    # one flat array, at most half full after growing: 16-32 bytes an entry
    assert seen.nbytes <= 32 * len(keys)


def test_a_digest_set_of_random_digests_survives_growing() -> None:
    rng = random.Random(5)
    digests = {rng.getrandbits(64) or 1 for _ in range(5_000)}
    seen = DigestSet()
    for digest in digests:
        assert seen.add_digest(digest)
    assert all(seen.has_digest(digest) for digest in digests)
    assert len(seen) == len(digests)


def test_known_links_are_the_gets_the_engine_was_given() -> None:
    known = KnownLinks()
    known.scheduled(Request(f"{SITE}/a"))
    known.scheduled(Request(f"{SITE}/login", method="POST"))
    assert f"{SITE}/a" in known
    assert f"{SITE}/login" not in known  # a form post says nothing of the page
    assert f"{SITE}/b" not in known
    assert len(known) == 1


class _Gate:
    """A gate plugin: the page is a CAPTCHA when it says so (it parses the page)."""

    def __init__(self) -> None:
        self.asked = 0

    @hookimpl
    def onionlab_page_state(self, response: Any) -> str | None:
        self.asked += 1
        return "captcha" if response.css("form#captcha") else None


def _spider(*plugins: object) -> tuple[OnionSpider, Any]:
    crawler = get_crawler(OnionSpider, {"ONIONLAB_EXTRACT_WORKERS": -1})
    crawler.stats.open_spider()  # type: ignore[union-attr]
    spider = OnionSpider.from_crawler(crawler, start_urls=[f"{SITE}/"])
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for n, plugin in enumerate(plugins):
        pm.register(plugin, name=f"plugin{n}")
    spider.plugins = LoadedPlugins(pm, [])
    return spider, crawler


def _drain(spider: OnionSpider, response: HtmlResponse) -> list[Any]:
    async def drain() -> list[Any]:
        return [entry async for entry in spider.parse(response)]

    return asyncio.run(drain())


def test_links_already_scheduled_are_not_made_into_requests_again() -> None:
    spider, crawler = _spider()
    spider.known.scheduled(Request(f"{SITE}/seen"))
    body = b'<a href="/seen">old</a><a href="/new">new</a><a href="/seen?s=1">kept</a>'
    output = _drain(spider, HtmlResponse(f"{SITE}/", body=body, request=Request(f"{SITE}/")))
    requests = [entry.url for entry in output if isinstance(entry, Request)]
    assert requests == [f"{SITE}/new", f"{SITE}/seen?s=1"]
    assert crawler.stats.get_value("onionlab/frontier/known_links") == 1


def test_the_gate_and_the_page_work_share_one_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate asks the spider what a page is; the spider parses it once, for the gate
    plugins, the title, every plugin and the links, and parse() then reuses that work."""
    import parsel.selector

    parsed: list[int] = []
    original = parsel.selector.create_root_node

    def counting(*args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(parsel.selector, "create_root_node", counting)
    gate = _Gate()
    spider, _crawler = _spider(gate)
    page = HtmlResponse(
        f"{SITE}/", body=b"<title>Shop</title><a href='/item/1'>1</a>", request=Request(f"{SITE}/")
    )
    assert asyncio.run(spider.classify_page(page)) is None
    output = _drain(spider, page)
    assert [e.url for e in output if isinstance(e, Request)] == [f"{SITE}/item/1"]
    assert [e.title for e in output if not isinstance(e, Request)] == ["Shop"]
    assert gate.asked == 1
    assert len(parsed) == 1

    captcha = HtmlResponse(f"{SITE}/x", body=b"<form id='captcha'><a href='/y'>y</a></form>")
    assert asyncio.run(spider.classify_page(captcha)) == "captcha"


def test_pages_waiting_for_a_worker_do_not_use_up_the_global_concurrency() -> None:
    crawler = get_crawler(settings_dict={"CONCURRENT_REQUESTS": 2})
    downloader = OnionDownloader(crawler)
    first, second, third = (Request(f"{SITE}/{n}") for n in range(3))
    downloader.active.update({first, second})
    assert downloader.needs_backout()  # two on the wire: full
    downloader._answered(first)  # its page is in the middlewares, waiting for a worker
    assert not downloader.needs_backout()
    downloader.active.add(third)
    downloader._answered(second)
    downloader._answered(third)
    assert downloader.unanswered == 0
    assert downloader.needs_backout()  # but no more than CONCURRENT_REQUESTS such pages


def _queue_for_site(downloader: OnionDownloader, host: str, count: int) -> list[Request]:
    """``count`` requests of ``host`` in the downloader, queued in its slot (not yet sent)."""
    requests = [Request(f"http://{host}/{n}") for n in range(count)]
    slot = downloader.slots.setdefault(host, Slot(downloader.domain_concurrency, 0.0, 0.0))
    for request in requests:
        downloader.active.add(request)
        slot.active.add(request)
    return requests


def test_requests_queued_for_a_site_count_as_before_so_a_dead_site_keeps_few() -> None:
    crawler = get_crawler(
        settings_dict={"CONCURRENT_REQUESTS": 4, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}
    )
    downloader = OnionDownloader(crawler)
    _queue_for_site(downloader, "a" * 56 + ".onion", 3)  # 2 can be sent, 1 waits
    assert downloader.ready == 3
    assert not downloader.needs_backout()
    _queue_for_site(downloader, "b" * 56 + ".onion", 1)
    assert downloader.needs_backout()


def test_a_paused_site_does_not_hold_the_others_back() -> None:
    """Beside the hostile lab, its requests queued for 60 s behind a Retry-After filled the
    downloader: the last normal site waited out the pause with it (39 s without a page)."""
    crawler = get_crawler(
        settings_dict={"CONCURRENT_REQUESTS": 4, "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
    )
    downloader = OnionDownloader(crawler)
    paused = "p" * 56 + ".onion"
    _queue_for_site(downloader, paused, 4)
    assert downloader.needs_backout()  # 4 ready to go
    slot = downloader.slots[paused]
    slot.delay, slot.lastseen = 0.02, monotonic() + 60  # what the politeness pause does
    slot.latercall = object()  # Scrapy's slot waits out that delay with a timer
    assert downloader.ready == 0
    assert not downloader.needs_backout()
    # Its queue is free up to its own concurrency (16), then counts again.
    _queue_for_site(downloader, paused, 16)
    assert downloader.ready == 4 and downloader.needs_backout()
    # However much is free, the downloader never holds over 2 x CONCURRENT_REQUESTS.
    slot.concurrency = 100
    assert downloader.ready == 0 and downloader.needs_backout()
