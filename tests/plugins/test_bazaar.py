"""The built-in ``bazaar`` extractor: scored against the lab's truth, silent on other layouts.

Pages are rendered in-process (``tests.support.site_pages``), no Tor and no crawl.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import TextResponse

from onionlab.crawler.items import Listing, Vendor
from onionlab.plugins import bazaar
from tests.support.site_pages import fetch_site, host, items_on_market, score_site, world_and_truth


@pytest.mark.parametrize("seed", [1, 2])
def test_scores_perfectly_on_the_bazaar(seed: int, tmp_path: Path) -> None:
    scores = score_site(seed, "bazaar", tmp_path)
    listings, vendors = scores["listings"], scores["vendors"]
    assert listings["expected"] > 0 and vendors["expected"] > 0
    assert (listings["precision"], listings["recall"]) == (1.0, 1.0), listings
    assert (vendors["precision"], vendors["recall"]) == (1.0, 1.0), vendors


def test_yields_nothing_on_the_market() -> None:
    items = items_on_market(bazaar)
    bazaar_host = host(1, "bazaar")
    assert not [i for i in items if getattr(i, "site", None) == bazaar_host]
    # Every item on the market's pages is the market plugin's: no bazaar-only extras.
    assert not [i for i in items if isinstance(i, Listing) and "tiers" in i.extra]
    assert not [i for i in items if isinstance(i, Vendor) and "old_addresses" in i.extra]


@pytest.fixture(scope="module")
def bazaar_pages() -> dict[str, TextResponse]:
    """Seed 1's bazaar pages by path (rendered once for the page-level tests)."""
    base = f"http://{host(1, 'bazaar')}"
    return {url.removeprefix(base): page for url, page in fetch_site(1, "bazaar").items()}


def test_parses_one_item_page(bazaar_pages: dict[str, TextResponse]) -> None:
    _, truth = world_and_truth(1)
    row = next(t for t in truth["listings"] if t["site"] == "bazaar" and len(t["tiers"]) > 1)
    response = bazaar_pages[f"/item/{row['listing_id']}"]
    items = list(bazaar.onionlab_extract(response) or ())
    assert len(items) == 1
    listing = items[0]
    assert isinstance(listing, Listing)
    assert listing.site == host(1, "bazaar")
    assert listing.url == response.url
    assert listing.listing_id == row["listing_id"]
    assert listing.title == row["title"]
    assert listing.vendor == row["vendor"]
    assert listing.category == row["category"]  # the department's name, not its slug
    assert listing.substance == row["substance"]
    assert listing.weight_g == row["weight_g"]  # the first tier's quantity, e.g. "3.5"
    assert listing.price_usd == row["price_usd"]  # e.g. "45.00"
    assert listing.price_btc == row["price_btc"]  # satoshi precision
    assert listing.ships_from == row["ships_from"]
    assert listing.extra["ships_to"] == row["ships_to"]
    assert listing.extra["escrow"] == row["escrow"]
    assert len(listing.extra["tiers"]) == len(row["tiers"])
    assert [t["price_usd"] for t in listing.extra["tiers"]] == [
        t["price_usd"] for t in row["tiers"]
    ]


def test_store_page_skips_old_addresses(bazaar_pages: dict[str, TextResponse]) -> None:
    world, truth = world_and_truth(1)
    stores = world.service("bazaar").content.stores
    shown_old = next(s for s in stores if any(chain == "btc" for chain, _ in s.old_wallets))
    row = next(v for v in truth["vendors"] if v["handle"] == shown_old.handle)
    (vendor,) = bazaar.onionlab_extract(bazaar_pages[f"/store/{row['handle']}"]) or ()
    assert isinstance(vendor, Vendor)
    assert vendor.pgp_fingerprint == row["pgp_fingerprint"]
    assert sorted(vendor.btc) == row["btc"]
    old = {a["value"] for a in vendor.extra["old_addresses"]}
    assert old and not old & set(vendor.btc)
