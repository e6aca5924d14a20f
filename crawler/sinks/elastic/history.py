"""What a document keeps across crawls, kept by a read before each write.

A listing's ``_id`` is stable across crawls, so every crawl's write replaces the document;
so is a site's (``onionlab-sites``, one document per onion host). Before a chunk of either
is written (:func:`onionlab.crawler.sinks.elastic.bulk.index_actions`), :class:`History`
reads the stored versions of the same ids (one ``mget`` per alias, real time: it sees writes
not yet refreshed) and merges each pair with its alias's rule (:data:`MERGES`):

- listings (:func:`merge`): ``first_seen`` is the earlier of the two, ``last_seen`` the
  later, and the content is that of the more recent crawl. A document indexed before these
  fields existed counts as first seen at its ``@timestamp``.
- sites (:func:`newest`): the more recent of the two (``@timestamp``, the crawl's last
  attempt at the site) wins whole, so a site's state is that of its latest crawl.

Either way loading runs in any order gives the same document.

Why not a scripted upsert (``_update`` whose script keeps ``ctx._source.first_seen``, or
drops an older site state with ``ctx.op = 'noop'``)? It would be atomic and save the
``mget``, and the real node runs update scripts (the in-memory stand-in CI had before did
not). It is not done yet because an update is another bulk operation than the ``index``
the sink sends and spools (spools of earlier runs hold index actions; the bulk module is
being tuned for speed separately), and ``doc`` + ``upsert`` without a script merges partial
documents, so a field a listing lost would survive from an older crawl. The trade-off of
reading first: two writers of the same document at the same moment (a live crawl and
``onionlab index load`` of another run) may both read "not there yet" and the later write
wins; and ``mget`` needs the alias to have one index (a rolled-over alias gives
per-document errors: those documents are not written, but kept as ``unavailable``, rather
than lose their history). Depends on ``elasticsearch``, the
:mod:`onionlab.crawler.runs.rundir` index names and the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from onionlab.crawler.runs.rundir import index_for

FIRST_SEEN, LAST_SEEN = "first_seen", "last_seen"
# mget reports a missing index per document, without an HTTP status: the one bulk would give.
_ERROR_STATUS = {"index_not_found_exception": 404}


@dataclass
class Stored:
    """What one ``mget`` found (``{id: _source}``) and could not read (``{id: (status, why)}``)."""

    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, tuple[int | None, str]] = field(default_factory=dict)


def _moment(value: Any) -> datetime | None:
    """``value`` as an instant (no offset: UTC), or ``None`` if it is no ISO 8601 time."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seen(doc: Mapping[str, Any], key: str) -> Any:
    """``doc[key]``, else its ``@timestamp`` (documents indexed before the field existed)."""
    return doc.get(key) or doc.get("@timestamp")


def _earliest(values: list[Any]) -> Any:
    timed = [(moment, value) for value in values if (moment := _moment(value)) is not None]
    return min(timed, key=lambda pair: pair[0])[1] if timed else None


