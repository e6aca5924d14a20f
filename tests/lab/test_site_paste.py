"""Tests of the paste site (kind ``paste``), including its PrivateBin-style encrypted paste.

The app is served in-process (aiohttp's TestServer). Every truth page answers (HTML, or
``text/plain`` for raw views), a crawl from ``/`` reaches exactly the truth pages, each
page shows the identifiers truth lists and no others (found with regexes and validated
independently: base58, bip-utils, eth-utils, hashlib), decoys fail validation, and the
encrypted paste is readable only with the key from the full link, which the crawler never
gets: its identifiers are not in the ground truth.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import base58
import pytest
from aiohttp.test_utils import TestClient, TestServer
from bip_utils import CoinsConf, P2TRAddrDecoder, P2WPKHAddrDecoder, XmrAddrDecoder
from Crypto.Cipher import AES
from eth_utils import is_checksum_address

from lab.sites.paste.render import render_pages
from lab.sites.registry import make_app
from lab.world import build_world
from lab.world.kinds import paste as K
from lab.world.model import Service, World
from lab.world.truth import ground_truth

SEED = 11
Fetched = dict[str, tuple[int, str, str]]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def svc(world: World) -> Service:
    return world.service("paste")


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
def served(world: World, svc: Service) -> Fetched:
    return asyncio.run(_fetch(make_app(world, svc), [p.path for p in K.pages(svc)], svc.onion))


class Links(HTMLParser):
    """The hrefs of a page and the attributes of elements by class."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.attrs: dict[str, list[dict[str, str | None]]] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for name in (a.get("class") or "").split():
            self.attrs.setdefault(name, []).append(a)


def parse(html: str) -> Links:
    x = Links()
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
    fprs = r"(?<![0-9A-Za-z])([0-9A-F]{4}(?: {0,2}[0-9A-F]{4}){9})(?![0-9A-Za-z])"
    found |= {("pgp_fingerprint", f.replace(" ", "")) for f in re.findall(fprs, text)}
    for sid in re.findall(r"(?<![0-9a-f])(05[0-9a-f]{64})(?![0-9a-f])", text):
        found.add(("session", sid))
    for addr in re.findall(r"(?<![\w.@-])([\w.+-]+@[a-z0-9.-]+\.[a-z]{2,})\b", text):
        found.add(("address@", addr))
    for name in re.findall(r"(?:(?<![\w.@])@|t\.me/)([A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9])", text):
        found.add(("telegram", name))
    return found


def normalise(kind: str, value: str) -> tuple[str, str]:
    return ("address@", value) if kind in ("email", "jabber") else (kind, value)


def appears(kind: str, value: str, text: str) -> bool:
    text = unescape(text)
    if kind == "pgp_fingerprint":
        groups = [value[i : i + 4] for i in range(0, 40, 4)]
        forms = [value, " ".join(groups), " ".join(groups[:5]) + "  " + " ".join(groups[5:])]
        return any(form in text for form in forms)
    return value in text


def _by_page(svc: Service, truth: dict, key: str) -> dict[str, set[tuple[str, str]]]:
    base = svc.url.rstrip("/")
    out: dict[str, set[tuple[str, str]]] = {}
    for ident in truth[key]:
        for url in ident["pages"]:
            if url.startswith(base + "/"):
                out.setdefault(url[len(base) :], set()).add((ident["type"], ident["value"]))
    return out


# --- tests -----------------------------------------------------------------------------------


def test_every_page_is_served(svc, served):
    assert 250 <= len(served) <= 350  # ~300 pages at scale 1
    enc = K.paste_path(svc.content.encrypted_id)
    for path, (status, ctype, body) in served.items():
        assert status == 200, path
        if path.startswith("/raw/"):
            assert ctype == "text/plain; charset=utf-8", path
            continue
        assert ctype == "text/html; charset=utf-8", path
        assert body.startswith("<!DOCTYPE html>")
        assert ("<script" in body.lower()) == (path == enc), path  # JS on the encrypted one only


def test_crawl_from_home_reaches_exactly_the_truth_pages(svc, truth, served):
    base = svc.url
    expected = {p for p in truth["pages"] if p.startswith(base)}
    pages = {base.rstrip("/") + path: v for path, v in served.items()}
    assert set(pages) == expected
    seen, frontier = {base}, [base]
    while frontier:
        url = frontier.pop()
        _, ctype, body = pages[url]
        if not ctype.startswith("text/html"):
            continue
        for href in parse(body).links:
            assert href.startswith("/") and "#" not in href, href
            target = urljoin(url, href)
            assert target in pages, f"{url} links to {target}, which truth does not list"
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == expected


