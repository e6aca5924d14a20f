"""The crawl's stats collector: Scrapy's ``MemoryStatsCollector``, every access direct.

Scrapy 2.19's ``StatsCollector`` sends every attribute access, ``self._stats`` inside its own
methods included, through a ``__getattribute__`` that wraps the public methods to warn about
their deprecated ``spider`` argument: a string built, a lookup failed and an AttributeError
raised at each access, so one ``inc_value`` cost 1.4 µs instead of 0.09. A crawl counts a few
dozen stats per page: this was 3 % of the crawl process's CPU (py-spy, open lab). onionlab
never passes ``spider``; the methods still take it, and only the warning is gone. Set as
``STATS_CLASS`` by :mod:`onionlab.crawler.default_settings`. Depends on Scrapy only.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class OnionStatsCollector(MemoryStatsCollector):
    """``MemoryStatsCollector`` without the per-access deprecation wrapper."""

    __getattribute__ = object.__getattribute__
