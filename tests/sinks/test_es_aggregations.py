"""The aggregations the dashboards rely on give the numbers the run directory implies.

Expected values are computed here from ``items.ndjson``, ``errors.ndjson`` and ``sites.json``
with plain Python, independently of the sink's document transformation.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.sinks.elastic.load import load_run_dir
from tests.support.known_crawl import latest_docs


@pytest.fixture
def loaded(es: Elasticsearch, known_run: Path) -> dict:
    assert load_run_dir(es, known_run).bulk.failures == []
    es.indices.refresh(index="onionlab-*")
    return {doc_id: doc for (_, doc_id), doc in latest_docs(known_run).items()}


def buckets(response: dict, name: str) -> dict:
    return {b["key"]: b for b in response["aggregations"][name]["buckets"]}


def search(es: Elasticsearch, alias: str, aggs: dict, query: dict | None = None) -> dict:
    return es.search(index=alias, size=0, aggs=aggs, query=query or {"match_all": {}}).body


def test_listings_per_site(es: Elasticsearch, loaded: dict) -> None:
    expected = Counter(d["site"] for d in loaded.values() if d["kind"] == "listing")
    response = search(es, "onionlab-listings", {"sites": {"terms": {"field": "site"}}})
    assert {k: b["doc_count"] for k, b in buckets(response, "sites").items()} == expected


def test_average_price_per_gram_by_substance_and_city(es: Elasticsearch, loaded: dict) -> None:
    prices: dict[tuple[str, str], list[float]] = defaultdict(list)
    for doc in loaded.values():
        if doc["kind"] == "listing" and "city" in doc["extra"]:
            prices[(doc["substance"], doc["extra"]["city"])].append(
                float(doc["price_per_unit_usd"])
            )
    aggs = {
        "substance": {
            "terms": {"field": "substance", "size": 50},
            "aggs": {
                "city": {
                    "terms": {"field": "geo.city_name", "size": 50},
                    "aggs": {"price": {"avg": {"field": "price_per_unit_usd"}}},
                }
            },
        }
    }
    response = search(es, "onionlab-listings", aggs, {"exists": {"field": "extra.city"}})
    found = {
        (substance, city): b["price"]["value"]
        for substance, sb in buckets(response, "substance").items()
        for city, b in {c["key"]: c for c in sb["city"]["buckets"]}.items()
    }
    assert found.keys() == prices.keys()
    for key, values in prices.items():
        assert found[key] == pytest.approx(mean(values), rel=1e-9)


def test_identifier_reuse_across_sites(es: Elasticsearch, loaded: dict) -> None:
    sites_by_value: dict[str, set[str]] = defaultdict(set)
    for doc in loaded.values():
        if doc["kind"] == "identifier":
            sites_by_value[doc["value"]].add(doc["site"])
    aggs = {
        "value": {
            "terms": {"field": "value", "size": 100},
            "aggs": {"sites": {"cardinality": {"field": "site"}}},
        }
    }
    response = search(es, "onionlab-identifiers", aggs, {"term": {"type": "btc"}})
    found = {k: b["sites"]["value"] for k, b in buckets(response, "value").items()}
    assert found == {value: len(sites) for value, sites in sites_by_value.items()}
    assert sorted(found.values()) == [1, 2, 3, 4]  # the known crawl reuses them on purpose


def test_listings_on_the_map_by_country(es: Elasticsearch, loaded: dict) -> None:
    iso = {"Moscow": "RU", "Kazan": "RU", "Almaty": "KZ", "Minsk": "BY"}
    iso |= {"Netherlands": "NL", "Germany": "DE", "United Kingdom": "GB"}
    expected = Counter(
        iso[d["extra"].get("city") or d["ships_from"]]
        for d in loaded.values()
        if d["kind"] == "listing"
    )
    aggs = {"country": {"terms": {"field": "geo.country_iso_code"}}}
    response = search(es, "onionlab-listings", aggs, {"exists": {"field": "geo.location"}})
    assert {k: b["doc_count"] for k, b in buckets(response, "country").items()} == expected


def test_crawl_health_failures_and_liveness(
    es: Elasticsearch, known_run: Path, loaded: dict
) -> None:
    errors = [json.loads(line) for line in (known_run / "errors.ndjson").read_text().splitlines()]
    sites = json.loads((known_run / "sites.json").read_text())
    aggs = {"kind": {"terms": {"field": "error.type"}}}
    response = search(es, "onionlab-crawl-events", aggs, {"term": {"event.action": "page_failed"}})
    failures = {k: b["doc_count"] for k, b in buckets(response, "kind").items()}
    assert failures == Counter(error["kind"] for error in errors)

    aggs = {"state": {"terms": {"field": "liveness.state"}}}
    response = search(
        es, "onionlab-crawl-events", aggs, {"term": {"event.action": "site_liveness"}}
    )
    states = {k: b["doc_count"] for k, b in buckets(response, "state").items()}
    assert states == Counter(record["state"] for record in sites.values())

    aggs = {"over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1h"}}}
    response = search(es, "onionlab-listings", aggs)
    [hour] = response["aggregations"]["over_time"]["buckets"]  # every listing: the run's start
    assert hour["doc_count"] == sum(1 for d in loaded.values() if d["kind"] == "listing")
