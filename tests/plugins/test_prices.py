"""The built-in ``prices`` plugin: sale unit, USD conversion and price per gram or per unit.

Checked on every listing of the lab (seeds 1 and 2) against the ground truth, computed here
independently: ``price_usd ÷ quantity`` rounded half-up to cents. Pages are rendered
in-process (``tests.support.site_pages``), no Tor.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

import pytest

from onionlab.crawler.extraction.items import extract_items
from onionlab.crawler.items import Listing
from onionlab.crawler.kit.parsing import text
from onionlab.plugins import prices
from tests.plugins.test_substances import LISTING_SITES, manager_with_plugins
from tests.support.site_pages import fetch_site, world_and_truth


@cache
def extracted(seed: int) -> dict[str, Listing]:
    """Every listing of the lab's world of ``seed``, by URL, through all the plugins."""
    pm = manager_with_plugins()
    found = {}
    for site in LISTING_SITES:
        for response in fetch_site(seed, site).values():
            for item in extract_items(pm, response):
                if isinstance(item, Listing):
                    found[item.url] = item
    return found


def cents(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):.2f}"


def listing(**fields: Any) -> Listing:
    fields.setdefault("title", "something")
    return Listing(site="s.onion", listing_id="1", url="http://s.onion/1", **fields)


@pytest.mark.parametrize("seed", [1, 2])
def test_price_per_unit_matches_the_truth_to_the_cent(seed: int) -> None:
    _, truth = world_and_truth(seed)
    found = extracted(seed)
    checked = 0
    for row in truth["listings"]:
        amount = row.get("quantity") or row["weight_g"]
        expected = cents(Decimal(row["price_usd"]) / Decimal(amount))
        got = found[row["url"]]
        assert got.price_per_unit_usd == expected, (row["title"], got)
        assert got.unit == {"g": "g", "pcs": "unit"}[row.get("unit", "g")], row["title"]
        checked += 1
    assert checked == len(truth["listings"]) > 800


@pytest.mark.parametrize("seed", [1, 2])
def test_local_prices_convert_like_the_lab(seed: int) -> None:
    """Without the card's USD equivalent, the dated table gives the same dollars as truth."""
    _, truth = world_and_truth(seed)
    found = extracted(seed)
    rows = [t for t in truth["listings"] if "price_local" in t]
    assert {r["currency"] for r in rows} >= {"RUB", "KZT"}
    for row in rows:
        local_only = dataclasses.replace(
            found[row["url"]], price_usd=None, price_btc=None, price_per_unit_usd=None,
            extra=dict(found[row["url"]].extra),
        )  # fmt: skip
        prices.onionlab_normalize_item(local_only)
        assert local_only.price_usd == row["price_usd"], row
        assert local_only.extra["rate_date"] == "2026-10-01"
        assert local_only.extra["price_usd_from"] == row["currency"]
        amount = Decimal(row["quantity"])
        assert local_only.price_per_unit_usd == cents(Decimal(row["price_usd"]) / amount)


def test_bazaar_tiers_match_the_sites_own_per_gram_column() -> None:
    found = extracted(1)
    checked = 0
    for url, response in fetch_site(1, "bazaar").items():
        if url not in found:
            continue
        shown = [text(row, "td.t-each") for row in response.css("table.bz-tiers tr.tier")]
        tiers = found[url].extra["tiers"]
        assert [t["price_per_unit_usd"] for t in tiers] == shown
        checked += len(shown)
    assert checked > 300


# --- hand-made cases --------------------------------------------------------------------


def test_no_quantity_means_no_price_per_unit() -> None:
    item = listing(title="Cocaine, ask for sizes", price_usd="80.00")
    prices.onionlab_normalize_item(item)
    assert (item.unit, item.price_per_unit_usd, item.price_usd) == (None, None, "80.00")


def test_zero_quantity_means_no_price_per_unit() -> None:
    item = listing(weight_g="0", price_usd="10.00")
    prices.onionlab_normalize_item(item)
    assert (item.unit, item.price_per_unit_usd) == ("g", None)


def test_an_unknown_currency_gives_no_dollars_and_says_why() -> None:
    item = listing(weight_g="1", extra={"price_local": "5000", "currency": "XYZ"})
    prices.onionlab_normalize_item(item)
    assert item.price_usd is None and item.price_per_unit_usd is None
    assert item.extra["price_note"] == "no USD rate for 'XYZ' in the rates of 2026-10-01"
    assert "rate_date" not in item.extra


def test_unreadable_numbers_do_not_raise() -> None:
    item = listing(weight_g="a lot", price_usd="call me", extra={"tiers": ["x", {"quantity": "?"}]})
    prices.onionlab_normalize_item(item)
    assert item.price_per_unit_usd is None


def test_currency_signs_and_btc_convert_with_the_table() -> None:
    rub = listing(weight_g="2", extra={"price_local": "7 600", "currency": "₽"})
    prices.onionlab_normalize_item(rub)
    assert (rub.price_usd, rub.price_per_unit_usd) == ("82.08", "41.04")  # 7600 × 0.0108
    btc = listing(weight_g="4", price_btc="0.001")
    prices.onionlab_normalize_item(btc)
    assert (btc.price_usd, btc.extra["price_usd_from"]) == ("64.25", "BTC")
    assert btc.price_per_unit_usd == "16.06"  # 16.0625 rounds half-up


def test_the_sites_own_dollars_win_over_a_conversion() -> None:
    item = listing(weight_g="1", price_usd="45.00", extra={"price_local": "1", "currency": "RUB"})
    prices.onionlab_normalize_item(item)
    assert (item.price_usd, item.price_per_unit_usd) == ("45.00", "45.00")
    assert "rate_date" not in item.extra


def test_pieces_are_priced_per_unit() -> None:
    item = listing(price_usd="22.68", extra={"unit": "pcs", "quantity": "20"})
    prices.onionlab_normalize_item(item)
    assert (item.unit, item.price_per_unit_usd) == ("unit", "1.13")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("LSD 150ug blotters 10x", (Decimal(10), "unit")),
        ("Ксанакс 2мг 20шт", (Decimal(20), "unit")),  # the dose is not the quantity
        ("Cocaine HCl - 3.5g", (Decimal("3.5"), "g")),
        ("Hash 1 oz", (Decimal("28.3495"), "g")),
        ("Меф 0,5 г", (Decimal("0.5"), "g")),
        ("Xanax 2mg bars", None),
        ("Meth 1g / 3.5g / 7g", None),  # several: not one quantity
        ("4-MMC crystals", None),
    ],
)
def test_quantity_from_title(title: str, expected: tuple[Decimal, str] | None) -> None:
    assert prices.quantity_from_title(title) == expected


def test_a_title_quantity_is_used_and_noted() -> None:
    item = listing(title="LSD 150ug blotters 10x", price_usd="55.00")
    prices.onionlab_normalize_item(item)
    assert (item.unit, item.price_per_unit_usd) == ("unit", "5.50")
    assert item.extra["quantity_source"] == "title"


def test_the_rates_table_is_dated_sourced_and_covers_the_lab_currencies() -> None:
    table = prices.load_rates()
    assert table.date == date(2026, 10, 1) and "lab rates" in table.source
    assert {"EUR", "RUB", "KZT", "KGS", "BYN", "BTC", "XMR", "LTC", "USDT"} <= table.usd.keys()
    assert table.code("сом") == "KGS" and table.code("rub") == "RUB"
