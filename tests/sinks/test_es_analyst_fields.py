"""Analysts' fields: readable site names (``site_name``) and a listing's first and last sighting.

Site names come from the run's ``config.json`` (``site_services``: lab service → its main
address and mirrors) or, in a live crawl, from the Scrapy setting ``ONIONLAB_SITE_SERVICES``.
``first_seen``/``last_seen`` must survive re-crawls (same listing id), in any load order.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from scrapy.utils.test import get_crawler

from onionlab.crawler.items import Listing, Page, VendorIdentity
from onionlab.crawler.sinks.elastic.bulk import UNAVAILABLE, Action, index_actions
from onionlab.crawler.sinks.elastic.documents import RunInfo, site_names, to_es
from onionlab.crawler.sinks.elastic.history import merge
from onionlab.crawler.sinks.elastic.load import load_run_dir
from onionlab.crawler.sinks.elastic.pipeline import ElasticsearchPipeline
from onionlab.crawler.sinks.elastic.templates import (
    SPECS,
    composed_mapping,
    field_types,
    index_templates,
)
from tests.support.known_crawl import known_items, known_services, latest_docs, write_run

ALIASES_WITH_SITE = (
    "onionlab-pages",
    "onionlab-listings",
    "onionlab-vendors",
    "onionlab-identifiers",
    "onionlab-crawl-events",
)
T1, T2 = "2026-11-22 15:31:36+00:00", "2026-12-06 09:00:00+00:00"
MAIN, MIRROR, OTHER = ("m" * 56 + ".onion"), ("n" * 56 + ".onion"), ("o" * 56 + ".onion")


def all_docs(es: Elasticsearch, alias: str) -> list[dict[str, Any]]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, query={"match_all": {}})["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


# -- site names ------------------------------------------------------------------------------


def test_site_name_is_mapped_as_a_keyword_wherever_a_site_is() -> None:
    templates, _ = index_templates()
    for spec in SPECS.values():
        mapped = field_types(composed_mapping(templates[spec.template]))
        assert mapped["site"] == mapped["site_name"] == "keyword", spec.alias
    identities = field_types(composed_mapping(templates["onionlab-vendor-identities"]))
    assert identities["members.site_name"] == "keyword"
    listings = field_types(composed_mapping(templates["onionlab-listings"]))
    assert listings["first_seen"] == listings["last_seen"] == "date"


def test_documents_are_named_after_the_lab_service_of_their_site(
    es: Elasticsearch, tmp_path: Path
) -> None:
    items = known_items()
    services = known_services(items)
    assert len(services) == 4  # three markets and the city shop
    run = write_run(tmp_path, items, site_services=services)
    assert load_run_dir(es, run).bulk.failures == []
    service_of = {host: name for name, hosts in services.items() for host in hosts}

    for alias in ALIASES_WITH_SITE:
        docs = all_docs(es, alias)
        assert docs, alias
        assert [d["site_name"] for d in docs] == [service_of[d["site"]] for d in docs], alias
    [identity] = all_docs(es, "onionlab-vendor-identities")
    names = [m["site_name"] for m in identity["members"]]
    assert names == [service_of[m["site"]] for m in identity["members"]]
    assert "city-shop" in names and identity["site_count"] == 2

    # What the dashboards' "per site" charts aggregate: listings per service name.
    expected = Counter(
        service_of[doc["site"]] for doc in latest_docs(run).values() if doc["kind"] == "listing"
    )
    response = es.search(
        index="onionlab-listings", size=0, aggs={"s": {"terms": {"field": "site_name"}}}
    )
    found = {b["key"]: b["doc_count"] for b in response["aggregations"]["s"]["buckets"]}
    assert found == expected and set(found) <= set(services)


def test_without_lab_services_a_site_is_named_by_its_host(
    es: Elasticsearch, known_run: Path
) -> None:
    assert not (known_run / "config.json").exists()
    assert load_run_dir(es, known_run).bulk.failures == []
    for alias in ALIASES_WITH_SITE:
        docs = all_docs(es, alias)
        assert docs and all(d["site_name"] == d["site"] for d in docs), alias
    [identity] = all_docs(es, "onionlab-vendor-identities")
    assert all(m["site_name"] == m["site"] for m in identity["members"])


def test_mirrors_share_their_service_name_and_count_as_one_site(tmp_path: Path) -> None:
    # Hosts as a lab state may spell them: upper case, with or without ".onion".
    services = {"Hydra": [MAIN.upper(), MIRROR.removesuffix(".onion")], "Shop": [OTHER]}
    run = RunInfo("r", "2026-11-22T15:31:36+00:00", site_names(services))
    assert [run.site_name(h) for h in (MAIN, MIRROR, OTHER)] == ["Hydra", "Hydra", "Shop"]
    assert run.site_name("x" * 56 + ".onion") == "x" * 56 + ".onion"

    on_mirror = to_es(Listing(MIRROR, "1", f"http://{MIRROR}/i/1", "T").to_doc(), run)
    assert (on_mirror["site"], on_mirror["site_name"]) == (MIRROR, "Hydra")
    identity = VendorIdentity(
        "id",
        members=[
            {"site": MAIN, "handle": "v"},
            {"site": MIRROR, "handle": "v"},
            {"site": OTHER, "handle": "v2"},
        ],
    )
    doc = to_es(identity.to_doc(), run)
    assert [m["site_name"] for m in doc["members"]] == ["Hydra", "Hydra", "Shop"]
    assert (doc["member_count"], doc["site_count"]) == (3, 2)
    assert doc["site_name"] == ["Hydra", "Shop"]  # an identity is on its members' sites

    run_dir = write_run(tmp_path, [Page(f"http://{MIRROR}/", MIRROR, 200)], site_services=services)
    assert RunInfo.of_run_dir(run_dir).site_name(MIRROR) == "Hydra"


def _live_pipeline(run_dir: Path, **settings: Any) -> ElasticsearchPipeline:
    crawler = get_crawler(
        settings_dict={
            "ES_URL": "http://127.0.0.1:9",  # never contacted: nothing is flushed
            "ES_FLUSH_INTERVAL": 0,
            "ONIONLAB_RUN_DIR": str(run_dir),
            **settings,
        }
    )
    pipeline = ElasticsearchPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def _buffered(pipeline: ElasticsearchPipeline, item: Listing) -> dict[str, Any]:
    asyncio.run(pipeline.process_item(item))
    [action] = [a for a in pipeline._buffer.values() if a.id == item.doc_id()]
    return action.doc


def test_the_live_pipeline_names_sites_from_its_settings_else_the_run_config(
    tmp_path: Path,
) -> None:
    listing = Listing(MIRROR, "1", f"http://{MIRROR}/i/1", "T")
    from_settings = _live_pipeline(
        tmp_path, ONIONLAB_SITE_SERVICES=json.dumps({"Hydra": [MAIN, MIRROR]})
    )
    assert _buffered(from_settings, listing)["site_name"] == "Hydra"

    run_dir = write_run(tmp_path, [], "with-config", site_services={"Hydra-cfg": [MIRROR]})
    assert _buffered(_live_pipeline(run_dir), listing)["site_name"] == "Hydra-cfg"

    bare = tmp_path / "bare"
    bare.mkdir()
    assert _buffered(_live_pipeline(bare), listing)["site_name"] == MIRROR


# -- first_seen / last_seen --------------------------------------------------------------------


def listing_docs(es: Elasticsearch) -> dict[str, dict[str, Any]]:
    return {doc["listing_id"]: doc for doc in all_docs(es, "onionlab-listings")}


def test_a_recrawl_keeps_first_seen_and_advances_last_seen(
    es: Elasticsearch, tmp_path: Path
) -> None:
    items = known_items()
    site = next(i.site for i in items if isinstance(i, Listing))
    newcomer = Listing(site, "NEW", f"http://{site}/item/NEW", "New", substance="3-MMC")
    first = write_run(tmp_path, items, "run-a", started=T1)
    second = write_run(tmp_path, [*items, newcomer], "run-b", started=T2)

    assert load_run_dir(es, first).bulk.failures == []
    before = listing_docs(es)
    assert {instant(d["first_seen"]) for d in before.values()} == {instant(T1)}
    assert load_run_dir(es, second).bulk.failures == []
    after = listing_docs(es)
    es.indices.refresh(index="onionlab-listings")
    assert es.count(index="onionlab-listings")["count"] == len(before) + 1  # no duplicates
    for listing_id, doc in after.items():
        expected_first = T2 if listing_id == "NEW" else T1
        assert instant(doc["first_seen"]) == instant(expected_first), listing_id
        assert instant(doc["last_seen"]) == instant(T2)
        assert doc["run_id"] == "run-b"

    # Loading the older run again changes nothing: its content is not the latest.
    assert load_run_dir(es, first).bulk.failures == []
    assert listing_docs(es) == after

    # The "first appearance per substance" panel: substance × min(first_seen).
    response = es.search(
        index="onionlab-listings",
        size=0,
        aggs={
            "s": {"terms": {"field": "substance"}, "aggs": {"f": {"min": {"field": "first_seen"}}}}
        },
    )
    firsts = {
        b["key"]: instant(b["f"]["value_as_string"].replace("Z", "+00:00"))
        for b in response["aggregations"]["s"]["buckets"]
    }
    assert firsts.pop("3-MMC") == instant(T2)
    assert firsts and set(firsts.values()) == {instant(T1)}


def test_loading_runs_out_of_order_gives_the_same_dates(es: Elasticsearch, tmp_path: Path) -> None:
    items = known_items(listings=12)
    older = write_run(tmp_path, items, "run-a", started=T1)
    newer = write_run(tmp_path, items, "run-b", started=T2)
    assert load_run_dir(es, newer).bulk.failures == []
    assert load_run_dir(es, older).bulk.failures == []
    docs = listing_docs(es)
    assert docs
    for doc in docs.values():
        assert (instant(doc["first_seen"]), instant(doc["last_seen"])) == (instant(T1), instant(T2))
        assert doc["run_id"] == "run-b"  # the newest crawl's content


def listing_at(when: str, title: str = "T", listing_id: str = "1") -> Action:
    listing = Listing(MAIN, listing_id, f"http://{MAIN}/i/{listing_id}", title)
    doc = to_es(listing.to_doc(), RunInfo("r", when))
    return Action("onionlab-listings", listing.doc_id(), doc)


def test_the_same_listing_twice_in_one_bulk_run_keeps_both_dates(es: Elasticsearch) -> None:
    newer, older = listing_at(T2, "new"), listing_at(T1, "old")
    # chunk_size 1: the bulk helper reads the second chunk before it sends the first.
    report = index_actions(es, [newer, older], chunk_size=1)
    assert report.failures == [] and report.indexed_total == 2
    [doc] = all_docs(es, "onionlab-listings")
    assert (instant(doc["first_seen"]), instant(doc["last_seen"])) == (instant(T1), instant(T2))
    assert doc["title"] == "new"


def test_a_listing_indexed_before_first_seen_existed_counts_from_its_timestamp(
    es: Elasticsearch,
) -> None:
    legacy = listing_at("2026-10-01T00:00:00+00:00")
    doc = {k: v for k, v in legacy.doc.items() if k not in ("first_seen", "last_seen")}
    es.index(index="onionlab-listings", id=legacy.id, document=doc)
    assert index_actions(es, [listing_at(T2)]).failures == []
    [stored] = all_docs(es, "onionlab-listings")
    assert instant(stored["first_seen"]) == instant("2026-10-01T00:00:00+00:00")
    assert instant(stored["last_seen"]) == instant(T2)


def test_a_listing_whose_stored_version_cannot_be_read_is_held_back(es: Elasticsearch) -> None:
    kept = listing_at(T1, "kept")
    assert index_actions(es, [kept]).failures == []
    # A second index behind the alias (a manual rollover): mget by id no longer works.
    es.indices.create(index="onionlab-listings-000002")
    es.indices.put_alias(index="onionlab-listings-000002", name="onionlab-listings")
    page = Page(f"http://{MAIN}/", MAIN, 200)
    page_action = Action("onionlab-pages", page.doc_id(), to_es(page.to_doc(), RunInfo("r", T2)))
    later = listing_at(T2, "would lose first_seen")

    report = index_actions(es, [later, page_action])
    assert report.indexed == {"onionlab-pages": 1}
    [failure] = report.failures
    assert failure.action is later and failure.reason == UNAVAILABLE
    assert "more than one index" in failure.error
    stored = es.get(index="onionlab-listings-000001", id=kept.id)["_source"]
    assert stored["title"] == "kept"


def test_merge_is_order_independent_and_compares_instants() -> None:
    a = {"@timestamp": "2026-11-22T15:00:00+00:00", "title": "a"}
    a |= {"first_seen": a["@timestamp"], "last_seen": a["@timestamp"]}
    # 10:30 at +02:00 is 08:30 UTC: later than a, earlier than c, though it sorts last as text.
    b = {"@timestamp": "2026-11-23T10:30:00+02:00", "title": "b"}
    b |= {"first_seen": b["@timestamp"], "last_seen": b["@timestamp"]}
    c = {"@timestamp": "2026-11-23T09:00:00+00:00", "title": "c"}
    c |= {"first_seen": c["@timestamp"], "last_seen": c["@timestamp"]}

    assert merge(a, None) is a
    assert merge(b, c) == merge(c, b)
    assert merge(b, c)["title"] == "c" and merge(b, c)["first_seen"] == b["first_seen"]
    everything = merge(merge(a, b), c)
    assert everything == merge(merge(c, a), b) == merge(a, merge(b, c))
    assert (everything["title"], everything["first_seen"], everything["last_seen"]) == (
        "c",
        a["first_seen"],
        c["last_seen"],
    )
    assert merge(everything, c) == everything  # a replay changes nothing


@pytest.mark.parametrize("when", [T1, "2026-11-22T16:31:36+01:00"])
def test_a_new_listing_is_first_and_last_seen_at_its_crawl(when: str) -> None:
    doc = to_es(Listing(MAIN, "1", f"http://{MAIN}/i/1", "T").to_doc(), RunInfo("r", when))
    assert doc["first_seen"] == doc["last_seen"] == doc["@timestamp"]
    assert instant(doc["first_seen"]) == instant(T1)
