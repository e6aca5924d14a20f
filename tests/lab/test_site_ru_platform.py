"""Tests of the ``ru_platform`` site kind (service ``shop-ru``): generator, truth and served app.

The app is served in-process (aiohttp's TestServer). Identifiers are re-found in the HTML
with regexes and validated with independent code (base58, bip-utils, hashlib for onions);
product cards are parsed by CSS class and compared with the ground truth, recomputing the
USD price from the rates table the platform publishes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import base58
import pytest
from aiohttp.test_utils import TestClient, TestServer
from bip_utils import (
    P2PKHAddrDecoder,
    P2SHAddrDecoder,
    P2TRAddrDecoder,
    P2WPKHAddrDecoder,
    TrxAddrDecoder,
    XmrAddrDecoder,
)

from lab.sites.ru_platform import PROTECTED_PREFIXES, make_app
from lab.sites.ru_platform.render import render_pages
from lab.world import build_world, vocab
from lab.world.kinds import ru_platform as K
from lab.world.model import Service, World
from lab.world.truth import ground_truth

SEED = 7
NAME = "shop-ru"
Fetched = dict[str, tuple[int, str, str]]  # path -> (status, content type, text)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def svc(world: World) -> Service:
    return world.service(NAME)


async def _fetch(app, paths: list[str], host: str) -> Fetched:
    async with TestClient(TestServer(app)) as client:
        out: Fetched = {}
        for path in paths:
            resp = await client.get(path, headers={"Host": host})
            out[path] = (resp.status, resp.headers.get("Content-Type", ""), await resp.text())
        return out


@pytest.fixture(scope="module")
def served(world: World, svc: Service) -> Fetched:
    paths = [p.path for p in K.pages(svc)]
    return asyncio.run(_fetch(make_app(world, svc), paths, svc.onion))


class Classes(HTMLParser):
    """Links, plus the text and attributes of every element by CSS class."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.attrs: dict[str, list[dict[str, str | None]]] = {}
        self._stack: list[tuple[str, list[str], list[str]]] = []  # (tag, classes, text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in {"br", "meta", "img", "input", "link"}:
            return
        classes = (a.get("class") or "").split()
        for c in classes:
            self.attrs.setdefault(c, []).append(a)
        self._stack.append((tag, classes, []))

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, classes, buf = self._stack.pop()
            text = "".join(buf)
            for c in classes:
                self.text.setdefault(c, []).append(text.strip())
            if self._stack:
                self._stack[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._stack:
            self._stack[-1][2].append(data)


def parse(html: str) -> Classes:
    p = Classes()
    p.feed(html)
    p.close()
    return p


# --- independent identifier validation ----------------------------------------------------

B58 = "[1-9A-HJ-NP-Za-km-z]"
PATTERNS = {
    "b58": re.compile(rf"\b{B58}{{26,35}}\b"),
    "xmr": re.compile(rf"\b[48]{B58}{{94}}\b"),
    "bech32": re.compile(r"\b(?:bc|ltc)1[02-9ac-hj-np-z]{8,87}\b"),
    "onion": re.compile(r"\b[a-z2-7]{56}\b"),
    "session": re.compile(r"\b05[0-9a-f]{64}\b"),
    "pgp_fingerprint": re.compile(r"\b[0-9A-F]{40}\b"),
    "telegram": re.compile(r"(?<![\w.@-])@([A-Za-z][A-Za-z0-9_]{3,31})\b"),
    "jabber": re.compile(r"\b[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]{2,}\b"),
}


def onion_ok(host: str) -> bool:
    raw = base64.b32decode(host.upper())
    pub, checksum, version = raw[:32], raw[32:34], raw[34]
    digest = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()
    return version == 3 and digest[:2] == checksum


def b58_kind(value: str) -> str | None:
    """The chain of a valid Base58Check address (btc/ltc/trx), or None."""
    try:
        payload = base58.b58decode_check(value)
    except ValueError:
        return None
    if len(payload) != 21:
        return None
    return {0x00: "btc", 0x05: "btc", 0x30: "ltc", 0x32: "ltc", 0x41: "trx"}.get(payload[0])


def xmr_ok(value: str) -> bool:
    for net_ver in (b"\x12", b"\x2a"):
        try:
            XmrAddrDecoder().DecodeAddr(value, net_ver=net_ver)
            return True
        except Exception:  # bip-utils raises several types
            continue
    return False


def bech32_ok(value: str) -> bool:
    hrp = value.split("1", 1)[0]
    for decoder in (P2WPKHAddrDecoder(), P2TRAddrDecoder()):
        try:
            decoder.DecodeAddr(value, hrp=hrp)
            return True
        except Exception:
            continue
    return False


def valid_identifiers(html: str) -> set[tuple[str, str]]:
    """Every identifier in ``html`` that passes independent validation, as (type, value)."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    found: set[tuple[str, str]] = set()
    for m in PATTERNS["b58"].findall(html):
        kind = b58_kind(m)
        if kind:
            found.add((kind, m))
    found |= {("xmr", m) for m in PATTERNS["xmr"].findall(html) if xmr_ok(m)}
    for m in PATTERNS["bech32"].findall(html):
        if bech32_ok(m):
            found.add(("btc" if m.startswith("bc1") else "ltc", m))
    found |= {("onion", m) for m in PATTERNS["onion"].findall(html) if onion_ok(m)}
    found |= {("session", m) for m in PATTERNS["session"].findall(html)}
    found |= {("pgp_fingerprint", m) for m in PATTERNS["pgp_fingerprint"].findall(html)}
    found |= {("telegram", m) for m in PATTERNS["telegram"].findall(html)}
    found |= {("jabber", m) for m in PATTERNS["jabber"].findall(html)}
    return found


def address_valid(kind: str, value: str) -> bool:
    """Independent check of one address of a declared chain (bip-utils)."""
    p2pkh, p2sh, p2wpkh, p2tr = (
        P2PKHAddrDecoder(),
        P2SHAddrDecoder(),
        P2WPKHAddrDecoder(),
        P2TRAddrDecoder(),
    )
    decoders = {
        "btc": ((p2pkh, {"net_ver": b"\x00"}), (p2sh, {"net_ver": b"\x05"}),
                (p2wpkh, {"hrp": "bc"}), (p2tr, {"hrp": "bc"})),
        "ltc": ((p2pkh, {"net_ver": b"\x30"}), (p2sh, {"net_ver": b"\x32"}),
                (p2wpkh, {"hrp": "ltc"})),
        "trx": ((TrxAddrDecoder(), {}),),
        "xmr": ((XmrAddrDecoder(), {"net_ver": b"\x12"}), (XmrAddrDecoder(), {"net_ver": b"\x2a"})),
    }  # fmt: skip
    if kind == "onion":
        return onion_ok(value)
    for decoder, kwargs in decoders[kind]:
        try:
            decoder.DecodeAddr(value, **kwargs)
            return True
        except Exception:
            continue
    return False


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
    base = "http://" + svc.onion + "/"
    seen, frontier = {"/"}, ["/"]
    while frontier:
        path = frontier.pop()
        for href in parse(served[path][2]).links:
            assert href.startswith("/") and not href.startswith("//"), (path, href)
            target = urlsplit(urljoin(base + path.lstrip("/"), href))
            key = target.path + (f"?{target.query}" if target.query else "")
            assert key in served, f"{path} links to {key}, which pages() does not list"
            if key not in seen:
                seen.add(key)
                frontier.append(key)
    assert seen == set(served)


def test_identifiers_are_exactly_where_truth_says(svc: Service, served: Fetched):
    expected: dict[str, set[tuple[str, str]]] = {path: set() for path in served}
    for occ in K.occurrences(svc):
        expected[occ.path].add((occ.type, occ.value))
        assert occ.value in served[occ.path][2], occ
        if occ.type in ("btc", "ltc", "trx", "xmr", "onion"):
            assert address_valid(occ.type, occ.value), occ
    for path, (_, _, html) in served.items():
        assert valid_identifiers(html) == expected[path], path
    types = {occ.type for occ in K.occurrences(svc)}
    assert {"onion", "btc", "trx", "xmr", "ltc", "telegram", "jabber", "session"} <= types
    assert "pgp_fingerprint" in types


def test_decoys_are_shown_and_fail_validation(svc: Service, served: Fetched):
    decoys = K.decoys(svc)
    assert len(decoys) >= 4
    assert {d.type for d in decoys} >= {"btc", "trx", "onion"}
    for d in decoys:
        assert d.value in served[d.path][2], d
        assert not address_valid(d.type, d.value), d
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
    got = asyncio.run(_fetch(make_app(world, svc), paths, svc.onion))
    for status, _, html in got.values():
        assert status == 404
        assert "Страница не найдена" in html


def test_deterministic(world: World, svc: Service):
    again = build_world(SEED)
    other = again.service(NAME)
    dump = lambda s: json.dumps(  # noqa: E731
        [K.truth_listings(s), K.truth_vendors(s), K.truth_jobs(s)], sort_keys=True
    )
    assert dump(other) == dump(svc)
    assert render_pages(again, other) == render_pages(world, svc)
    assert K.occurrences(other) == K.occurrences(svc)
    assert K.decoys(other) == K.decoys(svc)


def test_content_scales_with_scale():
    small = build_world(SEED, scale=0.5).service(NAME)
    pages = K.pages(small)
    assert 150 <= len(pages) <= 320
    assert len(small.content.shops) >= 3
    assert len(small.content.cities) >= 5
