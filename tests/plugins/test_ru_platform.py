"""The built-in ``ru_platform`` extractor on ``shop-ru``: scored against the lab's truth,
silent on other layouts.

Pages are rendered in-process (``tests.support.site_pages``), no Tor and no crawl.
Product cards show no canonical substance name, so ``substance`` cannot be scored right
until the site shows one (a «Вещество» row, ``td.tovar-substance``); every other field must be.
"""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.http import TextResponse

from onionlab.crawler.items import Listing
from onionlab.plugins import ru_platform
from tests.support.site_pages import fetch_site, host, items_on_market, score_site, world_and_truth

SITE = "shop-ru"


@pytest.fixture(scope="module", params=[1, 2], ids=["seed1", "seed2"])
def scores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``score_site`` on shop-ru, once per seed for the tests below."""
    return score_site(request.param, SITE, tmp_path_factory.mktemp(f"seed{request.param}"))


def test_vendors_and_every_field_but_substance_are_right(scores: dict[str, Any]) -> None:
    listings, vendors = scores["listings"], scores["vendors"]
    assert vendors["expected"] > 0
    assert (vendors["precision"], vendors["recall"]) == (1.0, 1.0), vendors
    assert listings["expected"] > 0 and listings["found"] == listings["expected"], listings
    fields = dict(listings["fields"])
    assert set(fields) >= {"title", "vendor", "shop", "city", "district", "stash_type",
                           "currency", "price_local", "price_usd", "weight_g"}  # fmt: skip
    assert all(hit == 1.0 for hit in fields.values()), fields


def test_listings_score_perfectly(scores: dict[str, Any]) -> None:
    listings = scores["listings"]
    assert (listings["precision"], listings["recall"]) == (1.0, 1.0), listings


def test_yields_nothing_on_the_market() -> None:
    items = items_on_market(ru_platform)
    assert not [i for i in items if isinstance(i, Listing) and "stash_type" in i.extra]


def test_parses_one_product_card() -> None:
    _, truth = world_and_truth(1)
    row = next(
        t
        for t in truth["listings"]
        if t["site"] == SITE and t["crypto_currency"] == "BTC" and t["currency"] != "RUB"
    )  # a BTC equivalent and a non-rouble price: the two conversions worth pinning
    url = row["url"]
    response: TextResponse = fetch_site(1, SITE)[url]
    (listing,) = ru_platform.onionlab_extract(response) or ()
    assert isinstance(listing, Listing)
    assert (listing.site, listing.url, listing.listing_id) == (host(1, SITE), url,
                                                               row["listing_id"])  # fmt: skip
    assert listing.title == row["title"]
    assert listing.vendor == row["vendor"]  # the operator's handle
    assert listing.weight_g == row.get("weight_g")  # «2 г» → "2"; none for «10 шт.»
    assert listing.price_usd == row["price_usd"]  # BTC amount × the bar's BTC rate, to cents
    assert listing.price_btc == row["price_crypto"]
    shown_substance = bool(response.css("td.tovar-substance"))
    assert listing.substance == (row["substance"] if shown_substance else None)
    for name in ("shop", "city", "district", "stash_type", "delivery", "currency",
                 "price_local", "crypto_currency", "unit", "quantity"):  # fmt: skip
        assert listing.extra[name] == row[name], name
    assert listing.extra["city_ru"] != row["city"]  # the card shows only the Russian name
