"""Plugin pipeline speed: every installed plugin over a whole lab world's pages, one core.

    python -m bench.extract_speed [--seed 1] [--repeat 5]

Renders every page of every service of the seed's lab in-process (no Tor, no network:
``tests.support.site_pages.fetch_site``), then times
``onionlab.crawler.extraction.items.extract_items`` (every plugin's extract, then every plugin's
normalise) over all of them, in this single process, ``--repeat`` times; each pass builds fresh
Scrapy responses from the bodies so every pass parses the HTML again, as a crawl does. Prints
pages/s (wall and per CPU second: the figure per core), the time of one ``link_items`` over all
items, and each plugin's share of the hook time (timed by ``ONIONLAB_TRACE_PLUGINS`` in an extra
pass). Measures whatever plugins are installed; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import pluggy

from onionlab.crawler.extraction.items import extract_items, link_items
from onionlab.crawler.extraction.offline import response_from_bytes
from onionlab.crawler.items import Item
from onionlab.crawler.pluginmanager import load_plugins
from tests.support.site_pages import fetch_site, world_and_truth

GOAL = 300  # pages per second per core


def lab_pages(seed: int) -> list[tuple[str, bytes, bool]]:
    """``(url, body, is_html)`` for every truth page of every service of the seed's world."""
    world, _ = world_and_truth(seed)
    pages = []
    for service in world.services:
        for url, response in fetch_site(seed, service.name).items():
            html = "html" in (response.headers.get("Content-Type") or b"").decode()
            pages.append((url, response.body, html))
    return pages


def one_pass(pm: pluggy.PluginManager, pages: list[tuple[str, bytes, bool]]) -> list[Item]:
    items: list[Item] = []
    for url, body, html in pages:
        items.extend(extract_items(pm, response_from_bytes(body, url, html=html)))
    return items


class _TraceTimes(logging.Handler):
    """Sums the durations ``onionlab.crawler.pluginmanager.call_each`` logs when tracing is on."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.ms: defaultdict[tuple[str, str], float] = defaultdict(float)
        self.calls: Counter[tuple[str, str]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "trace: %s.%s took %.2f ms" and isinstance(record.args, tuple):
            plugin, hook, ms = record.args
            self.ms[(str(plugin), str(hook))] += float(ms)
            self.calls[(str(plugin), str(hook))] += 1


@contextmanager
def traced() -> Iterator[_TraceTimes]:
    logger = logging.getLogger("onionlab.crawler.pluginmanager")
    handler, propagate = _TraceTimes(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    os.environ["ONIONLAB_TRACE_PLUGINS"] = "1"
    try:
        yield handler
    finally:
        del os.environ["ONIONLAB_TRACE_PLUGINS"]
        logger.removeHandler(handler)
        logger.propagate = propagate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    os.environ.pop("ONIONLAB_TRACE_PLUGINS", None)

    loaded = load_plugins()
    pm = loaded.manager
    pages = lab_pages(options.seed)
    services = len(world_and_truth(options.seed)[0].services)
    print(f"{len(pages)} pages of seed {options.seed}'s lab ({services} services), in memory")
    print(
        f"plugins: {', '.join(p.name + (' (failed)' if p.error else '') for p in loaded.plugins)}"
    )
    print("single process, single thread: the figures are per core")

    one_pass(pm, pages)  # warm-up: imports, regex compilation, caches
    wall, cpu = [], []
    for _ in range(options.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        items = one_pass(pm, pages)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    per_wall = len(pages) / statistics.median(wall)
    per_cpu = len(pages) / statistics.median(cpu)
    verdict = "meets" if per_cpu >= GOAL else "MISSES"
    print(
        f"extract + normalise: {per_wall:.0f} pages/s wall, {per_cpu:.0f} pages per CPU-second"
        f" (median of {options.repeat}; {verdict} the goal of {GOAL} pages/s/core)"
    )
    kinds = Counter(item.kind for item in items)
    print(f"items per pass: {len(items)} ({', '.join(f'{n} {k}' for k, n in kinds.items())})")

    started = time.perf_counter()
    linked = link_items(pm, items)
    link_ms = (time.perf_counter() - started) * 1000
    print(f"link_items over them: {link_ms:.1f} ms, {len(linked)} items linked")

    with traced() as times:
        one_pass(pm, pages)
    total = sum(times.ms.values()) or 1.0
    print("\nshare of hook time (one traced pass):")
    print(f"  {'plugin':<22} {'hook':<26} {'calls':>7} {'ms':>9} {'share':>7}")
    for (plugin, hook), ms in sorted(times.ms.items(), key=lambda kv: -kv[1]):
        calls = times.calls[(plugin, hook)]
        print(f"  {plugin:<22} {hook:<26} {calls:>7} {ms:>9.1f} {ms / total:>7.1%}")


if __name__ == "__main__":
    main()
