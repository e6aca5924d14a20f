"""Tests of the single-vendor shops (kinds ``vendor_shop_a`` and ``vendor_shop_b``).

Each shop's app is served in-process (aiohttp's TestServer): every truth page answers, a
crawl from ``/`` reaches exactly the truth pages, each page carries the identifiers truth
says and no others (re-found with regexes, validated with base58 / bip-utils / eth-utils /
hashlib, independently of the lab's code), decoys fail validation, and the listing fields
on the pages equal the ground truth. Also: the vendors are shared identities, and the
world is deterministic.
"""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

from onionlab.lab.sites.vendor_shop_a.render import render_pages as render_a
from onionlab.lab.sites.vendor_shop_b.render import render_pages as render_b
from onionlab.lab.world import build_world
from onionlab.lab.world.kinds import vendor_shop_a as A
from onionlab.lab.world.kinds import vendor_shop_b as B
from onionlab.lab.world.model import World
from tests.support.determinism import assert_rebuilds_identically
from tests.support.gpg import GnuPG, needs_gpg
from tests.support.html_extract import parse
from tests.support.identifiers import appears, by_page, found_identifiers, normalised
from tests.support.site_app import Fetched, crawl, fetch_pages, post_form
from tests.support.validators import valid

SEED = 7
SHOPS = ("vendor-a", "vendor-b")
KINDS = {"vendor-a": A, "vendor-b": B}
RENDER = {"vendor-a": render_a, "vendor-b": render_b}


@pytest.fixture(scope="module")
def served(world: World) -> dict[str, Fetched]:
    out = {}
    for name in SHOPS:
        svc = world.service(name)
        out[name] = fetch_pages(world, svc, [p.path for p in KINDS[name].pages(svc)])
    return out


# --- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHOPS)
def test_every_page_is_served_as_html(world, served, name):
    pages = served[name]
    assert 45 <= len(pages) <= 75  # ~60 pages at scale 1
    for path, (status, ctype, html) in pages.items():
        assert status == 200, path
        assert ctype == "text/html; charset=utf-8", path
        assert html.startswith("<!DOCTYPE html>")
        assert "<script" not in html.lower()


@pytest.mark.parametrize("name", SHOPS)
def test_crawl_from_home_reaches_exactly_the_truth_pages(world, truth, served, name):
    base = world.service(name).url
    expected = {p for p in truth["pages"] if p.startswith(base)}
    assert {base.rstrip("/") + path for path in served[name]} == expected
    assert {base.rstrip("/") + path for path in crawl(served[name])} == expected


@pytest.mark.parametrize("name", SHOPS)
def test_identifiers_appear_exactly_where_truth_says(world, truth, served, name):
    listed = by_page(truth["identifiers"], world.service(name).url)
    assert listed, "the shop shows no identifiers"
    for path, (_, _, html) in served[name].items():
        expected = listed.get(path, set())
        for kind, value in expected:
            assert appears(kind, value, html), (path, kind, value)
            if kind not in ("email", "jabber", "telegram", "session", "pgp_fingerprint"):
                assert valid(kind, value), (kind, value)
        assert found_identifiers(html) == normalised(expected), path


@pytest.mark.parametrize("name", SHOPS)
def test_decoys_are_shown_and_fail_validation(world, truth, served, name):
    decoys = by_page(truth["decoys"], world.service(name).url)
    assert decoys
    for path, shown in decoys.items():
        for kind, value in shown:
            assert appears(kind, value, served[name][path][2])
            assert not valid(kind, value), (kind, value)


def test_shop_a_products_carry_the_truth_fields(world, truth, served):
    svc = world.service("vendor-a")
    base = svc.url.rstrip("/")
    rows = [x for x in truth["listings"] if x["site"] == "vendor-a"]
    assert len(rows) == 40
    table = parse(served["vendor-a"][A.PRICES][2])
    assert [a["data-id"] for a in table.attrs["product"]] == [
        x.listing_id for c in svc.categories for x in svc.listings if x.category == c.slug
    ]
    for lst in rows:
        path = lst["url"][len(base) :]
        x = parse(served["vendor-a"][path][2])
        assert x.attrs["product-page"][0]["id"] == "product-" + lst["listing_id"]
        assert x.text["p-title"] == [lst["title"]]
        assert x.text["p-code"] == [lst["listing_id"]]
        assert x.text["p-substance"] == [lst["substance"]]
        assert x.text["p-category"] == [lst["category"]]
        assert x.text["p-weight"] == [f"{lst['weight_g']} g"]
        assert x.text["p-usd"] == [f"${lst['price_usd']}"]
        assert x.text["p-btc"] == [lst["price_btc"]]
        assert x.text["p-ships-from"] == [lst["ships_from"]]
        assert x.text["p-vendor"] == [lst["vendor"]]
        i = [a["data-id"] for a in table.attrs["product"]].index(lst["listing_id"])
        assert table.text["p-usd"][i] == f"${lst['price_usd']}"
        assert table.text["p-btc"][i] == lst["price_btc"]


