"""The spool: documents not yet in Elasticsearch, kept in the run directory, replayed later.

``spool.ndjson`` is in bulk format (action line, then the Elasticsearch document as the
sink made it; a listing's ``first_seen``/``last_seen`` are merged with the stored version
again whenever it is sent) with one extra key in the action line, ``"spool": {"reason",
"status", "error", "at"}`` (strip it to POST the file to ``_bulk``). ``reason`` is ``unavailable``
(replayed by every later flush and by ``onionlab index load``) or ``rejected`` (the
cluster refused the document itself; replayed only on request, after the mapping is fixed).
Ids are deterministic, so a replay updates instead of duplicating. Appends are whole or
cut back (a full disk leaves no half entry); a damaged spool is
:class:`onionlab.crawler.runs.rundir.RunDirDamaged` (file and line), never a traceback. Depends on
:mod:`onionlab.crawler.runs.rundir`, :mod:`onionlab.crawler.sinks.elastic.bulk` and the standard
library.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from onionlab.crawler.runs.rundir import AppendFile, RunDirDamaged, bulk_pairs
from onionlab.crawler.sinks.elastic.bulk import (
    DEFAULT_CHUNK_SIZE,
    REJECTED,
    UNAVAILABLE,
    Action,
    BulkReport,
    Failure,
    index_actions,
)

SPOOL_FILE = "spool.ndjson"


@dataclass(frozen=True)
class SpoolEntry:
    action: Action
    reason: str
    status: int | None
    error: str
    at: str

    @classmethod
    def of(cls, failure: Failure) -> SpoolEntry:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(failure.action, failure.reason, failure.status, failure.error, now)

    def lines(self) -> str:
        meta = {"index": {"_index": self.action.alias, "_id": self.action.id}}
        meta["spool"] = {
            "reason": self.reason,
            "status": self.status,
            "error": self.error,
            "at": self.at,
        }
        doc = json.dumps(self.action.doc, ensure_ascii=False, sort_keys=True)
        return json.dumps(meta, ensure_ascii=False) + "\n" + doc + "\n"


class Spool:
    """The spool file of one run directory; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()  # replay holds it while appends wait

    @classmethod
    def of_run_dir(cls, run_dir: Path) -> Spool:
        return cls(run_dir / SPOOL_FILE)

    def append(self, failures: Iterable[Failure]) -> int:
        """Add failed actions to the spool; return how many."""
        text = "".join(SpoolEntry.of(failure).lines() for failure in failures)
        if not text:
            return 0
        with self._lock:
            spool = AppendFile(self.path, fsync=True)
            try:
                spool.write(text)
            finally:
                spool.close()
        return text.count("\n") // 2

    def _read(self) -> Iterator[SpoolEntry]:
        for line, meta, doc in bulk_pairs(self.path):
            target, spool = meta.get("index"), meta.get("spool", {})
            if target is None or not isinstance(spool, dict):
                raise RunDirDamaged(self.path, 'not a spool action line ({"index", "spool"})', line)
            status = spool.get("status")
            if status is not None and type(status) is not int:
                raise RunDirDamaged(self.path, "a spool status that is not a number", line)
            yield SpoolEntry(
                Action(target["_index"], target["_id"], doc),
                str(spool.get("reason", UNAVAILABLE)),
                status,
                str(spool.get("error", "")),
                str(spool.get("at", "")),
            )

    def entries(self) -> list[SpoolEntry]:
        """Every spooled document once: the latest entry of each index and id wins."""
        with self._lock:
            latest = {(e.action.alias, e.action.id): e for e in self._read()}
        return list(latest.values())

    def sizes(self) -> Counter[str]:
        """Spooled documents per reason (``unavailable``, ``rejected``)."""
        return Counter(entry.reason for entry in self.entries())

    def replace(self, entries: Iterable[SpoolEntry]) -> None:
        """Rewrite the spool with exactly ``entries`` (atomically: a crash keeps the old one)."""
        text = "".join(entry.lines() for entry in entries)
        with self._lock:
            if not text:
                self.path.unlink(missing_ok=True)
                return
            temporary = self.path.with_suffix(".ndjson.tmp")
            try:
                with temporary.open("w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
            except OSError:
                temporary.unlink(missing_ok=True)  # the old spool stays as it was
                raise

    def replay(
        self,
        client: Elasticsearch,
        *,
        retry_rejected: bool = False,
        skip: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> BulkReport:
        """Send the spooled documents again; keep in the spool only those that fail again.

        Rejected documents are sent only with ``retry_rejected``. ``skip`` names
        ``(alias, id)`` pairs already indexed from a newer source: they are dropped unsent.
        """
        with self._lock:
            entries = self.entries()
            if not entries:
                return BulkReport()
            kept = [
                entry
                for entry in entries
                if entry.reason == REJECTED and not retry_rejected and _key(entry) not in skip
            ]
            held = {_key(entry) for entry in kept} | set(skip)
            send = [entry.action for entry in entries if _key(entry) not in held]
            report = index_actions(client, send, chunk_size=chunk_size)
            self.replace([*kept, *(SpoolEntry.of(failure) for failure in report.failures)])
            return report


def _key(entry: SpoolEntry) -> tuple[str, str]:
    return entry.action.alias, entry.action.id
