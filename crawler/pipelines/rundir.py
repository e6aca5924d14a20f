"""Writes every item to the run directory as Elasticsearch bulk NDJSON, and failures beside it.

Enabled when ``ONIONLAB_RUN_DIR`` is set. Counts ``onionlab/items/<kind>`` in Scrapy's
stats; items that are not onionlab items are refused with a reason (``DropItem``), never
dropped silently.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import Item
from crawler.rundir import RunDir, index_for
from crawler.spiders.onion import page_failed


class RunDirPipeline:
    def __init__(self, crawler: Crawler, run_dir: RunDir) -> None:
        self.crawler = crawler
        self.run_dir = run_dir
        self._items: IO[str] | None = None
        self._errors: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunDirPipeline:
        path = crawler.settings.get("ONIONLAB_RUN_DIR")
        if not path:
            raise NotConfigured("ONIONLAB_RUN_DIR is not set")
        pipeline = cls(crawler, RunDir(Path(path)))
        crawler.signals.connect(pipeline.record_failure, signal=page_failed)
        return pipeline

    def open_spider(self, spider: Spider | None = None) -> None:
        self._items = self.run_dir.items.open("a", encoding="utf-8")
        self._errors = self.run_dir.errors.open("a", encoding="utf-8")

    def close_spider(self, spider: Spider | None = None) -> None:
        for handle in (self._items, self._errors):
            if handle is not None:
                handle.close()

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, Item):
            raise DropItem(f"not an onionlab item: {type(item).__name__}")
        assert self._items is not None
        action = {"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}
        self._items.write(json.dumps(action) + "\n")
        self._items.write(json.dumps(item.to_doc(), ensure_ascii=False, sort_keys=True) + "\n")
        self._items.flush()
        self.crawler.stats.inc_value(f"onionlab/items/{item.kind}")
        return item

    def record_failure(self, url: str, kind: str, message: str, **_: Any) -> None:
        if self._errors is not None:
            at = datetime.now(UTC).isoformat(timespec="seconds")
            record = {"url": url, "kind": kind, "message": message, "at": at}
            self._errors.write(json.dumps(record) + "\n")
            self._errors.flush()
