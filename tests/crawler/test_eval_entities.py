"""Scoring entities and vendor identities: per occurrence, decoys counted, pairs linked."""

from __future__ import annotations

from pathlib import Path

from onionlab.crawler.items import Entity, VendorIdentity
from onionlab.crawler.scoring import evaluate
from tests.crawler.test_eval import ONION, truth_listing, write_run

OTHER = "o" * 55 + "d.onion"
BTC = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
DECOY = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"


def entity(kind: str, value: str, path: str, host: str = ONION) -> Entity:
    return Entity(type=kind, value=value, url=f"http://{host}{path}", site=host)


def base_truth() -> dict:
    return {
        "services": [{"name": "market", "onion": ONION}, {"name": "forum", "onion": OTHER}],
        "listings": [truth_listing("1", substance="Mephedrone")],
        "identifiers": [
            {"type": "btc", "value": BTC, "pages": [f"http://{ONION}/v/a", f"http://{OTHER}/t/1"]}
        ],
        "decoys": [{"type": "btc", "value": DECOY, "pages": [f"http://{OTHER}/t/2"]}],
        "vendors": [
            {"site": "market", "handle": "Alice", "identity": "id-1"},
            {"site": "forum", "handle": "alice_", "identity": "id-1"},
            {"site": "market", "handle": "Bob", "identity": "id-2"},
        ],
        "pages": [],
    }


def test_identifiers_are_scored_per_page_and_decoys_counted(tmp_path: Path) -> None:
    run = write_run(
        tmp_path,
        [
            entity("btc", BTC, "/v/a"),
            entity("btc", BTC, "/v/a#top"),  # the same occurrence, canonical URL
            entity("btc", BTC, "/elsewhere"),  # a page the truth does not list it on
            entity("btc", DECOY, "/t/2", OTHER),
        ],
    )
    btc = evaluate(run, base_truth())["entities"]["btc"]
    assert (btc["found"], btc["correct"], btc["expected"]) == (3, 1, 2)
    assert btc["decoys_accepted"] == 1
    assert btc["by_site"]["forum"]["recall"] == 0.0
    assert btc["by_site"]["market"]["recall"] == 1.0


def test_substances_are_scored_on_listing_pages_only(tmp_path: Path) -> None:
    run = write_run(
        tmp_path,
        [
            entity("substance", "Mephedrone", "/listing/1"),
            entity("substance", "Cocaine", "/listing/1"),  # wrong on a listing page
            entity("substance", "Heroin", "/forum/post"),  # not a listing page: unscored
        ],
    )
    substance = evaluate(run, base_truth())["entities"]["substance"]
    assert (substance["found"], substance["correct"], substance["expected"]) == (2, 1, 1)
    assert substance["recall"] == 1.0 and substance["precision"] == 0.5


def test_vendor_identities_are_scored_over_linked_pairs(tmp_path: Path) -> None:
    linked = VendorIdentity(
        identity="k1",
        members=[{"site": ONION, "handle": "alice"}, {"site": OTHER, "handle": "Alice_"}],
    )
    overmerged = VendorIdentity(
        identity="k2",
        members=[{"site": ONION, "handle": "Bob"}, {"site": OTHER, "handle": "alice_"}],
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good = evaluate(write_run(tmp_path / "a", [linked]), base_truth())["identities"]
    assert (good["precision"], good["recall"]) == (1.0, 1.0)
    bad = evaluate(write_run(tmp_path / "b", [overmerged]), base_truth())["identities"]
    assert (bad["precision"], bad["recall"]) == (0.0, 0.0)
    assert bad["identities"] == {"found": 1, "expected": 2}
