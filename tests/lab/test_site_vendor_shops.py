"""Tests of the single-vendor shops (kinds ``vendor_shop_a`` and ``vendor_shop_b``).

Each shop's app is served in-process (aiohttp's TestServer): every truth page answers, a
crawl from ``/`` reaches exactly the truth pages, each page carries the identifiers truth
says and no others (re-found with regexes, validated with base58 / bip-utils / eth-utils /
hashlib, independently of the lab's code), decoys fail validation, and the listing fields
on the pages equal the ground truth. Also: the vendors are shared identities, and the
world is deterministic.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import base58
import pytest
from aiohttp.test_utils import TestClient, TestServer
from bip_utils import CoinsConf, P2TRAddrDecoder, P2WPKHAddrDecoder, XmrAddrDecoder
from eth_utils import is_checksum_address

from lab.sites.registry import make_app
from lab.sites.vendor_shop_a.render import render_pages as render_a
from lab.sites.vendor_shop_b.render import render_pages as render_b
from lab.world import build_world
from lab.world.kinds import vendor_shop_a as A
from lab.world.kinds import vendor_shop_b as B
from lab.world.model import World
from lab.world.truth import ground_truth

SEED = 7
SHOPS = ("vendor-a", "vendor-b")
KINDS = {"vendor-a": A, "vendor-b": B}
Fetched = dict[str, tuple[int, str, str]]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def truth(world: World) -> dict:
    return ground_truth(world)


async def _fetch(app, paths: list[str], host: str) -> Fetched:
    async with TestClient(TestServer(app)) as client:
        out: Fetched = {}
        for path in paths:
            resp = await client.get(path, headers={"Host": host})
            out[path] = (resp.status, resp.headers.get("Content-Type", ""), await resp.text())
        return out


@pytest.fixture(scope="module")
def served(world: World) -> dict[str, Fetched]:
    out = {}
    for name in SHOPS:
        svc = world.service(name)
        paths = [p.path for p in KINDS[name].pages(svc)]
        out[name] = asyncio.run(_fetch(make_app(world, svc), paths, svc.onion))
    return out


class Extract(HTMLParser):
    """Links, plus the text and attributes of every element by class and by data-field."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.attrs: dict[str, list[dict[str, str | None]]] = {}
        self._open: list[tuple[str, list[str]]] = []
        self._buf: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in {"br", "meta", "img", "input", "link"}:
            return
        names = (a.get("class") or "").split()
        if a.get("data-field"):
            names.append("field:" + a["data-field"])
        for name in names:
            self.attrs.setdefault(name, []).append(a)
        self._open.append((tag, names))
        self._buf.append([])

    def handle_endtag(self, tag):
        while self._open:
            open_tag, names = self._open.pop()
            text = "".join(self._buf.pop())
            for name in names:
                self.text.setdefault(name, []).append(text.strip())
            if self._buf:
                self._buf[-1].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._buf:
            self._buf[-1].append(data)


def parse(html: str) -> Extract:
    x = Extract()
    x.feed(html)
    x.close()
    return x


# --- independent validators ------------------------------------------------------------------

B58 = "1-9A-HJ-NP-Za-km-z"
BECH = "02-9ac-hj-np-z"


def onion_ok(host: str) -> bool:
    raw = base64.b32decode(host.upper())
    pub, checksum, version = raw[:32], raw[32:34], raw[34:]
    digest = hashlib.sha3_256(b".onion checksum" + pub + version).digest()
    return version == b"\x03" and digest[:2] == checksum


def b58_version(addr: str) -> int | None:
    try:
        payload = base58.b58decode_check(addr)
    except Exception:
        return None
    return payload[0] if len(payload) == 21 else None


def segwit_ok(addr: str, hrp: str) -> bool:
    try:
        if addr.startswith(hrp + "1p"):
            P2TRAddrDecoder.DecodeAddr(addr, hrp=hrp)
        else:
            P2WPKHAddrDecoder.DecodeAddr(addr, hrp=hrp)
        return True
    except Exception:
        return False


def xmr_ok(addr: str) -> bool:
    conf = CoinsConf.MoneroMainNet
    for key in ("addr_net_ver", "subaddr_net_ver"):
        try:
            XmrAddrDecoder.DecodeAddr(addr, net_ver=conf.ParamByKey(key))
            return True
        except Exception:
            continue
    return False


def valid(kind: str, value: str) -> bool:
    if kind == "onion":
        return onion_ok(value)
    if kind == "btc":
        return segwit_ok(value, "bc") if value.startswith("bc1") else b58_version(value) in (0, 5)
    if kind == "ltc":
        if value.startswith("ltc1"):
            return segwit_ok(value, "ltc")
        return b58_version(value) in (0x30, 0x32)
    if kind == "xmr":
        return xmr_ok(value)
    if kind == "eth":
        return is_checksum_address(value)
    if kind == "trx":
        return b58_version(value) == 0x41
    raise AssertionError(kind)