def test_identifiers_appear_exactly_where_truth_says(svc, truth, served):
    listed = _by_page(svc, truth, "identifiers")
    kinds = {kind for found in listed.values() for kind, _ in found}
    assert {"onion", "btc", "pgp_fingerprint", "email", "telegram"} <= kinds
    for path, (_, _, body) in served.items():
        expected = listed.get(path, set())
        for kind, value in expected:
            assert appears(kind, value, body), (path, kind, value)
        assert found_identifiers(body) == {normalise(*x) for x in expected}, path


def test_decoys_are_shown_and_fail_validation(svc, truth, served):
    decoys = _by_page(svc, truth, "decoys")
    kinds = {kind for found in decoys.values() for kind, _ in found}
    assert "onion" in kinds and len(kinds) >= 3
    for path, found in decoys.items():
        for kind, value in found:
            assert appears(kind, value, served[path][2])
            assert not valid(kind, value), (kind, value)


def test_index_is_newest_first_and_lists_every_paste_once(svc, served):
    ids: list[str] = []
    for n in range(1, K.index_pages(svc) + 1):
        rows = parse(served[K.index_path(n)][2]).attrs["paste-row"]
        assert 1 <= len(rows) <= svc.per_page
        ids += [row["data-id"] for row in rows]
    assert ids == [p.paste_id for p in svc.content.pastes]
    created = [p.created for p in svc.content.pastes]
    assert created == sorted(created, reverse=True)
    assert {p.kind for p in svc.content.pastes} >= {"prices_en", "prices_ru", "pgp", "mirrors",
                                                    "contacts", "crypto", "chatter"}  # fmt: skip


def test_encrypted_paste_needs_the_key_from_the_full_link(world, svc, truth, served):
    content = svc.content
    enc_path = K.paste_path(content.encrypted_id)
    page = served[enc_path][2]
    # The index links it without the key; one paste quotes the full link with the key.
    assert any(enc_path in parse(served[K.index_path(n)][2]).links
               for n in range(1, K.index_pages(svc) + 1))  # fmt: skip
    quoted = re.findall(rf"http://{svc.onion}{enc_path}#([A-Za-z0-9_-]+)",
                        served[K.paste_path(content.link_id)][2])  # fmt: skip
    assert len(quoted) == 1
    key = base64.urlsafe_b64decode(quoted[0] + "=" * (-len(quoted[0]) % 4))
    assert len(key) == 32
    envelope = json.loads(unescape(re.search(r'id="cipherdata"[^>]*>([^<]*)<', page).group(1)))
    blob = base64.b64decode(envelope["ct"])
    cipher = AES.new(key, AES.MODE_GCM, nonce=base64.b64decode(envelope["iv"]))
    cipher.update(envelope["adata"].encode())
    plaintext = cipher.decrypt_and_verify(blob[:-16], blob[-16:]).decode()
    secret_ids = found_identifiers(plaintext)
    assert secret_ids  # the paste does hide identifiers...
    for _, value in secret_ids:
        assert value not in page  # ...which neither its page shows
    assert f"{svc.url.rstrip('/')}{enc_path}" in truth["pages"]  # the paste exists in truth
    assert enc_path not in _by_page(svc, truth, "identifiers")  # but none of its contents
    assert K.raw_path(content.encrypted_id) not in served


def test_no_listings_or_vendors_and_unknown_paths_404(world, svc, truth):
    assert not [x for x in truth["listings"] if x["site"] == "paste"]
    assert not [v for v in truth["vendors"] if v["site"] == "paste"]

    async def go() -> list[tuple[int, str]]:
        async with TestClient(TestServer(make_app(world, svc))) as client:
            out = []
            for path in ("/p/nope", "/raw/nope", "/archive/1", "/archive/999", "/x"):
                resp = await client.get(path)
                out.append((resp.status, await resp.text()))
            return out

    for status, html in asyncio.run(go()):
        assert status == 404 and "Paste not found" in html


def test_deterministic_and_linear_in_scale(world, svc):
    again = build_world(SEED)
    assert again.service("paste") == svc
    assert render_pages(again, again.service("paste")) == render_pages(world, svc)
    assert K.occurrences(again.service("paste")) == K.occurrences(svc)
    small = build_world(SEED, scale=0.5).service("paste")
    assert len(small.content.pastes) == 70
