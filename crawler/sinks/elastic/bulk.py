"""Bulk indexing with per-item accounting: every action ends indexed, unavailable or rejected.

Wraps :func:`elasticsearch.helpers.streaming_bulk` (``raise_on_error=False``,
``raise_on_exception=False``, retries on 429) and also survives what it still raises when
the cluster cannot be reached: the actions not acknowledged are reported ``unavailable``,
never lost. ``require_alias`` makes a missing alias an error instead of an ad-hoc index.
Listings get their ``first_seen``/``last_seen`` merged with the stored version just before
they are sent (:mod:`onionlab.crawler.sinks.elastic.history`); a listing whose stored version cannot
be read is not sent (it is reported, so it is spooled and retried). Depends on
``elasticsearch``, :mod:`onionlab.crawler.sinks.elastic.history` and the standard library.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from elastic_transport import TransportError
from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from onionlab.crawler.sinks.elastic.history import History

INDEXED, UNAVAILABLE, REJECTED = "indexed", "unavailable", "rejected"
# Only a document's own fault is final (a mapping or parse error); everything else — the
# cluster down or overloaded, a missing alias before `index setup`, auth — may pass later.
REJECTED_STATUSES = frozenset({400})


@dataclass(frozen=True)
class Action:
    """One document to index into ``alias`` under the deterministic ``id``."""

    alias: str
    id: str
    doc: dict[str, Any]

    def to_bulk(self) -> dict[str, Any]:
        return {"_op_type": "index", "_index": self.alias, "_id": self.id, "_source": self.doc}


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


def index_actions(
    client: Elasticsearch,
    actions: Iterable[Action],
    *,
    chunk_size: int = 500,
    max_retries: int = 3,
    initial_backoff: float = 1.0,
    max_backoff: float = 30.0,
) -> BulkReport:
    """Index ``actions`` in chunks; return what happened to each one.

    Blocks (it sleeps between 429 retries): call it from a thread when on a reactor.
    Failures carry the action as given (before its history was merged in: a retry merges
    again).
    """
    report = BulkReport()
    pending: dict[str, deque[Action]] = {}
    source = iter(actions)
    history = History(client)

    def tracked() -> Iterator[dict[str, Any]]:
        while chunk := list(islice(source, chunk_size)):
            for action in chunk:
                pending.setdefault(action.id, deque()).append(action)
            merged = history.prepare([(action.alias, action.id, action.doc) for action in chunk])
            for action, result in zip(chunk, merged, strict=True):
                if result.doc is not None:
                    yield replace(action, doc=result.doc).to_bulk()
                    continue
                queue = pending[action.id]
                del queue[next(i for i, queued in enumerate(queue) if queued is action)]
                if not queue:
                    del pending[action.id]
                report.failures.append(
                    Failure(action, classify(result.status), result.status, result.error)
                )

    try:
        for ok, result in streaming_bulk(
            client,
            tracked(),
            chunk_size=chunk_size,
            max_retries=max_retries,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            raise_on_error=False,
            raise_on_exception=False,
            require_alias=True,
        ):
            info = next(iter(result.values()))
            queue = pending.get(str(info.get("_id")))
            if not queue:
                continue  # not ours: cannot happen with ids we sent, kept safe anyway
            action = queue.popleft()
            if not queue:
                del pending[action.id]
            if ok:
                report.indexed[action.alias] += 1
            else:
                status = info.get("status")
                status = status if isinstance(status, int) else None
                error = describe_error(info.get("error") or info.get("exception"))
                report.failures.append(Failure(action, classify(status), status, error))
    except TransportError as exc:  # connection refused, timeout: streaming_bulk re-raises these
        message = f"Elasticsearch unreachable: {describe_error(exc)}"
        unsent = [action for queue in pending.values() for action in queue]
        for action in [*unsent, *source]:
            report.failures.append(Failure(action, UNAVAILABLE, None, message))
    return report
