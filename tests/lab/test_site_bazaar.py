"""Tests of the ``bazaar`` site kind: generator, ground truth, served app and signed files.

The app is served in-process (aiohttp's TestServer). Identifiers are re-found in the HTML
with regexes and validated with independent code (base58, bip-utils, hashlib for onions),
and the signed mirror list and canary are checked with the ``gpg`` binary.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import base58
import pytest
from aiohttp.test_utils import TestClient, TestServer
from bip_utils import CoinsConf, P2TRAddrDecoder, P2WPKHAddrDecoder, XmrAddrDecoder

from lab.sites.bazaar import PROTECTED_PREFIXES, make_app
from lab.sites.bazaar.render import render_site
from lab.sites.signed_files import admin_key, signed_files
from lab.world import build_world
from lab.world.kinds import bazaar as K
from lab.world.model import Service, World
from lab.world.truth import ground_truth

SEED = 5
Fetched = dict[str, tuple[int, str, str]]  # path -> (status, content type, text)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def svc(world: World) -> Service:
    return world.service("bazaar")


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


class Extract(HTMLParser):
    """Links, plus the text and attributes of every element by CSS class."""

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
        classes = (a.get("class") or "").split()
        for c in classes:
            self.attrs.setdefault(c, []).append(a)
        self._open.append((tag, classes))
        self._buf.append([])

    def handle_endtag(self, tag):
        while self._open:
            open_tag, classes = self._open.pop()
            text = "".join(self._buf.pop())
            for c in classes:
                self.text.setdefault(c, []).append(text.strip())
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


def onion_ok(host: str) -> bool:
    raw = base64.b32decode(host.upper())
    pub, checksum, version = raw[:32], raw[32:34], raw[34:]
    digest = hashlib.sha3_256(b".onion checksum" + pub + version).digest()
    return version == b"\x03" and digest[:2] == checksum


def btc_ok(addr: str) -> bool:
    try:
        if addr.startswith("bc1q"):
            P2WPKHAddrDecoder.DecodeAddr(addr, hrp="bc")
        elif addr.startswith("bc1p"):
            P2TRAddrDecoder.DecodeAddr(addr, hrp="bc")
        else:
            payload = base58.b58decode_check(addr)
            return len(payload) == 21 and payload[0] in (0x00, 0x05)
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


def b58check_ok(addr: str) -> bool:
    try:
        base58.b58decode_check(addr)
        return True
    except Exception:
        return False


def found_identifiers(text: str) -> set[tuple[str, str]]:
    """Every valid identifier in ``text`` (types whose shape can be found reliably)."""
    found: set[tuple[str, str]] = set()
    for host in re.findall(r"(?<![a-z2-7])([a-z2-7]{56})(?:\.onion)", text):
        if onion_ok(host):
            found.add(("onion", host))
    for addr in re.findall(rf"(?<![{B58}])([13][{B58}]{{25,34}})(?![{B58}])", text):
        if btc_ok(addr):
            found.add(("btc", addr))
    for addr in re.findall(r"\b(bc1[qp][02-9ac-hj-np-z]{38,58})\b", text):
        if btc_ok(addr):
            found.add(("btc", addr))
    for addr in re.findall(rf"(?<![{B58}])([48][{B58}]{{94}})(?![{B58}])", text):
        if xmr_ok(addr):
            found.add(("xmr", addr))
    for fpr in re.findall(r"(?<![0-9A-Za-z])([0-9A-F]{40})(?![0-9A-Za-z])", text):
        found.add(("pgp_fingerprint", fpr))
    for sid in re.findall(r"(?<![0-9a-f])(05[0-9a-f]{64})(?![0-9a-f])", text):
        found.add(("session", sid))
    for addr in re.findall(r"(?<![\w.@-])([\w.+-]+@[a-z0-9.-]+\.[a-z]{2,})\b", text):
        found.add(("address@", addr))
    for name in re.findall(r"(?<![\w@])@([A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9])\b", text):
        found.add(("telegram", name))
    for addr in re.findall(rf"(?<![{B58}])([LMT][{B58}]{{33}})(?![{B58}])", text):
        if b58check_ok(addr):
            found.add(("ltc/trx", addr))
    for addr in re.findall(r"\b(0x[0-9a-fA-F]{40})\b", text):
        found.add(("eth", addr))
    return found


def declared(occurrences) -> dict[str, set[tuple[str, str]]]:
    """Occurrences per path, with e-mail and Jabber IDs folded into one shape."""
    per: dict[str, set[tuple[str, str]]] = {}
    for occ in occurrences:
        kind = "address@" if occ.type in ("email", "jabber") else occ.type
        per.setdefault(occ.path, set()).add((kind, occ.value))
    return per


# --- tests -----------------------------------------------------------------------------------


def test_size_and_shape_at_scale_one(world: World, svc: Service):
    assert svc.kind == "bazaar" and svc.title != world.service("market").title
    assert len(svc.listings) == 300
    assert len(svc.vendors) == 25
    assert 350 <= len(K.pages(svc)) <= 450
    assert svc.per_page == K.PER_PAGE
    # The same people sell on the market, under the same key.
    market = {v.identity: v for v in world.service("market").vendors}
    shared = [v for v in svc.vendors if v.identity in market]
    assert shared
    assert all(v.pgp.fingerprint == market[v.identity].pgp.fingerprint for v in shared)
    # One mirror, a different valid onion.
    assert len(svc.mirrors) == 1 and svc.mirrors[0] != svc.onion
    assert onion_ok(svc.mirrors[0].removesuffix(".onion"))


def test_every_page_is_served(svc: Service, served: Fetched):
    for page in K.pages(svc):
        status, ctype, text = served[page.path]
        assert status == 200, page
        if page.kind == "text":
            assert ctype == "text/plain; charset=utf-8"
        else:
            assert ctype == "text/html; charset=utf-8"
            assert text.startswith("<!DOCTYPE html>")
            assert "<script" not in text.lower()


def test_crawl_from_home_reaches_exactly_the_truth_pages(svc: Service, served: Fetched):
    base = svc.url
    truth_urls = {base.rstrip("/") + p.path for p in K.pages(svc)}
    seen, frontier = {base}, [base]
    while frontier:
        url = frontier.pop()
        path = urlsplit(url).path
        if path in K.TEXT_PATHS:
            continue
        for href in parse(served[path][2]).links:
            assert href.startswith("/") and not href.startswith("//"), href
            target = urljoin(url, href).split("#")[0]
            if target not in seen:
                assert target in truth_urls, f"{url} links to {target}"
                seen.add(target)
                frontier.append(target)
    assert seen == truth_urls


def test_identifiers_are_exactly_where_truth_says(svc: Service, served: Fetched):
    per_page = declared(K.occurrences(svc))
    decoy_values = {d.value for d in K.decoys(svc)}
    for page in K.pages(svc):
        text = unescape(served[page.path][2])
        found = found_identifiers(text)
        assert found == per_page.get(page.path, set()), page.path
        assert not decoy_values & {v for _, v in found}
    for occ in K.occurrences(svc):
        assert occ.value in served[occ.path][2], occ


def test_truth_covers_every_shown_wallet_and_contact(world: World, svc: Service):
    people = {p.id: p for p in world.identities}
    occ = {(o.type, o.value, o.path) for o in K.occurrences(svc)}
    for ven in svc.vendors:
        person = people[ven.identity]
        path = K.store_path(ven.handle)
        for kind in ("btc", "xmr"):
            for value in person.wallet(kind):
                assert (kind, value, path) in occ
        for kind, value in person.contacts:
            assert (kind, value, path) in occ
    kinds = {o.type for o in K.occurrences(svc)}
    assert {"onion", "btc", "xmr", "pgp_fingerprint", "email", "telegram"} <= kinds


def test_decoys_are_shown_and_fail_validation(svc: Service, served: Fetched):
    decoys = K.decoys(svc)
    kinds = {d.type for d in decoys}
    assert {"btc", "xmr", "onion"} <= kinds
    check = {"btc": btc_ok, "xmr": xmr_ok, "onion": onion_ok}
    for d in decoys:
        assert d.value in served[d.path][2], d
        assert not check[d.type](d.value), d
    # An old address is marked as such in the wallet table.
    old = next(d for d in decoys if d.type == "btc")
    x = parse(served[old.path][2])
    assert old.value in [t for t in x.text["addr-value"]]
    assert any(a.get("data-chain") == "btc" for a in x.attrs["addr-old"])


def test_listing_pages_carry_the_truth_fields(world: World, svc: Service, served: Fetched):
    truth = [x for x in ground_truth(world)["listings"] if x["site"] == "bazaar"]
    assert len(truth) == len(svc.listings)
    for lst in truth:
        path = urlsplit(lst["url"]).path
        assert path == K.item_path(lst["listing_id"])
        x = parse(served[path][2])
        assert x.attrs["bz-item"][0]["data-item"] == lst["listing_id"]
        assert x.text["bz-item-title"] == [lst["title"]]
        assert x.text["f-id"] == [lst["listing_id"]]
        assert x.text["f-seller"][0].startswith(lst["vendor"] + " Level ")
        assert x.text["f-dept"] == [lst["category"]]
        assert x.text["f-product"] == [lst["substance"]]
        assert x.text["f-from"] == [lst["ships_from"]]
        assert x.text["f-to"] == [lst["ships_to"]]
        assert x.attrs["f-pay"][0]["data-escrow"] == lst["escrow"]
        assert x.text["t-qty"] == [f"{t['quantity']} g" for t in lst["tiers"]]
        for cur in ("usd", "eur", "btc", "xmr"):
            assert x.text[f"t-{cur}"] == [t[f"price_{cur}"] for t in lst["tiers"]]
        first = lst["tiers"][0]
        assert (lst["weight_g"], lst["price_usd"], lst["price_btc"]) == (
            first["quantity"], first["price_usd"], first["price_btc"],
        )  # fmt: skip
        assert lst["weight_g"] in lst["title"]
        assert K.store_path(lst["vendor"]) in x.links


def test_prices_follow_the_world_rates(world: World, svc: Service):
    from decimal import ROUND_HALF_UP, Decimal

    from lab.world.vocab import rates

    btc, table = Decimal(world.btc_usd), rates()
    for lst in ground_truth(world)["listings"]:
        if lst["site"] != "bazaar":
            continue
        usd = Decimal(lst["price_usd"])
        assert Decimal(lst["price_btc"]) == (usd / btc).quantize(Decimal("1e-8"), ROUND_HALF_UP)
        eur = (usd / table.usd["EUR"]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(lst["price_eur"]) == eur
        assert re.fullmatch(r"\d+\.\d{6}", lst["price_xmr"])
        # Quantity discount: the price per gram falls with the tier.
        per_g = [Decimal(t["price_usd"]) / Decimal(t["quantity"]) for t in lst["tiers"]]
        assert per_g == sorted(per_g, reverse=True)


def test_store_pages_show_key_wallets_contacts(world: World, svc: Service, served: Fetched):
    truth = {v["handle"]: v for v in ground_truth(world)["vendors"] if v["site"] == "bazaar"}
    assert set(truth) == {v.handle for v in svc.vendors}
    content = K.content_of(svc)
    for ven in svc.vendors:
        t = truth[ven.handle]
        x = parse(served[K.store_path(ven.handle)][2])
        assert x.text["bz-store-name"] == [ven.handle]
        assert x.text["bz-fpr"] == [t["pgp_fingerprint"]]
        assert unescape(x.text["bz-armor"][0]) + "\n" == ven.pgp.armored
        store = content.store(ven.handle)
        live = [a for a in x.attrs["addr"] if "addr-old" not in (a.get("class") or "")]
        chains = [a["data-chain"] for a in live]
        assert chains == ["btc"] * len(t["btc"]) + ["xmr"] * len(t["xmr"])
        shown = x.text["addr-value"]
        assert sorted(shown[: len(live)]) == sorted(t["btc"] + t["xmr"])
        assert shown[len(live) :] == [v for _, v in store.old_wallets]
        contacts = [c["value"] for c in t["contacts"]]
        assert [v.lstrip("@") for v in x.text.get("ct-value", [])] == contacts
        assert K.reviews_path(ven.handle) in x.links
        reviews = parse(served[K.reviews_path(ven.handle)][2])
        assert len(reviews.attrs["rv"]) == len(store.reviews) >= 4


def test_department_pagination(svc: Service, served: Fetched):
    for cat in svc.categories:
        ids: list[str] = []
        number, path = 1, K.dept_path(cat.slug, 1)
        while True:
            x = parse(served[path][2])
            assert x.text["bz-dept-title"] == [cat.name]
            cards = [a["data-item"] for a in x.attrs.get("bz-card", [])]
            assert 1 <= len(cards) <= svc.per_page
            ids += cards
            assert x.text["pg-on"] == [str(number)]
            nxt = x.attrs.get("pg-next")
            if not nxt:
                break
            number += 1
            path = nxt[0]["href"]
            assert path == K.dept_path(cat.slug, number)
        mine = {lst.listing_id for lst in svc.listings if lst.category == cat.slug}
        assert sorted(ids) == sorted(mine)


def test_signed_files_verify_with_gpg(world: World, svc: Service, served: Fetched, tmp_path):
    if shutil.which("gpg") is None:
        pytest.skip("gpg not installed")
    key, _ = admin_key(world, svc)
    assert key == K.content_of(svc).admin_key
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--no-tty", "--status-fd", "1"]
    (tmp_path / "pgp.txt").write_text(served[K.PGP_TXT][2])
    subprocess.run([*gpg, "--import", str(tmp_path / "pgp.txt")], check=True, capture_output=True)
    for path in (K.MIRRORS_TXT, K.CANARY_TXT):
        f = tmp_path / path.strip("/")
        f.write_text(served[path][2])
        out = subprocess.run([*gpg, "--verify", str(f)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert f"VALIDSIG {key.fingerprint}" in out.stdout
    mirrors = served[K.MIRRORS_TXT][2]
    body = mirrors.split("\n\n", 1)[1].split("-----BEGIN PGP SIGNATURE-----")[0]
    lines = [ln for ln in body.splitlines() if ln.startswith("http://")]
    assert lines == [f"http://{onion}" for _, onion in svc.addresses]
    assert all(ln.startswith("#") or ln.startswith("http://") or not ln for ln in body.splitlines())
    canary = served[K.CANARY_TXT][2]
    assert re.search(r"^Date: \d{4}-\d{2}-\d{2}$", canary, re.M)
    assert re.search(r"^Block hash: [0-9a-f]{64}$", canary, re.M)

    # The phishing clone's files are signed by another key: they do not verify here.
    clone = world.service("market-clone")
    market = world.service("market")
    clone_key, clone_secret = admin_key(world, clone)
    assert clone_key.fingerprint != admin_key(world, market)[0].fingerprint
    assert clone_key.uid == admin_key(world, market)[0].uid  # it imitates the name
    forged = tmp_path / "forged.txt"
    forged.write_bytes(signed_files(world, clone, clone_key, clone_secret)[K.MIRRORS_TXT])
    out = subprocess.run([*gpg, "--verify", str(forged)], capture_output=True, text=True)
    assert out.returncode != 0 and "VALIDSIG" not in out.stdout


def test_market_files_verify_with_its_own_key(world: World, tmp_path):
    if shutil.which("gpg") is None:
        pytest.skip("gpg not installed")
    market = world.service("market")
    key, secret = admin_key(world, market)
    files = signed_files(world, market, key, secret)
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--no-tty", "--status-fd", "1"]
    (tmp_path / "pgp.txt").write_bytes(files["/pgp.txt"])
    subprocess.run([*gpg, "--import", str(tmp_path / "pgp.txt")], check=True, capture_output=True)
    (tmp_path / "canary.txt").write_bytes(files["/canary.txt"])
    out = subprocess.run([*gpg, "--verify", str(tmp_path / "canary.txt")], capture_output=True)
    assert out.returncode == 0


def test_mirror_serves_the_same_site(world: World, svc: Service, served: Fetched):
    paths = ["/", K.SECURITY_PATH, K.item_path(svc.listings[0].listing_id)]
    via_mirror = asyncio.run(_fetch(make_app(world, svc), paths, svc.mirrors[0]))
    for path in paths:
        assert via_mirror[path] == served[path]


def test_unknown_paths_get_the_branded_404(world: World, svc: Service):
    missing = ["/nope", "/item/1", "/store/nobody", "/c/stimulants/99", "/c/stimulants/0",
               "/c/stimulants", "/item/", "/store/x/reviews/",
               "/c/stimulants/1?page=2"]  # fmt: skip
    got = asyncio.run(_fetch(make_app(world, svc), missing, svc.onion))
    for path, (status, ctype, text) in got.items():
        assert status == 404, path
        assert ctype == "text/html; charset=utf-8"
        assert "Page not found" in text and svc.title in text


def test_protected_prefixes_cover_items_and_stores_only(svc: Service):
    for page in K.pages(svc):
        protected = page.path.startswith(PROTECTED_PREFIXES)
        assert protected == (page.kind in ("listing", "vendor", "reviews")), page


def test_deterministic(world: World, svc: Service):
    again = build_world(SEED)
    other = again.service("bazaar")
    assert other == svc

    def bazaar_truth(w: World) -> str:
        t = ground_truth(w)
        keep = {k: [x for x in v if isinstance(x, dict) and x.get("site") == "bazaar"]
                for k, v in t.items() if k in ("listings", "vendors")}  # fmt: skip
        keep["pages"] = [p for p in t["pages"] if svc.onion in p]
        return json.dumps(keep, sort_keys=True)

    assert bazaar_truth(again) == bazaar_truth(world)
    assert render_site(again, other) == render_site(world, svc)


def test_module_layers():
    source = Path(K.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^(from|import) lab\.sites", source, re.M)  # world never imports sites
    assert "import random\n" in source and "random.random(" not in source
