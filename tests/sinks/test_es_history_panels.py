"""The dashboards' time panels show every crawl; the liveness panels count each site once.

Two crawls of the known sites (:mod:`tests.support.known_crawl`) a fortnight apart. Between
them one listing got cheaper, and liveness changed: the site gone in the first crawl is back
up, another is gone, a third is down. Each panel's own aggregation is run, built from its
Lens file (:mod:`tests.support.lens_query`: its data view, query, buckets and metric), and
compared with what the two run directories imply, computed here with plain Python.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.items import Listing
from onionlab.crawler.sinks.elastic.documents import site_names
from onionlab.crawler.sinks.elastic.load import load_run_dir
from tests.support.known_crawl import known_items, known_services, latest_docs, write_run
from tests.support.lens_query import Panel

T1, T2 = "2026-11-22 15:31:36+00:00", "2026-12-06 09:00:00+00:00"
DAYS = {"run-a": "2026-11-22", "run-b": "2026-12-06"}
# The listing whose price changed: its own substance, so the panel has a line for it alone.
TRACKED = "Ketamine"
PRICES = ("120.0000", "95.5000")  # USD per gram in the first and the second crawl


@dataclass
class Crawls:
    runs: tuple[Path, Path]
    services: dict[str, list[str]]

    def docs(self, kind: str) -> dict[str, list[dict[str, Any]]]:
        """Per run name, the documents of ``kind`` it wrote (each id's last version)."""
        return {
            run.name: [doc for doc in latest_docs(run).values() if doc["kind"] == kind]
            for run in self.runs
        }

    def name(self, host: str) -> str:
        return site_names(self.services).get(host.removesuffix(".onion"), host)


def tracked_listing(site: str, per_gram: str) -> Listing:
    return Listing(
        site, "TRACKED", f"http://{site}/item/TRACKED", "Tracked listing", substance=TRACKED,
        weight_g="1", price_usd=per_gram[:-2], unit="g", price_per_unit_usd=per_gram,
    )  # fmt: skip


@pytest.fixture
def crawls(es: Elasticsearch, tmp_path: Path) -> Crawls:
    items = known_items()
    services = known_services(items)
    site = next(item.site for item in items if isinstance(item, Listing))
    first = [*items, tracked_listing(site, PRICES[0])]
    second = [*items, tracked_listing(site, PRICES[1])]
    runs = (
        write_run(tmp_path, first, "run-a", started=T1, site_services=services),
        write_run(
            tmp_path, second, "run-b", started=T2, site_services=services,
            states={0: "gone", 2: "down"},
        ),
    )  # fmt: skip
    for run in runs:
        assert load_run_dir(es, run).bulk.failures == []
    return Crawls(runs, services)


def day(key: str) -> str:
    return key[:10]


def price_rows(es: Elasticsearch) -> dict[tuple[str, str], float]:
    rows = Panel.load("onionlab-lens-price-over-time").rows(es)
    return {(day(row["x"]), row["s"]): row["y"] for row in rows}


def count_rows(es: Elasticsearch, lens_id: str) -> dict[tuple[str, str], int]:
    return {(day(row["x"]), row["s"]): row["y"] for row in Panel.load(lens_id).rows(es)}


def latest_states(crawls: Crawls) -> dict[str, str]:
    """Each host's state in the latest crawl that has it."""
    states: dict[str, str] = {}
    for run in crawls.runs:  # oldest first
        for host, record in json.loads((run / "sites.json").read_text()).items():
            states[host] = record["state"]
    return states


def test_price_over_time_has_a_point_per_crawl_with_that_crawls_price(
    es: Elasticsearch, crawls: Crawls
) -> None:
    found = price_rows(es)
    tracked = {key: value for key, value in found.items() if key[1] == TRACKED}
    assert tracked == {
        (DAYS["run-a"], TRACKED): pytest.approx(float(PRICES[0])),
        (DAYS["run-b"], TRACKED): pytest.approx(float(PRICES[1])),
    }
    expected: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run, docs in crawls.docs("listing").items():
        for doc in docs:
            if doc.get("unit") == "g":
                expected[(DAYS[run], doc["substance"])].append(float(doc["price_per_unit_usd"]))
    assert found.keys() == expected.keys()
    for key, prices in expected.items():
        assert found[key] == pytest.approx(median(prices), rel=0.02), key


@pytest.mark.parametrize(
    ("lens_id", "kind"),
    [("onionlab-lens-listings-over-time", "listing"), ("onionlab-lens-pages-over-time", "page")],
)
def test_listings_and_pages_over_time_count_each_crawls_own_per_site(
    es: Elasticsearch, crawls: Crawls, lens_id: str, kind: str
) -> None:
    expected = Counter(
        (DAYS[run], crawls.name(doc["site"]))
        for run, docs in crawls.docs(kind).items()
        for doc in docs
    )
    assert count_rows(es, lens_id) == expected
    assert {key[0] for key in expected} == set(DAYS.values())


def test_liveness_counts_each_site_once_in_its_latest_state(
    es: Elasticsearch, crawls: Crawls
) -> None:
    latest = latest_states(crawls)
    assert Counter(latest.values()) == {"up": 2, "gone": 1, "down": 1}  # the scenario
    rows = Panel.load("onionlab-lens-liveness-states").rows(es)
    assert {row["g"]: row["v"] for row in rows} == Counter(latest.values())
    assert sum(row["v"] for row in rows) == len(latest)  # each site in exactly one slice
    [gone] = Panel.load("onionlab-lens-sites-gone").rows(es)
    assert gone["m"] == sum(1 for state in latest.values() if state == "gone")


def test_loading_either_crawl_again_changes_no_panel(es: Elasticsearch, crawls: Crawls) -> None:
    panels = (
        "onionlab-lens-price-over-time",
        "onionlab-lens-listings-over-time",
        "onionlab-lens-pages-over-time",
        "onionlab-lens-liveness-states",
        "onionlab-lens-sites-gone",
    )
    before = {lens_id: Panel.load(lens_id).rows(es) for lens_id in panels}
    newer, older = crawls.runs[1], crawls.runs[0]
    for run in (newer, older):  # the older one last: it must not bring back its states
        assert load_run_dir(es, run).bulk.failures == []
    assert {lens_id: Panel.load(lens_id).rows(es) for lens_id in panels} == before