def test_shop_b_items_carry_the_truth_fields(world, truth, served):
    svc = world.service("vendor-b")
    base = svc.url.rstrip("/")
    rows = [x for x in truth["listings"] if x["site"] == "vendor-b"]
    assert len(rows) == 40
    on_cards: list[str] = []
    for n in range(1, B.catalog_pages(svc) + 1):
        x = parse(served["vendor-b"][B.catalog_path(n)][2])
        on_cards += [a["data-sku"] for a in x.attrs["card"]]
    assert sorted(on_cards) == sorted(r["listing_id"] for r in rows)
    for lst in rows:
        x = parse(served["vendor-b"][lst["url"][len(base) :]][2])
        assert x.attrs["item"][0]["data-sku"] == lst["listing_id"]
        assert x.text["field:title"] == [lst["title"]]
        assert x.text["field:substance"] == [lst["substance"]]
        assert x.text["field:category"] == [lst["category"]]
        assert x.text["field:weight"] == [f"{lst['weight_g']} g"]
        assert x.text["field:price-usd"] == [f"${lst['price_usd']}"]
        assert x.text["field:price-btc"] == [lst["price_btc"]]
        assert x.text["field:price-xmr"] == [lst["price_xmr"]]
        assert x.text["field:ships-from"] == [lst["ships_from"]]
        assert x.text["field:vendor"] == [lst["vendor"]]


def test_vendors_are_shared_identities(world, truth, served):
    people = {p.id: p for p in world.identities}
    market = {v.identity for v in world.service("market").vendors}
    records = {v["site"]: v for v in truth["vendors"] if v["site"] in SHOPS}
    assert records["vendor-a"]["identity"] != records["vendor-b"]["identity"]
    for name, rec in records.items():
        person = people[rec["identity"]]
        assert rec["identity"] in market  # the same person also sells on the market
        assert rec["pgp_fingerprint"] == person.pgp.fingerprint
        assert rec["btc"] == [person.wallet("btc")[0]]  # static address = their wallet
        page = served[name][rec["url"][len(world.service(name).url) - 1 :]][2]
        assert rec["handle"] in unescape(page)
    b = world.service("vendor-b").content
    if people[b.identity].wallet("xmr"):
        assert records["vendor-b"]["xmr"] == [people[b.identity].wallet("xmr")[0]]
    pay = parse(served["vendor-b"][B.PAY][2])
    assert pay.text["field:xmr-address"] == records["vendor-b"]["xmr"]
    assert pay.text["field:btc-address"] == records["vendor-b"]["btc"]


def test_unknown_paths_are_branded_404_and_orders_post(world):
    missing = ["/nope", "/product/P999", "/item/zzzzzz", "/reviews?page=99"]
    for name in SHOPS:
        svc = world.service(name)
        for status, _, html in fetch_pages(world, svc, missing).values():
            assert status == 404 and svc.title in html
    status, html = post_form(
        world, world.service("vendor-a"), A.ORDER, {"message": "x", "txid": "y"}
    )
    assert status == 200 and "Order received" in html


@needs_gpg
def test_signed_mirror_list_verifies_with_gpg(world, tmp_path: Path):
    for name in SHOPS:
        svc = world.service(name)
        gpg = GnuPG(tmp_path / name)
        gpg.import_keys(svc.vendors[0].pgp.armored)
        done = gpg.verify(svc.content.mirrors_signed)
        assert done.returncode == 0, done.stderr
        assert done.signer == svc.vendors[0].pgp.fingerprint
        assert svc.onion in svc.content.mirrors_signed


def test_deterministic_and_linear_in_scale(world):
    assert_rebuilds_identically(
        world, SEED, SHOPS,
        lambda w, s: RENDER[s.name](w, s),
        lambda _, s: KINDS[s.name].truth_listings(s),
        lambda _, s: KINDS[s.name].occurrences(s),
    )  # fmt: skip
    small = build_world(SEED, scale=0.5)
    for name in SHOPS:
        assert len(small.service(name).listings) == 20