def found_identifiers(text: str) -> set[tuple[str, str]]:
    """Every valid identifier in ``text``; e-mail and Jabber IDs both as ``address@``."""
    found: set[tuple[str, str]] = set()
    text = unescape(text)
    for host in re.findall(r"(?<![a-z2-7])([a-z2-7]{55}d)(?![a-z2-7])", text):
        if onion_ok(host):
            found.add(("onion", host))
    shapes = {
        "btc": rf"(?<![{B58}])([13][{B58}]{{25,34}}|bc1[qp][{BECH}]{{38,58}})(?![{B58}])",
        "ltc": rf"(?<![{B58}])([LM][{B58}]{{33}}|ltc1q[{BECH}]{{38,58}})(?![{B58}])",
        "xmr": rf"(?<![{B58}])([48][{B58}]{{94}})(?![{B58}])",
        "eth": r"(?<![0-9A-Za-z])(0x[0-9a-fA-F]{40})(?![0-9A-Za-z])",
        "trx": rf"(?<![{B58}])(T[{B58}]{{33}})(?![{B58}])",
    }
    for kind, shape in shapes.items():
        found |= {(kind, v) for v in re.findall(shape, text) if valid(kind, v)}
    for fpr in re.findall(r"(?<![0-9A-Za-z])([0-9A-F]{4}(?: {0,2}[0-9A-F]{4}){9})(?![0-9A-Za-z])",
                          text):  # fmt: skip
        found.add(("pgp_fingerprint", fpr.replace(" ", "")))
    for sid in re.findall(r"(?<![0-9a-f])(05[0-9a-f]{64})(?![0-9a-f])", text):
        found.add(("session", sid))
    for addr in re.findall(r"(?<![\w.@-])([\w.+-]+@[a-z0-9.-]+\.[a-z]{2,})\b", text):
        found.add(("address@", addr))
    for name in re.findall(r"(?:(?<![\w.@])@|t\.me/)([A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9])", text):
        found.add(("telegram", name))
    return found


def normalise(kind: str, value: str) -> tuple[str, str]:
    return ("address@", value) if kind in ("email", "jabber") else (kind, value)


def fingerprint_forms(fpr: str) -> list[str]:
    groups = [fpr[i : i + 4] for i in range(0, 40, 4)]
    return [fpr, " ".join(groups), " ".join(groups[:5]) + "  " + " ".join(groups[5:])]


def appears(kind: str, value: str, text: str) -> bool:
    text = unescape(text)
    if kind == "pgp_fingerprint":
        return any(form in text for form in fingerprint_forms(value))
    return value in text


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
    svc = world.service(name)
    base = svc.url
    expected = {p for p in truth["pages"] if p.startswith(base)}
    pages = {base.rstrip("/") + path: html for path, (_, _, html) in served[name].items()}
    assert set(pages) == expected
    seen, frontier = {base}, [base]
    while frontier:
        url = frontier.pop()
        for href in parse(pages[url]).links:
            assert href.startswith("/"), href  # root-relative links only
            target = urljoin(url, href).split("#")[0]
            assert target in pages, f"{url} links to {target}, which truth does not list"
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == expected


@pytest.mark.parametrize("name", SHOPS)
def test_identifiers_appear_exactly_where_truth_says(world, truth, served, name):
    svc = world.service(name)
    base = svc.url.rstrip("/")
    listed: dict[str, set[tuple[str, str]]] = {}
    for ident in truth["identifiers"]:
        for url in ident["pages"]:
            if url.startswith(base + "/"):
                listed.setdefault(url[len(base) :], set()).add((ident["type"], ident["value"]))
    assert listed, "the shop shows no identifiers"
    for path, (_, _, html) in served[name].items():
        expected = listed.get(path, set())
        for kind, value in expected:
            assert appears(kind, value, html), (path, kind, value)
            if kind not in ("email", "jabber", "telegram", "session", "pgp_fingerprint"):
                assert valid(kind, value), (kind, value)
        assert found_identifiers(html) == {normalise(*x) for x in expected}, path


@pytest.mark.parametrize("name", SHOPS)
def test_decoys_are_shown_and_fail_validation(world, truth, served, name):
    base = world.service(name).url.rstrip("/")
    decoys = [
        (d["type"], d["value"], url[len(base) :])
        for d in truth["decoys"]
        for url in d["pages"]
        if url.startswith(base + "/")
    ]
    assert decoys
    for kind, value, path in decoys:
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
    async def go(name: str) -> list[tuple[int, str]]:
        svc = world.service(name)
        async with TestClient(TestServer(make_app(world, svc))) as client:
            out = []
            for path in ("/nope", "/product/P999", "/item/zzzzzz", "/reviews?page=99"):
                resp = await client.get(path)
                out.append((resp.status, await resp.text()))
            if name == "vendor-a":
                resp = await client.post(A.ORDER, data={"message": "x", "txid": "y"})
                out.append((resp.status + 1000, await resp.text()))
            return out

    for name in SHOPS:
        results = asyncio.run(go(name))
        for status, html in results:
            if status > 1000:
                assert status == 1200 and "Order received" in html
            else:
                assert status == 404 and world.service(name).title in html


def test_signed_mirror_list_verifies_with_gpg(world, tmp_path: Path):
    gpg = shutil.which("gpg")
    if gpg is None:
        pytest.skip("gpg not installed")
    for name in SHOPS:
        svc = world.service(name)
        home = tmp_path / name
        home.mkdir(mode=0o700)
        env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
        subprocess.run([gpg, "--batch", "--import"], input=svc.vendors[0].pgp.armored.encode(),
                       env=env, check=True, capture_output=True)  # fmt: skip
        done = subprocess.run([gpg, "--batch", "--verify"],
                              input=svc.content.mirrors_signed.encode(), env=env,
                              capture_output=True)  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        assert svc.onion in svc.content.mirrors_signed


def test_deterministic_and_linear_in_scale(world):
    again = build_world(SEED)
    for name in SHOPS:
        one, two = world.service(name), again.service(name)
        assert one == two
        kind = KINDS[name]
        assert kind.truth_listings(one) == kind.truth_listings(two)
        assert kind.occurrences(one) == kind.occurrences(two)
    assert render_a(world, world.service("vendor-a")) == render_a(again, again.service("vendor-a"))
    assert render_b(world, world.service("vendor-b")) == render_b(again, again.service("vendor-b"))
    small = build_world(SEED, scale=0.5)
    for name in SHOPS:
        assert len(small.service(name).listings) == 20
