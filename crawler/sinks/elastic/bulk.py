"""Bulk indexing with per-item accounting: every action ends indexed, unavailable or rejected.

Actions go in chunks of ``chunk_size``, one ``_bulk`` request each (``require_alias``: a
missing alias is an error, not an ad-hoc index). Items answered 429 are sent again after a
back-off (``max_retries`` times); whatever the cluster answers per item is counted, and
when it cannot be reached at all (connection refused, timeout) the actions not acknowledged
are reported ``unavailable``, never lost. Listings get their ``first_seen``/``last_seen``
merged with the stored version just before they are sent
(:mod:`onionlab.crawler.sinks.elastic.history`); a listing whose stored version cannot be
read is not sent (it is reported, so it is spooled and retried).

Pipelined: while one chunk's request is on the wire (a worker thread), the next chunk is
read, merged and encoded, so the client's work overlaps the server's. Requests stay one at a
time and in order, and a chunk's history is read only once the chunk two before it is
acknowledged (what :class:`~onionlab.crawler.sinks.elastic.history.History` expects).
Documents are encoded with the client's JSON serializer
(:func:`onionlab.crawler.sinks.elastic.client.make_client` picks orjson). Depends on
``elasticsearch``, :mod:`onionlab.crawler.sinks.elastic.history` and the standard library.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

from elastic_transport import SerializationError, TransportError
from elasticsearch import ApiError, Elasticsearch

from onionlab.crawler.sinks.elastic.history import History

INDEXED, UNAVAILABLE, REJECTED = "indexed", "unavailable", "rejected"
# Only a document's own fault is final (a mapping or parse error); everything else — the
# cluster down or overloaded, a missing alias before `index setup`, auth — may pass later.
REJECTED_STATUSES = frozenset({400})
RETRY_STATUSES = frozenset({429})  # overloaded, or the flood-stage disk watermark's block
# Documents per bulk request, for the crawl sink (ES_CHUNK_SIZE), `index load` and replays.
# Measured with `python -m bench.bulk_index` on one node here (2 shared CPUs, 256 MB heap),
# median docs/s of 5 rounds, one stream: 500: 13,200; 1000: 13,300; 2000: 16,800; 4000:
# 16,900. The node's CPU per document falls as requests grow (a request, and a history
# read for the listings, per chunk) and flattens past 2000: about 2 MB of the sink's
# documents (~1 kB each) a request, a tenth of that node's indexing-pressure budget (10% of
# its heap), so a small node takes them without pushing back (429).
DEFAULT_CHUNK_SIZE = 2000
# Only what the accounting reads (an item's status and error): the server writes, and the
# client parses, a small part of the full answer.
RESPONSE_FIELDS = "errors,items.*.status,items.*.error"


@dataclass(frozen=True)
class Action:
    """One document to index into ``alias`` under the deterministic ``id``."""

    alias: str
    id: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    """An action that was not indexed: ``reason`` is ``unavailable`` or ``rejected``."""

    action: Action
    reason: str
    status: int | None
    error: str


@dataclass
class BulkReport:
    """What one bulk run did, per item."""

    indexed: Counter[str] = field(default_factory=Counter)  # per alias
    failures: list[Failure] = field(default_factory=list)

    @property
    def indexed_total(self) -> int:
        return sum(self.indexed.values())

    def count(self, reason: str) -> int:
        return sum(1 for failure in self.failures if failure.reason == reason)

    def add(self, other: BulkReport) -> None:
        self.indexed.update(other.indexed)
        self.failures.extend(other.failures)


def classify(status: int | None) -> str:
    """``rejected`` for a document the cluster will never accept, else ``unavailable``."""
    return REJECTED if status in REJECTED_STATUSES else UNAVAILABLE


def describe_error(error: Any) -> str:
    """One line for a bulk item's error (a dict from Elasticsearch, or an exception's text)."""
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            text += f" ({caused['reason']})"
        return text
    return " ".join(str(error).split())[:500]


class Encoded(NamedTuple):
    """An action as its two NDJSON lines (its document merged with its history)."""

    action: Action
    lines: bytes


class Outcome(NamedTuple):
    """What the cluster answered for one item: its HTTP status and error (``None``: none)."""

    item: Encoded
    status: int | None
    error: Any = None


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently items answered 429 are sent again."""

    max_retries: int = 3
    initial: float = 1.0
    maximum: float = 30.0

    def wait(self, attempt: int) -> None:
        if attempt:
            time.sleep(min(self.maximum, self.initial * 2 ** (attempt - 1)))


