"""The crawl's scheduler (onionlab.crawler.scheduler): requests in memory up to its bound, on
disk beyond it, none lost, in Scrapy's order."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request, Spider
from scrapy.core.scheduler import Scheduler
from scrapy.utils.test import get_crawler

from onionlab.crawler import default_settings
from onionlab.crawler.scheduler import OnionScheduler


class _Spider(Spider):
    name = "scheduler-test"

    def parse(self, response):  # type: ignore[no-untyped-def]
        return None


def _open(cls: type[Scheduler], jobdir: Path | None, memory: int) -> Scheduler:
    settings = {
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
        "ONIONLAB_SCHEDULER_MEMORY": memory,
    }
    if jobdir is not None:
        settings["JOBDIR"] = str(jobdir)
    crawler = get_crawler(_Spider, settings_dict=settings)
    spider = _Spider()
    crawler.spider = spider
    scheduler = cls.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler


def _requests(count: int, start: int = 0) -> list[Request]:
    # Priorities as a crawl gives them (deeper pages lower), several at each level.
    return [
        Request(f"http://{'a' * 56}.onion/page/{i}", priority=-(i % 3), callback=_Spider().parse)
        for i in range(start, start + count)
    ]


def _drain(scheduler: Scheduler) -> list[str]:
    urls = []
    while (request := scheduler.next_request()) is not None:
        urls.append(request.url)
    return urls


def test_the_default_keeps_a_frontier_in_memory_and_bounds_it() -> None:
    assert OnionScheduler.__name__ in default_settings.CRAWL_DEFAULTS["SCHEDULER"]
    assert default_settings.default("ONIONLAB_SCHEDULER_MEMORY") == 2_000


def test_requests_beyond_the_bound_go_to_disk_and_none_is_lost(tmp_path: Path) -> None:
    scheduler = _open(OnionScheduler, tmp_path / "job", memory=5)
    for request in _requests(12):
        assert scheduler.enqueue_request(request)
    stats = scheduler.stats.get_stats()
    assert stats["scheduler/enqueued/memory"] == 5
    assert stats["scheduler/enqueued/disk"] == 7
    assert _on_disk(tmp_path / "job")  # the disk queue holds them
    assert len(scheduler) == 12
    first = [scheduler.next_request().url for _ in range(3)]  # type: ignore[union-attr]
    for request in _requests(4, start=100):  # room again in memory for three of them
        assert scheduler.enqueue_request(request)
    assert scheduler.stats.get_stats()["scheduler/enqueued/memory"] == 8
    urls = first + _drain(scheduler)
    expected = {r.url for r in _requests(12)} | {r.url for r in _requests(4, start=100)}
    assert sorted(urls) == sorted(expected)  # every request, once
    assert len(scheduler) == 0 and not scheduler.has_pending_requests()
    stats = scheduler.stats.get_stats()
    assert stats["scheduler/dequeued/memory"] == 8
    assert stats["scheduler/dequeued/disk"] == 8
    scheduler.close("finished")


def test_under_the_bound_the_order_is_scrapys(tmp_path: Path) -> None:
    ours = _open(OnionScheduler, tmp_path / "job", memory=100)
    scrapys = _open(Scheduler, None, memory=0)  # Scrapy's, all in memory
    for scheduler in (ours, scrapys):
        for request in _requests(30):
            scheduler.enqueue_request(request)
    assert _drain(ours) == _drain(scrapys)
    assert _on_disk(tmp_path / "job") == []  # no queue on disk
    ours.close("finished")


def test_a_bound_of_zero_is_scrapys_disk_queue(tmp_path: Path) -> None:
    ours = _open(OnionScheduler, tmp_path / "ours", memory=0)
    scrapys = _open(Scheduler, tmp_path / "scrapys", memory=0)
    for scheduler in (ours, scrapys):
        for request in _requests(10):
            scheduler.enqueue_request(request)
        assert scheduler.stats.get_stats()["scheduler/enqueued/disk"] == 10
    assert _drain(ours) == _drain(scrapys)
    ours.close("finished")
    scrapys.close("finished")


def _on_disk(jobdir: Path) -> list[str]:
    """The disk queue's files (one a priority), its saved state left out."""
    queue = jobdir / "requests.queue"
    return [p.name for p in queue.iterdir() if p.name != "active.json"] if queue.exists() else []
