"""Scrapy item pipeline indexing items into Elasticsearch as they are scraped, with a spool.

On when ``ES_URL``/``ONIONLAB_ES_URL`` is set (Scrapy setting, else environment, else
``onionlab.toml``), ``NotConfigured`` otherwise. Bulk requests run in a worker thread, one
at a time, so the reactor never waits on the cluster; what cannot be indexed goes to the run
directory's spool (:mod:`onionlab.crawler.sinks.elastic.spool`). Documents get their ``site_name``
from the Scrapy setting ``ONIONLAB_SITE_SERVICES`` (lab service name → hosts), else from
the run directory's ``config.json``. A listing or a page is sent with its observation in
this crawl (:mod:`onionlab.crawler.sinks.elastic.observations`). Stats (documents, observations
included): ``onionlab/es/indexed``,
``failed``, ``rejected``, ``spooled``, ``replayed``. Depends on Scrapy, Twisted and the
:mod:`onionlab.crawler.sinks.elastic` siblings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from twisted.internet import defer, task, threads

from onionlab.crawler.items import Item
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.rundir import WriteFailed, index_for
from onionlab.crawler.signals import page_failed
from onionlab.crawler.sinks.elastic.bulk import (
    DEFAULT_CHUNK_SIZE,
    REJECTED,
    UNAVAILABLE,
    Action,
    Failure,
    index_actions,
)
from onionlab.crawler.sinks.elastic.client import (
    ElasticConfigError,
    make_client,
    resolve_settings,
    scrapy_flags,
)
from onionlab.crawler.sinks.elastic.documents import (
    RunInfo,
    iso_time,
    read_site_services,
    site_names,
    to_es,
)
from onionlab.crawler.sinks.elastic.events import failure_event, now
from onionlab.crawler.sinks.elastic.observations import with_observations
from onionlab.crawler.sinks.elastic.spool import Spool

logger = logging.getLogger(__name__)
STATS = "onionlab/es"
MAX_LOGGED_REJECTIONS = 10


@dataclass
class FlushResult:
    indexed: int = 0
    failed: int = 0
    rejected: int = 0
    spooled: int = 0
    replayed: int = 0
    unavailable: str = ""  # why the cluster could not be reached, if it could not
    rejections: tuple[Failure, ...] = ()


def flush_batch(
    client: Elasticsearch, spool: Spool, batch: list[Action], chunk_size: int
) -> FlushResult:
    """Replay the spool, then index ``batch``; spool what fails. Blocking: call in a thread.

    If the spool's replay finds the cluster still unreachable, the batch is spooled without
    being sent: sending it could put a newer version in the index that a later replay of an
    older spooled version would then overwrite.
    """
    result = FlushResult()
    replay = spool.replay(client, chunk_size=chunk_size)
    result.replayed = replay.indexed_total
    if replay.count(UNAVAILABLE):
        reason = replay.failures[0].error
        failures = [Failure(action, UNAVAILABLE, None, reason) for action in batch]
    else:
        report = index_actions(client, batch, chunk_size=chunk_size)
        result.indexed = report.indexed_total
        failures = report.failures
    result.failed = len(failures)
    result.rejected = sum(1 for failure in failures if failure.reason == REJECTED)
    result.rejections = tuple(f for f in failures if f.reason == REJECTED)
    result.unavailable = next((f.error for f in failures if f.reason == UNAVAILABLE), "")
    result.spooled = spool.append(failures)
    return result


class ElasticsearchPipeline:
    def __init__(
        self,
        crawler: Crawler,
        client: Elasticsearch,
        run_dir: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        flush_interval: float = 5.0,
        max_buffer: int = 5000,
        description: str = "",
        site_services: Mapping[str, Any] | None = None,
    ) -> None:
        self.crawler = crawler
        self.client = client
        self.spool = Spool.of_run_dir(run_dir)
        self.run_dir = run_dir
        self.chunk_size = chunk_size
        self.flush_interval = flush_interval
        self.max_buffer = max(max_buffer, chunk_size)
        self.description = description
        self.site_services = dict(site_services or {})
        self.run: RunInfo | None = None
        self._buffer: dict[tuple[str, str], Action] = {}
        self._inflight: defer.Deferred[None] | None = None
        self._timer: task.LoopingCall | None = None
        self._rejections_logged = 0
        self._down_since_flush = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ElasticsearchPipeline:
        settings = crawler.settings
        try:
            es = resolve_settings(scrapy_flags(settings))
        except ElasticConfigError as exc:
            raise NotConfigured(f"Elasticsearch sink: {exc}") from exc
        if not es.configured:
            raise NotConfigured("ES_URL / ONIONLAB_ES_URL is not set")
        for warning in es.warnings:
            logger.warning("Elasticsearch sink: %s", warning)
        run_dir = settings.get("ONIONLAB_RUN_DIR")
        if not run_dir:
            raise NotConfigured(
                "the Elasticsearch sink spools into the run directory: no ONIONLAB_RUN_DIR"
            )
        # No transport-level retries: a failed flush is spooled and replayed by the next one.
        options: dict[str, Any] = {"max_retries": 0}
        if settings.get("ES_NODE_CLASS"):
            options["node_class"] = load_object(settings["ES_NODE_CLASS"])
        pipeline = cls(
            crawler,
            make_client(es, **options),
            Path(run_dir),
            chunk_size=settings.getint("ES_CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
            flush_interval=settings.getfloat("ES_FLUSH_INTERVAL", 5.0),
            max_buffer=settings.getint("ES_MAX_BUFFER", 5000),
            description=es.describe(),
            site_services=settings.getdict("ONIONLAB_SITE_SERVICES"),
        )
        crawler.signals.connect(pipeline.record_failure, signal=page_failed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        started = self.crawler.stats.get_value("start_time") if self.crawler.stats else None
        services = self.site_services or read_site_services(self.run_dir)
        self.run = RunInfo(
            self.run_dir.name, iso_time(started) if started else now(), site_names(services)
        )
        logger.info("Elasticsearch sink: indexing into %s", self.description or "the cluster")
        if self.flush_interval > 0:
            self._timer = task.LoopingCall(self._flush_soon, force=True)
            self._timer.start(self.flush_interval, now=False)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, Item):
            return item
        assert self.run is not None, "open_spider was not called"
        action = Action(index_for(item.kind), item.doc_id(), to_es(item.to_doc(), self.run))
        for each in with_observations([action]):  # a listing's or page's crawl is kept too
            self._add(each)
        if self._inflight is not None and len(self._buffer) >= self.max_buffer:
            await self._flushed()  # back-pressure: the cluster is slower than the crawl
        return item

    def _flushed(self) -> Any:
        """An awaitable firing when the running flush ends (its own Deferred: many may wait)."""
        done: defer.Deferred[None] = defer.Deferred()
        if self._inflight is None:
            done.callback(None)
        else:
            self._inflight.addBoth(lambda result: (done.callback(None), result)[1])
        return maybe_deferred_to_future(done)

    def record_failure(self, url: str, kind: str, message: str, **_: Any) -> None:
        """Index a page failure as a ``page_failed`` crawl event (signal ``page_failed``)."""
        if self.run is not None:
            self._add(failure_event(self.run, url, kind, message, now()))

    def _add(self, action: Action) -> None:
        self._buffer[(action.alias, action.id)] = action  # the latest version of an id wins
        if len(self._buffer) >= self.chunk_size:
            self._flush_soon()

    def _flush_soon(self, force: bool = False) -> defer.Deferred[None] | None:
        """Start a flush in a worker thread unless one is running; return the running one."""
        if self._inflight is not None:
            return self._inflight
        if not self._buffer and not (force and self.spool.path.exists()):
            return None
        batch, self._buffer = list(self._buffer.values()), {}
        flushing = threads.deferToThread(
            flush_batch, self.client, self.spool, batch, self.chunk_size
        )
        flushing.addCallbacks(self._count, self._flush_failed, errbackArgs=(batch,))
        flushing.addBoth(self._done)
        self._inflight = flushing
        return flushing

    def _count(self, result: FlushResult) -> None:
        stats = self.crawler.stats
        for name in ("indexed", "failed", "rejected", "spooled", "replayed"):
            value = getattr(result, name)
            if value and stats is not None:
                stats.inc_value(f"{STATS}/{name}", value)
        if result.unavailable and not self._down_since_flush:
            logger.warning(
                "Elasticsearch unavailable (%s): spooling to %s; replayed when it is back",
                result.unavailable,
                self.spool.path,
            )
        elif not result.unavailable and self._down_since_flush:
            logger.info("Elasticsearch is back: %d spooled document(s) replayed", result.replayed)
        self._down_since_flush = bool(result.unavailable)
        for failure in result.rejections:
            self._rejections_logged += 1
            if self._rejections_logged <= MAX_LOGGED_REJECTIONS:
                logger.warning(
                    "Elasticsearch rejected %s %s: %s (kept in %s)",
                    failure.action.alias,
                    failure.action.id,
                    failure.error,
                    self.spool.path,
                )

    def _flush_failed(self, failure: Any, batch: list[Action]) -> None:
        """A bug in the flush itself: keep the batch in the spool rather than lose it."""
        logger.error("Elasticsearch flush failed: %s", failure.getErrorMessage())
        failures = [
            Failure(action, UNAVAILABLE, None, failure.getErrorMessage()) for action in batch
        ]
        try:
            spooled = self.spool.append(failures)
        except WriteFailed as exc:  # disk full: the spool cannot take them either
            notsaved.record(self.crawler, "spool", exc, len(failures))
            spooled = 0
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"{STATS}/failed", len(batch))
            self.crawler.stats.inc_value(f"{STATS}/spooled", spooled)

    def _done(self, _: Any) -> None:
        self._inflight = None
        if len(self._buffer) >= self.chunk_size:
            self._flush_soon()

    async def close_spider(self, spider: Any = None) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        while self._inflight is not None or self._buffer:
            self._flush_soon()
            await self._flushed()
        if self._flush_soon(force=True) is not None:  # a last replay of the spool
            await self._flushed()
        sizes = self.spool.sizes()
        if sizes:
            logger.warning(
                "Elasticsearch: %d document(s) not indexed (%s), kept in %s; "
                "load them with: onionlab index load %s",
                sum(sizes.values()),
                ", ".join(f"{n} {reason}" for reason, n in sorted(sizes.items())),
                self.spool.path,
                self.run_dir,
            )
        self.client.close()