def send(client: Elasticsearch, batch: list[Encoded], backoff: Backoff) -> list[Outcome]:
    """POST ``batch`` as one ``_bulk`` request; one :class:`Outcome` per item, in any order.

    Items (or the whole request) answered 429 are sent again after a back-off. Raises
    :class:`~elastic_transport.TransportError` when the cluster cannot be reached.
    """
    outcomes: list[Outcome] = []
    todo = batch
    for attempt in range(backoff.max_retries + 1):
        backoff.wait(attempt)
        last = attempt == backoff.max_retries
        try:
            response = client.bulk(
                operations=b"".join(item.lines for item in todo),  # type: ignore[arg-type]
                require_alias=True,
                filter_path=RESPONSE_FIELDS,
            )
        except ApiError as exc:  # the request itself refused: every item shares its fate
            status = exc.status_code if isinstance(exc.status_code, int) else None
            if status in RETRY_STATUSES and not last:
                continue
            return [*outcomes, *(Outcome(item, status, describe_error(exc)) for item in todo)]
        answers = response.body.get("items") or []
        if len(answers) != len(todo):  # cannot happen: items answer in order, one each
            error = f"the bulk response has {len(answers)} items for {len(todo)} sent"
            return [*outcomes, *(Outcome(item, None, error) for item in todo)]
        retry = []
        for item, answer in zip(todo, answers, strict=True):
            info = next(iter(answer.values()))
            status = info.get("status")
            status = status if isinstance(status, int) else None
            if status in RETRY_STATUSES and not last:
                retry.append(item)
            else:
                outcomes.append(Outcome(item, status, info.get("error")))
        if not retry:
            break
        todo = retry
    return outcomes


class BulkRun:
    """The bookkeeping of one :func:`index_actions` call (main thread only)."""

    def __init__(self, client: Elasticsearch) -> None:
        self.report = BulkReport()
        self.history = History(client)
        self.serializer = client.transport.serializers.get_serializer("application/json")

    def fail(self, actions: Iterable[Action], reason: str, status: int | None, error: str) -> None:
        self.report.failures.extend(Failure(a, reason, status, error) for a in actions)

    def prepare(self, chunk: list[Action]) -> list[Encoded]:
        """The chunk merged with its history and encoded; what cannot be is reported."""
        merged = self.history.prepare([(action.alias, action.id, action.doc) for action in chunk])
        ready: list[Encoded] = []
        for action, result in zip(chunk, merged, strict=True):
            if result.doc is None:
                self.fail([action], classify(result.status), result.status, result.error)
                continue
            try:
                header = {"index": {"_index": action.alias, "_id": action.id}}
                lines = b"%b\n%b\n" % (
                    self.serializer.dumps(header),
                    self.serializer.dumps(result.doc),
                )
            except SerializationError as exc:  # not JSON: no retry will change that
                self.fail([action], REJECTED, None, f"not JSON: {describe_error(exc)}")
                continue
            ready.append(Encoded(action, lines))
        return ready

    def settle(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            action = outcome.item.action
            if outcome.status is not None and 200 <= outcome.status < 300:
                self.report.indexed[action.alias] += 1
            else:
                error = describe_error(outcome.error)
                self.fail([action], classify(outcome.status), outcome.status, error)


def index_actions(
    client: Elasticsearch,
    actions: Iterable[Action],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_retries: int = 3,
    initial_backoff: float = 1.0,
    max_backoff: float = 30.0,
) -> BulkReport:
    """Index ``actions`` in chunks; return what happened to each one.

    Blocks (it sleeps between 429 retries): call it from a thread when on a reactor.
    Failures carry the action as given (before its history was merged in: a retry merges
    again).
    """
    run = BulkRun(client)
    backoff = Backoff(max_retries, initial_backoff, max_backoff)
    source: Iterator[Action] = iter(actions)
    down = ""  # why the cluster cannot be reached, once it cannot
    with ThreadPoolExecutor(1, thread_name_prefix="onionlab-bulk") as sender:
        sending: tuple[Future[list[Outcome]], list[Encoded]] | None = None
        while not down:
            chunk = list(islice(source, chunk_size))
            try:  # while the previous chunk is on the wire
                ready = run.prepare(chunk)
            except TransportError as exc:
                down = f"Elasticsearch unreachable: {describe_error(exc)}"
                ready = [Encoded(action, b"") for action in chunk]
            if sending is not None:
                future, batch = sending
                sending = None
                try:
                    run.settle(future.result())
                except TransportError as exc:
                    down = down or f"Elasticsearch unreachable: {describe_error(exc)}"
                    run.fail((item.action for item in batch), UNAVAILABLE, None, down)
            if down:
                run.fail((item.action for item in ready), UNAVAILABLE, None, down)
            elif ready:
                sending = (sender.submit(send, client, ready, backoff), ready)
            elif not chunk:
                break
    if down:
        run.fail(source, UNAVAILABLE, None, down)
    return run.report
