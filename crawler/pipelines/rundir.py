"""Writes every item to the run directory as Elasticsearch bulk NDJSON, and failures beside it.

Enabled when ``ONIONLAB_RUN_DIR`` is set. Counts ``onionlab/items/<kind>`` in Scrapy's
stats; items that are not onionlab items are refused with a reason (``DropItem``), never
dropped silently.

Each item is serialised first (action and document), then written in one write that is
either whole or cut back (:class:`onionlab.crawler.runs.rundir.AppendFile`): a document that is not
JSON data (a ``datetime`` in ``extra``, a NaN) is counted as
``onionlab/dropped/item_unserialisable`` (and ``plugins/<name>/errors`` when the item names its
plugin) and the crawl goes on; a write that fails (disk full) stops the crawl
(:mod:`onionlab.crawler.runs.notsaved`). An item any item pipeline raises on (Scrapy's
``item_error``) is counted as ``onionlab/dropped/pipeline_error``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from onionlab.crawler.items import Item
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.rundir import (
    AppendFile,
    RunDir,
    WriteFailed,
    dumps_line,
    encode_lines,
    index_for,
)
from onionlab.crawler.signals import failure_saved, page_failed

logger = logging.getLogger(__name__)

UNSERIALISABLE = "onionlab/dropped/item_unserialisable"
PIPELINE_ERROR = "onionlab/dropped/pipeline_error"


def plugin_of(item: Any) -> str | None:
    """The plugin that made ``item``, when the item says (attribute ``_plugin``)."""
    name = getattr(item, "_plugin", None)
    return name if isinstance(name, str) and name else None


def item_lines(item: Item) -> bytes:
    """The action line and the document line of ``item``, in UTF-8; TypeError/ValueError if
    the document is not JSON data."""
    action = {"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}
    return encode_lines(action, item.to_doc())


class RunDirPipeline:
    def __init__(self, crawler: Crawler, run_dir: RunDir) -> None:
        self.crawler = crawler
        self.run_dir = run_dir
        self._items: AppendFile | None = None
        self._errors: AppendFile | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunDirPipeline:
        path = crawler.settings.get("ONIONLAB_RUN_DIR")
        if not path:
            raise NotConfigured("ONIONLAB_RUN_DIR is not set")
        pipeline = cls(crawler, RunDir(Path(path)))
        crawler.signals.connect(pipeline.record_failure, signal=page_failed)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    def open_spider(self, spider: Spider | None = None) -> None:
        self._items = AppendFile(self.run_dir.items)
        self._errors = AppendFile(self.run_dir.errors)

    def close_spider(self, spider: Spider | None = None) -> None:
        for handle in (self._items, self._errors):
            if handle is not None:
                handle.close()

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, Item):
            raise DropItem(f"not an onionlab item: {type(item).__name__}")
        assert self._items is not None
        stats = self.crawler.stats
        assert stats is not None
        if notsaved.is_stopped(stats):  # stopping: nothing more is written (see notsaved)
            notsaved.count(stats, "items")
            raise DropItem(f"not saved (the crawl is stopping): {item.kind} {item.doc_id()}")
        try:
            text = item_lines(item)
        except (TypeError, ValueError) as exc:
            stats.inc_value(UNSERIALISABLE)
            plugin = plugin_of(item)
            if plugin:
                stats.inc_value(f"plugins/{plugin}/errors")
            logger.error(
                "%s item %s%s is not JSON data, not written: %s",
                item.kind,
                item.doc_id(),
                f" (plugin {plugin!r})" if plugin else "",
                exc,
            )
            raise DropItem(f"unserialisable {item.kind} item: {exc}") from None
        try:
            self._items.write(text)
        except WriteFailed as exc:
            notsaved.record(self.crawler, "items", exc)
            raise DropItem(f"not saved: {exc}") from None
        stats.inc_value(f"onionlab/items/{item.kind}")
        return item

    def item_error(self, item: Any = None, failure: Any = None, **_: Any) -> None:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(PIPELINE_ERROR)

    def record_failure(self, url: str, kind: str, message: str, **_: Any) -> None:
        if self._errors is None:
            return
        stats = self.crawler.stats
        if notsaved.is_stopped(stats):
            notsaved.count(stats, "errors")
            return
        at = datetime.now(UTC).isoformat(timespec="seconds")
        record = {"url": url, "kind": kind, "message": message, "at": at}
        try:
            self._errors.write(dumps_line(record, default=str))
        except WriteFailed as exc:
            notsaved.record(self.crawler, "errors", exc)
            return
        self.crawler.signals.send_catch_log(signal=failure_saved, url=url)