def merge(new: dict[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """``new`` as it should be written when ``stored`` is in the index (``None``: nothing is).

    The more recently seen of the two gives the content; ``first_seen`` is the earlier and
    ``last_seen`` the later of both. Commutative and idempotent, so replays and loads in any
    order agree. Times are compared as instants (offsets honoured) and kept as written.
    """
    if not stored:
        return new
    new_last, stored_last = _moment(_seen(new, LAST_SEEN)), _moment(_seen(stored, LAST_SEEN))
    stored_is_newer = stored_last is not None and (new_last is None or stored_last > new_last)
    latest = stored if stored_is_newer else new
    merged = dict(latest)
    first = _earliest([_seen(new, FIRST_SEEN), _seen(stored, FIRST_SEEN)])
    if first is not None:
        merged[FIRST_SEEN] = first
    if _seen(latest, LAST_SEEN) is not None:
        merged[LAST_SEEN] = _seen(latest, LAST_SEEN)
    return merged


def newest(new: dict[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The later of ``new`` and ``stored`` by ``@timestamp`` (a tie, or a time that is no
    ISO 8601 instant on the stored side: ``new``), so replays and loads in any order agree."""
    if not stored:
        return new
    new_at, stored_at = _moment(new.get("@timestamp")), _moment(stored.get("@timestamp"))
    if stored_at is not None and (new_at is None or stored_at > new_at):
        return dict(stored)
    return new


Merge = Callable[[dict[str, Any], Mapping[str, Any] | None], dict[str, Any]]
# The aliases whose documents are merged with their stored versions, and how.
MERGES: dict[str, Merge] = {index_for("listing"): merge, index_for("site"): newest}
TRACKED_ALIASES = frozenset(MERGES)


def read_stored(client: Elasticsearch, alias: str, ids: Sequence[str]) -> Stored:
    """The stored ``_source`` of ``ids`` in ``alias`` (one ``mget``).

    A refused request (an HTTP error) makes every id an error; a transport error (the
    cluster unreachable) is raised, as bulk indexing raises it.
    """
    stored = Stored()
    if not ids:
        return stored
    try:
        response = client.mget(index=alias, ids=list(ids))
    except ApiError as exc:
        status = exc.meta.status if isinstance(exc.meta.status, int) else None
        message = f"reading stored documents of {alias} failed: {exc.message}"
        stored.errors = {doc_id: (status, message) for doc_id in ids}
        return stored
    for doc in response.body.get("docs", []):
        doc_id = str(doc.get("_id"))
        error = doc.get("error")
        if isinstance(error, dict):
            kind = str(error.get("type", "error"))
            text = f"reading the stored document failed: {kind}: {error.get('reason', '')}"
            stored.errors[doc_id] = (_ERROR_STATUS.get(kind), text.strip())
        elif doc.get("found"):
            stored.found[doc_id] = doc.get("_source") or {}
    return stored


@dataclass(frozen=True)
class Merged:
    """A document ready to write (``doc``), or why its stored version could not be read."""

    doc: dict[str, Any] | None
    status: int | None = None
    error: str = ""


class History:
    """Merges documents about to be written with their stored versions, chunk by chunk.

    One per bulk run. It remembers the documents of the chunk it prepared last: the bulk
    helper reads the next chunk's first action before it sends the previous chunk, so an
    id repeated across consecutive chunks would otherwise miss its own latest write.
    """

    def __init__(self, client: Elasticsearch) -> None:
        self.client = client
        self._previous: dict[tuple[str, str], dict[str, Any]] = {}

    def prepare(self, chunk: Sequence[tuple[str, str, dict[str, Any]]]) -> list[Merged]:
        """``Merged`` for each ``(alias, id, document)`` of ``chunk``, in order.

        Aliases outside :data:`TRACKED_ALIASES` pass unchanged, without a request; the
        others cost one ``mget`` per alias. Raises what the client raises when the cluster
        cannot be reached.
        """
        ids: dict[str, list[str]] = {}
        for alias, doc_id, _doc in chunk:
            if alias in TRACKED_ALIASES:
                ids.setdefault(alias, []).append(doc_id)
        stored = {
            alias: read_stored(self.client, alias, list(dict.fromkeys(found)))
            for alias, found in ids.items()
        }
        current: dict[tuple[str, str], dict[str, Any]] = {}
        merged: list[Merged] = []
        for alias, doc_id, doc in chunk:
            if alias not in stored:
                merged.append(Merged(doc))
                continue
            if doc_id in stored[alias].errors:
                merged.append(Merged(None, *stored[alias].errors[doc_id]))
                continue
            key = (alias, doc_id)
            known = current.get(key) or stored[alias].found.get(doc_id)
            doc = MERGES[alias](doc, known)
            if key in self._previous:
                doc = MERGES[alias](doc, self._previous[key])
            current[key] = doc
            merged.append(Merged(doc))
        self._previous = current
        return merged
