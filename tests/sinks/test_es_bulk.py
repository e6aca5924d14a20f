"""Bulk indexing accounts for every item; the spool keeps what failed; load is idempotent."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.items import Listing, Page
from onionlab.crawler.sinks.elastic import bulk
from onionlab.crawler.sinks.elastic.bulk import (
    REJECTED,
    UNAVAILABLE,
    Action,
    Backoff,
    Failure,
    index_actions,
    send,
)
from onionlab.crawler.sinks.elastic.client import make_client, resolve_settings
from onionlab.crawler.sinks.elastic.documents import RunInfo, to_es
from onionlab.crawler.sinks.elastic.load import load_run_dir
from onionlab.crawler.sinks.elastic.spool import Spool
from tests.support.es_node import free_port
from tests.support.known_crawl import latest_docs

RUN = RunInfo("run-1", "2026-11-22T15:31:36+00:00")
HOST = "b" * 56 + ".onion"


def listing_action(number: int, run: RunInfo = RUN, **fields: object) -> Action:
    listing = Listing(HOST, str(number), f"http://{HOST}/i/{number}", f"Item {number}")
    doc = to_es(listing.to_doc(), run) | fields
    return Action("onionlab-listings", listing.doc_id(), doc)


def count(client: Elasticsearch, alias: str) -> int:
    client.indices.refresh(index=alias)
    return int(client.count(index=alias)["count"])


def test_partial_failures_are_accounted_per_item(es: Elasticsearch) -> None:
    good = [listing_action(n, price_usd="12.50") for n in range(10)]
    bad_type = listing_action(10, price_usd="twelve")
    unknown_field = listing_action(11, shipping_days=3)  # strict root: not in the design
    report = index_actions(es, [*good[:5], bad_type, *good[5:], unknown_field], chunk_size=4)

    assert report.indexed_total == 10
    assert {(f.action.id, f.reason, f.status) for f in report.failures} == {
        (bad_type.id, REJECTED, 400),
        (unknown_field.id, REJECTED, 400),
    }
    errors = {f.action.id: f.error for f in report.failures}
    assert "price_usd" in errors[bad_type.id] and "shipping_days" in errors[unknown_field.id]
    assert count(es, "onionlab-listings") == 10


def test_without_setup_nothing_is_created_and_items_wait(bare_es: Elasticsearch) -> None:
    client = bare_es
    report = index_actions(client, [listing_action(1)])
    [failure] = report.failures
    assert failure.reason == UNAVAILABLE and failure.status == 404
    assert not client.indices.exists(index="onionlab-listings")  # no ad-hoc index


def test_unreachable_cluster_reports_every_item_unavailable() -> None:
    # Nothing listens on a free loopback port: what a stopped node looks like to the client.
    client = make_client(resolve_settings({"url": f"http://127.0.0.1:{free_port()}"}))
    client = client.options(max_retries=0)
    actions = [listing_action(n) for n in range(7)]
    report = index_actions(client, actions, chunk_size=3)
    assert report.indexed_total == 0
    assert sorted(f.action.id for f in report.failures) == sorted(a.id for a in actions)
    assert {f.reason for f in report.failures} == {UNAVAILABLE}
    assert "unreachable" in report.failures[0].error


def test_replay_skips_rejected_items_until_asked(es: Elasticsearch, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.ndjson")
    waiting = [listing_action(n) for n in range(3)]
    rejected = listing_action(3, price_usd="n/a")
    first = index_actions(es, [rejected])
    spool.append(first.failures)
    spool.append(Failure(a, UNAVAILABLE, None, "down") for a in waiting)
    assert spool.sizes() == {UNAVAILABLE: 3, REJECTED: 1}

    report = spool.replay(es)
    assert report.indexed_total == 3 and report.failures == []
    assert spool.sizes() == {REJECTED: 1}  # kept, with its reason, not retried
    [entry] = spool.entries()
    assert entry.status == 400 and "price_usd" in entry.error
    line = json.loads(spool.path.read_text().splitlines()[0])
    assert line["index"] == {"_index": "onionlab-listings", "_id": rejected.id}

    again = spool.replay(es, retry_rejected=True)
    assert again.count(REJECTED) == 1 and spool.sizes() == {REJECTED: 1}
    assert count(es, "onionlab-listings") == 3


def test_load_twice_gives_the_same_documents(es: Elasticsearch, known_run: Path) -> None:
    expected = latest_docs(known_run)
    first = load_run_dir(es, known_run)
    assert first.bulk.failures == []
    counts = {alias: count(es, alias) for alias in first.read}
    second = load_run_dir(es, known_run)
    assert second.bulk.failures == []
    assert {alias: count(es, alias) for alias in first.read} == counts
    for alias in ("onionlab-pages", "onionlab-listings", "onionlab-identifiers"):
        assert counts[alias] == sum(1 for a, _ in expected if a == alias)
    assert counts["onionlab-crawl-events"] == 3 + 4  # 3 failed URLs, 4 sites' liveness
    assert not (known_run / "spool.ndjson").exists()


def test_load_sends_spool_only_documents_and_prefers_items(
    es: Elasticsearch, known_run: Path
) -> None:
    (alias, doc_id), doc = next(iter(latest_docs(known_run).items()))
    spool = Spool.of_run_dir(known_run)
    stale = Action(alias, doc_id, to_es(doc, RUN) | {"title": "stale spooled version"})
    orphan = listing_action(99)
    spool.append([Failure(stale, UNAVAILABLE, None, "down"), Failure(orphan, REJECTED, 400, "x")])

    report = load_run_dir(es, known_run)
    assert report.replayed == 1 and report.bulk.failures == []
    assert es.get(index=alias, id=doc_id)["_source"].get("title") == doc.get("title")
    assert es.get(index="onionlab-listings", id=orphan.id)["found"]
    assert spool.sizes() == {}


# The flood-stage disk watermark's block: the node answers each write 429, as when overloaded.
FLOOD_BLOCK = "index.blocks.read_only_allow_delete"


def test_items_answered_429_are_sent_again_after_a_back_off(
    es: Elasticsearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    es.indices.put_settings(index="onionlab-listings", settings={FLOOD_BLOCK: True})
    retries: list[int] = []

    def lift_the_block(_backoff: Backoff, attempt: int) -> None:
        if attempt:
            retries.append(attempt)
            es.indices.put_settings(index="onionlab-listings", settings={FLOOD_BLOCK: None})

    monkeypatch.setattr(Backoff, "wait", lift_the_block)
    report = index_actions(es, [listing_action(n) for n in range(5)], chunk_size=2)
    assert report.failures == [] and report.indexed_total == 5
    assert retries == [1]  # the first chunk, once; the block was gone for the others
    assert count(es, "onionlab-listings") == 5


def test_items_still_answered_429_after_the_retries_wait_as_unavailable(es: Elasticsearch) -> None:
    es.indices.put_settings(index="onionlab-listings", settings={FLOOD_BLOCK: True})
    page = Page(f"http://{HOST}/", HOST, 200)
    page_action = Action("onionlab-pages", page.doc_id(), to_es(page.to_doc(), RUN))
    listings = [listing_action(n) for n in range(3)]
    report = index_actions(es, [*listings, page_action], max_retries=2, initial_backoff=0.01)
    assert report.indexed == {"onionlab-pages": 1}
    assert sorted(f.action.id for f in report.failures) == sorted(a.id for a in listings)
    assert {(f.reason, f.status) for f in report.failures} == {(UNAVAILABLE, 429)}
    assert "read-only-allow-delete" in report.failures[0].error


def test_a_listing_two_chunks_apart_keeps_both_dates(
    es: Elasticsearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While a chunk is on the wire the next one is read and merged: the one after must see
    # the first chunk's write, however slow the wire.
    def slow_send(*args: Any) -> Any:
        time.sleep(0.3)
        return send(*args)

    monkeypatch.setattr(bulk, "send", slow_send)
    t1, t2 = "2026-11-22T15:31:36+00:00", "2026-12-06T09:00:00+00:00"
    newer, older = listing_action(1, RunInfo("r2", t2)), listing_action(1, RunInfo("r1", t1))
    others = [listing_action(n, RunInfo("r2", t2)) for n in (2, 3)]
    report = index_actions(es, [newer, *others, older], chunk_size=1)
    assert report.failures == [] and report.indexed_total == 4
    doc = es.get(index="onionlab-listings", id=newer.id)["_source"]
    seen = (datetime.fromisoformat(doc["first_seen"]), datetime.fromisoformat(doc["last_seen"]))
    assert seen == (datetime.fromisoformat(t1), datetime.fromisoformat(t2))
    assert doc["run_id"] == "r2"
