"""Tests of the ``ru_platform`` site kind (service ``shop-ru``): generator, truth and served app.

The app is served in-process (aiohttp's TestServer). Identifiers are re-found in the HTML
with regexes and validated with independent code (base58, bip-utils, hashlib for onions);
product cards are parsed by CSS class and compared with the ground truth, recomputing the
USD price from the rates table the platform publishes.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

import base58
import pytest

from onionlab.lab.sites.ru_platform import PROTECTED_PREFIXES
from onionlab.lab.sites.ru_platform.render import render_pages
from onionlab.lab.world import build_world, vocab
from onionlab.lab.world.kinds import ru_platform as K
from onionlab.lab.world.model import Service, World
from onionlab.lab.world.truth import ground_truth
from tests.support.determinism import assert_rebuilds_identically
from tests.support.html_extract import parse
from tests.support.identifiers import COINS, by_path, found_identifiers, normalised
from tests.support.site_app import Fetched, crawl, fetch_pages
from tests.support.validators import valid

SEED = 7
NAME = "shop-ru"


@pytest.fixture(scope="module")
def served(world: World, svc: Service) -> Fetched:
    return fetch_pages(world, svc, [p.path for p in K.pages(svc)])


# --- tests --------------------------------------------------------------------------------


def test_world_shape(svc: Service):
    plat: K.Platform = svc.content
    assert svc.kind == "ru_platform"
    assert len(plat.shops) >= 3
    assert len(plat.cities) >= 5
    assert {c.country for c in plat.cities} == {"RU", "KZ", "KG"}
    assert {c.currency for c in plat.cities} == {"RUB", "KZT", "KGS"}
    for shop in plat.shops:
        assert shop.cities and shop.districts and shop.jobs and shop.reviews
        assert all(c in shop.cities for c, _ in shop.districts)
        assert {k for k, _ in shop.wallets} == {"btc", "trx", "xmr", "ltc"}
        assert shop.bot.endswith("bot")
    served_cities = {c for s in plat.shops for c in s.cities}
    assert served_cities == {c.slug for c in plat.cities}
    pages = K.pages(svc)
    assert 400 <= len(pages) <= 600
    assert len({p.path for p in pages}) == len(pages)
    texts = " ".join(r.text for s in plat.shops for r in s.reviews)
    assert "енаход" in texts and "ерезаклад" in texts
    roles = {j.role for s in plat.shops for j in s.jobs}
    assert len(roles) >= 4
    assert {p.stash_type for p in plat.products} <= set(vocab.STASH_TYPES)
    assert {p.delivery for p in plat.products} == {"моментальный", "предзаказ"}


def test_operators_are_shared_identities(world: World, svc: Service):
    people = {i.id: i for i in world.identities}
    for shop in svc.content.shops:
        person = people[shop.identity]
        if person.contact("telegram"):
            assert shop.operator_telegram == person.contact("telegram")[0]
        for kind in ("btc", "trx", "xmr", "ltc"):
            if person.wallet(kind):
                assert shop.wallet(kind) == person.wallet(kind)[:1]
        if shop.pgp_fingerprint:
            assert shop.pgp_fingerprint == person.pgp.fingerprint


def test_every_page_is_served(svc: Service, served: Fetched):
    assert served
    for path, (status, ctype, html) in served.items():
        assert status == 200, path
        assert ctype == "text/html; charset=utf-8", path
        assert html.startswith("<!DOCTYPE html>")
        assert '<html lang="ru">' in html
        assert "<script" not in html.lower()
        assert svc.content.name in html


def test_crawl_from_home_reaches_exactly_the_truth_pages(svc: Service, served: Fetched):
    assert crawl(served) == set(served)


def test_identifiers_are_exactly_where_truth_says(svc: Service, served: Fetched):
    expected = by_path(K.occurrences(svc))
    for occ in K.occurrences(svc):
        assert occ.value in served[occ.path][2], occ
        if occ.type in (*COINS, "onion"):
            assert valid(occ.type, occ.value), occ
    for path, (_, _, html) in served.items():
        assert found_identifiers(html) == normalised(expected.get(path, set())), path
    types = {occ.type for occ in K.occurrences(svc)}
    assert {"onion", "btc", "trx", "xmr", "ltc", "telegram", "jabber", "session"} <= types
    assert "pgp_fingerprint" in types


def test_decoys_are_shown_and_fail_validation(svc: Service, served: Fetched):
    decoys = K.decoys(svc)
    assert len(decoys) >= 4
    assert {d.type for d in decoys} >= {"btc", "trx", "onion"}
    for d in decoys:
        assert d.value in served[d.path][2], d
        assert not valid(d.type, d.value), d
        if d.type in ("btc", "ltc", "trx"):
            with pytest.raises(ValueError):
                base58.b58decode_check(d.value)


def _usd_rates(html: str) -> dict[str, Decimal]:
    x = parse(html)
    curs = [a["data-currency"] for a in x.attrs["rate-row"]]
    return dict(zip(curs, (Decimal(v) for v in x.text["usd-per-unit"]), strict=True))


def test_product_cards_carry_the_truth_fields(svc: Service, served: Fetched):
    rates = _usd_rates(served[K.RuLayout.EXCHANGE][2])
    cities = {c.name_en: c.name_ru for c in vocab.cities()}
    base = f"http://{svc.onion}"
    listings = K.truth_listings(svc)
    assert len(listings) == len(svc.content.products)
    for lst in listings:
        x = parse(served[lst["url"].removeprefix(base)][2])
        assert x.text["tovar-name"] == [lst["title"]]
        assert x.text["tovar-id"] == [lst["listing_id"]]
        assert x.text["tovar-shop"] == [lst["shop"]]
        assert x.text["tovar-operator"] == [lst["vendor"]]
        assert x.text["tovar-city"] == [cities[lst["city"]]]
        assert x.text["tovar-district"] == [lst["district"]]
        assert x.text["tovar-klad"] == [lst["stash_type"]]
        assert x.text["tovar-nalichie"] == [lst["delivery"]]
        if lst["unit"] == "g":
            assert x.text["tovar-fasovka"] == [f"{lst['weight_g']} г"]
        else:
            assert x.text["tovar-fasovka"] == [f"{lst['quantity']} шт."]
        local = x.text["price-local"][0]
        amount, sign = local.rsplit(" ", 1)
        assert amount.replace(" ", "") == lst["price_local"]
        assert sign == K.CURRENCY_SIGN[lst["currency"]]
        usd = (Decimal(lst["price_local"]) * rates[lst["currency"]]).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        assert f"{usd:.2f}" == lst["price_usd"]
        assert x.text["crypto-amount"] == [lst["price_crypto"]]
        assert x.text["crypto-currency"] == [lst["crypto_currency"]]
        if lst["crypto_currency"] == "BTC":
            btc = (usd / rates["BTC"]).quantize(Decimal("0.00000001"), ROUND_HALF_UP)
            assert f"{btc:.8f}" == lst["price_crypto"]
        else:
            assert lst["price_crypto"] == lst["price_usd"]
        assert vocab.substance(lst["substance"])


def test_district_pages_list_their_products(svc: Service, served: Fetched):
    plat: K.Platform = svc.content
    for shop in plat.shops:
        for city, district in shop.districts:
            x = parse(served[K.LAYOUT.district_path(shop.slug, city, district)][2])
            ids = sorted(a["data-id"] for a in x.attrs["good"])
            want = sorted(
                p.listing_id
                for p in plat.products
                if (p.shop, p.city, p.district) == (shop.slug, city, district)
            )
            assert ids == want and ids


def test_truth_vendors_and_ground_truth(world: World, svc: Service, served: Fetched):
    vendors = K.truth_vendors(svc)
    assert len(vendors) == len(svc.content.shops)
    for ven in vendors:
        x = parse(served[urlsplit(ven["url"]).path][2])
        assert x.text["operator"] == [ven["handle"]]
        assert x.text["shop-name"] == [ven["shop"]]
        assert x.text["addr-btc"] == ven["btc"]
        assert x.text.get("pgp-fp", []) == (
            [ven["pgp_fingerprint"]] if ven["pgp_fingerprint"] else []
        )
    truth = ground_truth(world)
    mine = [x for x in truth["listings"] if x["site"] == NAME]
    assert len(mine) == len(svc.content.products)
    assert sum(1 for p in truth["pages"] if svc.onion in p) == len(served)


def test_protected_prefixes_cover_cards_and_jobs(svc: Service):
    assert PROTECTED_PREFIXES == K.PROTECTED_PREFIXES
    for page in K.pages(svc):
        protected = page.path.startswith(PROTECTED_PREFIXES)
        assert protected == (page.kind in ("product", "jobs", "jobs-index")), page


def test_unknown_paths_are_branded_404(world: World, svc: Service):
    paths = ["/nope", "/tovar/0", "/magazin/nobody", "/magazin/x/otzyvy?page=99", "/gorod/paris"]
    got = fetch_pages(world, svc, paths)
    for status, _, html in got.values():
        assert status == 404
        assert "Страница не найдена" in html


def test_deterministic(world: World, svc: Service):
    assert_rebuilds_identically(
        world, SEED, NAME,
        lambda _, s: json.dumps([K.truth_listings(s), K.truth_vendors(s), K.truth_jobs(s)],
                                sort_keys=True),
        render_pages,
        lambda _, s: K.occurrences(s),
        lambda _, s: K.decoys(s),
    )  # fmt: skip


def test_content_scales_with_scale():
    small = build_world(SEED, scale=0.5).service(NAME)
    pages = K.pages(small)
    assert 150 <= len(pages) <= 320
    assert len(small.content.shops) >= 3
    assert len(small.content.cities) >= 5
