"""Crawl events for the "crawl health" dashboard: page failures and per-site liveness.

Two ECS ``event.action`` values go to the ``onionlab-crawl-events`` alias:
``page_failed`` (one per URL and failure kind, from ``errors.ndjson`` or live from a crawl)
and ``site_liveness`` (one per onion host and run, from ``sites.json``), each with the
host (``site``) and its lab service's name (``site_name``). Ids are deterministic, so
loading a run twice updates the same documents. Each host also has one document in
``onionlab-sites`` (:func:`site_state`, id: the host's) holding its state in the latest
crawl that tried it: the sink keeps the newer of the stored and the new one
(:mod:`onionlab.crawler.sinks.elastic.history`), so a site is counted once, in its latest
state, however many crawls saw it. A plain aliased index, not a data stream:
reloads must overwrite (data streams are append-only) and the test stand-in has no data
streams. Depends on :mod:`onionlab.crawler.items`, :mod:`onionlab.crawler.sinks.elastic` siblings
and the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onionlab.crawler.items import host_of, stable_id
from onionlab.crawler.sinks.elastic.bulk import Action
from onionlab.crawler.sinks.elastic.documents import RunInfo, iso_time, url_fields
from onionlab.crawler.sinks.elastic.templates import EVENTS_ALIAS, EVENTS_KIND, SITE_KIND, SPECS

DATASET = "onionlab.crawl"
PAGE_FAILED, SITE_LIVENESS = "page_failed", "site_liveness"


def failure_event(run: RunInfo, url: str, kind: str, message: str, at: str | None = None) -> Action:
    """The event for one page that could not be fetched (``at``: when; default: run start)."""
    doc = {
        "@timestamp": iso_time(at or run.started_at),
        "run_id": run.run_id,
        "kind": EVENTS_KIND,
        "site": host_of(url),
        "site_name": run.site_name(host_of(url)),
        "url": url_fields(url),
        "event": {
            "kind": "event",
            "category": ["web"],
            "type": ["error"],
            "action": PAGE_FAILED,
            "outcome": "failure",
            "dataset": DATASET,
        },
        "error": {"type": kind, "message": message},
    }
    return Action(EVENTS_ALIAS, stable_id(EVENTS_KIND, run.run_id, PAGE_FAILED, url, kind), doc)


def liveness_event(run: RunInfo, host: str, record: dict[str, Any]) -> Action:
    """The event for one host's entry of ``sites.json``
    (see :mod:`onionlab.crawler.downloadermiddlewares.liveness`)."""
    failures = {str(k): int(v) for k, v in dict(record.get("failures") or {}).items()}
    state = str(record.get("state", "down"))
    liveness: dict[str, Any] = {
        "state": state,
        "responses": int(record.get("responses", 0)),
        "failures": sum(failures.values()),
        "consecutive_failures": int(record.get("consecutive_failures", 0)),
        "failures_by_kind": failures,
    }
    for key in ("first_seen", "last_seen", "last_attempt", "gone_at"):
        if record.get(key):
            liveness[key] = iso_time(record[key])
    when = record.get("last_attempt") or record.get("last_seen") or run.started_at
    doc = {
        "@timestamp": iso_time(when),
        "run_id": run.run_id,
        "kind": EVENTS_KIND,
        "site": host,
        "site_name": run.site_name(host),
        "url": {"domain": host},
        "event": {
            "kind": "state",
            "category": ["network"],
            "type": ["info"],
            "action": SITE_LIVENESS,
            "outcome": "success" if state == "up" else "failure",
            "dataset": DATASET,
        },
        "liveness": liveness,
    }
    return Action(EVENTS_ALIAS, stable_id(EVENTS_KIND, run.run_id, SITE_LIVENESS, host), doc)


def site_state(run: RunInfo, host: str, record: dict[str, Any]) -> Action:
    """The ``onionlab-sites`` document of one host's entry of ``sites.json``: its state as of
    this crawl, stamped (``@timestamp``) with the crawl's last attempt at it."""
    event = liveness_event(run, host, record).doc
    doc = {key: event[key] for key in ("@timestamp", "run_id", "site", "site_name", "url")}
    doc |= {"kind": SITE_KIND, "liveness": event["liveness"]}
    return Action(SPECS[SITE_KIND].alias, stable_id(SITE_KIND, host), doc)


def run_events(run_dir: Path, run: RunInfo | None = None) -> Iterator[Action]:
    """Every crawl event of a run directory (its ``errors.ndjson``, then its ``sites.json``),
    each host's liveness event followed by its site document."""
    run = run or RunInfo.of_run_dir(run_dir)
    errors = run_dir / "errors.ndjson"
    if errors.exists():
        with errors.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    entry = json.loads(line)
                    yield failure_event(
                        run,
                        str(entry.get("url", "")),
                        str(entry.get("kind", "error")),
                        str(entry.get("message", "")),
                        entry.get("at"),
                    )
    sites = run_dir / "sites.json"
    if sites.exists():
        for host, record in sorted(json.loads(sites.read_text(encoding="utf-8")).items()):
            yield liveness_event(run, host, record)
            yield site_state(run, host, record)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
