"""Loads a whole run directory into Elasticsearch: items, crawl events, then the spool.

Listings and pages also get their observation in this crawl
(:mod:`onionlab.crawler.sinks.elastic.observations`); sites their latest state
(:func:`onionlab.crawler.sinks.elastic.events.site_state`).

Idempotent (deterministic ids). The latest version of each item in ``items.ndjson`` wins
over a spooled copy; spooled documents found nowhere else are sent as they are, rejected
ones included (``load`` is the explicit retry). Whatever still fails goes back to the spool.
:func:`check_run_dir` reads every file first, so a damaged run is one clear error
(:class:`onionlab.crawler.runs.rundir.RunDirDamaged`: file, line) before anything is sent.
Depends on :mod:`onionlab.crawler.runs.rundir` and the :mod:`onionlab.crawler.sinks.elastic`
siblings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from elasticsearch import Elasticsearch

from onionlab.crawler.runs.rundir import RunDir, RunDirDamaged, bulk_pairs, ndjson_lines
from onionlab.crawler.sinks.elastic.bulk import (
    DEFAULT_CHUNK_SIZE,
    REJECTED,
    UNAVAILABLE,
    Action,
    BulkReport,
    index_actions,
)
from onionlab.crawler.sinks.elastic.documents import RunInfo, to_es
from onionlab.crawler.sinks.elastic.events import failure_event, liveness_event, run_events
from onionlab.crawler.sinks.elastic.observations import with_observations
from onionlab.crawler.sinks.elastic.spool import Spool


@dataclass
class LoadReport:
    """What a load did: documents read and indexed per alias, failures, the spool after."""

    read: Counter[str] = field(default_factory=Counter)
    bulk: BulkReport = field(default_factory=BulkReport)
    replayed: int = 0
    spool: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "read": dict(sorted(self.read.items())),
            "indexed": dict(sorted(self.bulk.indexed.items())),
            "indexed_total": self.bulk.indexed_total,
            "rejected": self.bulk.count(REJECTED),
            "unavailable": self.bulk.count(UNAVAILABLE),
            "replayed_from_spool": self.replayed,
            "spool": dict(sorted(self.spool.items())),
            "errors": sorted({f.error for f in self.bulk.failures})[:10],
        }


def item_actions(run_dir: RunDir, run: RunInfo) -> Iterator[Action]:
    """Each item of ``items.ndjson`` once, in its latest version, as Elasticsearch documents."""
    last: dict[tuple[str, str], int] = {}
    for position, (action, _doc) in enumerate(run_dir.iter_docs()):
        target = next(iter(action.values()))
        last[(target["_index"], target["_id"])] = position
    for position, (action, doc) in enumerate(run_dir.iter_docs()):
        target = next(iter(action.values()))
        key = (target["_index"], target["_id"])
        if last[key] == position:
            yield Action(key[0], key[1], to_es(doc, run))


def check_run_dir(path: Path) -> None:
    """Read every file a load reads (items, errors, sites, stats, config, spool, summary)
    and make every document of it; raise :class:`RunDirDamaged` (file, line) on the first
    one that is truncated, garbage, or not what onionlab writes."""
    run_dir = RunDir(path)
    run_dir.check()
    try:
        run = RunInfo.of_run_dir(path)
    except (ValueError, TypeError, AttributeError) as exc:
        raise RunDirDamaged(run_dir.stats, f"unreadable start time or sites ({exc})") from None
    for line, action, doc in bulk_pairs(run_dir.items):
        if "_index" not in next(iter(action.values())):
            raise RunDirDamaged(run_dir.items, "an action line without its _index", line)
        try:
            to_es(doc, run)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise RunDirDamaged(
                run_dir.items, f"a document onionlab cannot index ({exc})", line + 1
            ) from None
    for line, entry in ndjson_lines(run_dir.errors):
        try:
            failure_event(run, str(entry.get("url", "")), str(entry.get("kind", "error")),
                          str(entry.get("message", "")), entry.get("at"))  # fmt: skip
        except (ValueError, TypeError, AttributeError) as exc:
            raise RunDirDamaged(
                run_dir.errors, f"a failure record that is not one ({exc})", line
            ) from None
    for host, record in (run_dir.read_json(run_dir.sites) or {}).items():
        try:
            liveness_event(run, host, record)
        except (ValueError, TypeError, AttributeError) as exc:
            raise RunDirDamaged(
                run_dir.sites, f"the entry of {host[:70]} is not one ({exc})"
            ) from None
    Spool.of_run_dir(path).entries()


def load_run_dir(
    client: Elasticsearch, path: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> LoadReport:
    """Index every item (and the observations of its listings and pages) and event of the
    run in ``path``, then what only the spool holds."""
    run = RunInfo.of_run_dir(path)
    report = LoadReport()
    seen: set[tuple[str, str]] = set()

    def counted(actions: Iterator[Action]) -> Iterator[Action]:
        for action in actions:
            report.read[action.alias] += 1
            seen.add((action.alias, action.id))
            yield action

    items = with_observations(item_actions(RunDir(path), run))
    main = index_actions(client, counted(items), chunk_size=chunk_size)
    main.add(index_actions(client, counted(run_events(path, run)), chunk_size=chunk_size))
    spool = Spool.of_run_dir(path)
    replay = spool.replay(client, retry_rejected=True, skip=seen, chunk_size=chunk_size)
    spool.append(main.failures)
    report.replayed = replay.indexed_total
    report.bulk = main
    report.bulk.add(replay)
    report.spool = spool.sizes()
    return report
