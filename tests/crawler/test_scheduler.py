"""The scheduler's queues (onionlab.crawler.scheduler): requests in memory up to a bound
shared by every site's queue, on disk beyond it; none lost; in Scrapy's order; and which
site goes next is Scrapy's choice wherever its requests are kept."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request, Spider
from scrapy.core.downloader import Downloader
from scrapy.core.scheduler import Scheduler
from scrapy.utils.test import get_crawler

from onionlab.crawler import default_settings

OURS = "onionlab.crawler.scheduler.MemoryFirstDiskQueue"


class _Spider(Spider):
    name = "scheduler-test"

    def parse(self, response):  # type: ignore[no-untyped-def]
        return None


def _open(jobdir: Path, memory: int, queue: str = OURS) -> Scheduler:
    settings = {
        "JOBDIR": str(jobdir),
        "SCHEDULER_DISK_QUEUE": queue,
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
        "ONIONLAB_SCHEDULER_MEMORY": memory,
    }
    crawler = get_crawler(_Spider, settings_dict=settings)
    spider = _Spider()
    crawler.spider = spider
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler


def _requests(count: int, start: int = 0, host: str = "a") -> list[Request]:
    # Priorities as a crawl gives them (deeper pages lower), several at each level.
    return [
        Request(f"http://{host * 56}.onion/page/{i}", priority=-(i % 3), callback=_Spider().parse)
        for i in range(start, start + count)
    ]


def _drain(scheduler: Scheduler) -> list[str]:
    urls = []
    while (request := scheduler.next_request()) is not None:
        urls.append(request.url)
    return urls


def _on_disk(jobdir: Path) -> list[str]:
    """The disk queue files Scrapy's LIFO queues made (its saved state left out)."""
    queue = jobdir / "requests.queue"
    return sorted(
        str(p.relative_to(queue))
        for p in queue.rglob("*")
        if p.is_file() and p.name != "active.json"
    )


def test_the_add_on_sets_it_with_a_bound() -> None:
    assert default_settings.CRAWL_DEFAULTS["SCHEDULER_DISK_QUEUE"] == OURS
    assert default_settings.default("ONIONLAB_SCHEDULER_MEMORY") == 2_000


def test_requests_beyond_the_bound_go_to_disk_and_none_is_lost(tmp_path: Path) -> None:
    scheduler = _open(tmp_path / "job", memory=5)
    for request in _requests(12):
        assert scheduler.enqueue_request(request)
    assert scheduler.stats.get_value("onionlab/scheduler/on_disk") == 7
    assert _on_disk(tmp_path / "job")  # Scrapy's disk queue holds those
    assert len(scheduler) == 12
    urls = _drain(scheduler)
    assert sorted(urls) == sorted(r.url for r in _requests(12))  # every request, once
    assert len(scheduler) == 0 and not scheduler.has_pending_requests()
    for request in _requests(5, start=100):  # the memory taken back is free again
        assert scheduler.enqueue_request(request)
    assert scheduler.stats.get_value("onionlab/scheduler/on_disk") == 7
    assert sorted(_drain(scheduler)) == sorted(r.url for r in _requests(5, start=100))
    scheduler.close("finished")


def test_under_the_bound_nothing_touches_the_disk_and_the_order_is_scrapys(tmp_path: Path) -> None:
    ours = _open(tmp_path / "ours", memory=100)
    scrapys = _open(tmp_path / "scrapys", memory=0, queue="scrapy.squeues.PickleLifoDiskQueue")
    for scheduler in (ours, scrapys):
        for request in _requests(30):
            scheduler.enqueue_request(request)
    assert _on_disk(tmp_path / "ours") == [] and _on_disk(tmp_path / "scrapys")
    assert _drain(ours) == _drain(scrapys)
    assert ours.stats.get_value("onionlab/scheduler/on_disk") is None
    ours.close("finished")
    scrapys.close("finished")


def test_which_site_goes_next_does_not_depend_on_where_its_requests_are(tmp_path: Path) -> None:
    """The regression a first version had (memory taken first: beside the hostile lab, a
    site whose requests were on disk waited while another site's filled memory): the
    sites come in the order Scrapy's own disk queue gives, with the crawl's priority queue
    (the site with the fewest requests in flight next)."""

    def sites_in_order(queue: str, memory: int, jobdir: Path) -> list[str]:
        crawler = get_crawler(
            _Spider,
            settings_dict={
                "JOBDIR": str(jobdir),
                "SCHEDULER_DISK_QUEUE": queue,
                "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
                "ONIONLAB_SCHEDULER_MEMORY": memory,
            },
        )
        crawler.spider = _Spider()
        crawler.engine = type("Engine", (), {"downloader": Downloader(crawler)})()
        scheduler = Scheduler.from_crawler(crawler)
        scheduler.open(crawler.spider)
        for request in _requests(10, host="q"):  # a quiet site first: what memory holds
            scheduler.enqueue_request(request)
        for request in _requests(50, host="f"):  # then a flood, on disk
            scheduler.enqueue_request(request)
        hosts = [request.url[7] for request in iter(scheduler.next_request, None)]
        scheduler.close("finished")
        return hosts

    scrapys = sites_in_order("scrapy.squeues.PickleLifoDiskQueue", 0, tmp_path / "scrapys")
    ours = sites_in_order(OURS, 10, tmp_path / "ours")
    assert len(ours) == 60
    assert ours == scrapys
