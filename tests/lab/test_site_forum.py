"""Tests of the mock forum (kind ``forum``): pages, crawl closure, identifiers, signatures.

The app is served in-process (aiohttp TestServer). Every page of the truth answers 200, a
crawl from ``/`` reaches exactly those pages, every declared identifier is on its page, no
valid identifier is shown where the truth does not list it (checked with bip-utils,
eth-utils and the onion checksum, never with ``lab.world``'s encoders), decoys fail, and
every clearsigned block verifies with a real ``gpg --verify``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from aiohttp.test_utils import TestClient, TestServer
from bip_utils import (
    CoinsConf,
    EthAddrDecoder,
    P2PKHAddrDecoder,
    P2SHAddrDecoder,
    P2TRAddrDecoder,
    P2WPKHAddrDecoder,
    TrxAddrDecoder,
    XmrAddrDecoder,
)
from eth_utils import is_checksum_address

from lab.sites.forum import PROTECTED_PREFIXES, make_app
from lab.sites.forum.render import render_pages
from lab.world import build_world
from lab.world.kinds import forum as F
from lab.world.model import World
from lab.world.truth import truth_json

SEED = 5
BTC, LTC = CoinsConf.BitcoinMainNet, CoinsConf.LitecoinMainNet


# --- independent validators ------------------------------------------------------------------


def _ok(decode: Callable[[str], object], value: str) -> bool:
    try:
        decode(value)
    except (ValueError, TypeError):
        return False
    return True


def onion_ok(label: str) -> bool:
    raw = base64.b32decode(label.upper())
    pub, checksum, version = raw[:32], raw[32:34], raw[34:]
    good = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]
    return version == b"\x03" and checksum == good


def coin_ok(kind: str, value: str) -> bool:
    """Valid on any address form of chain ``kind`` (bip-utils / eth-utils decoders)."""
    if kind in ("btc", "ltc"):
        conf = BTC if kind == "btc" else LTC
        std = "_std" if kind == "ltc" else ""
        hrp = conf.ParamByKey("p2wpkh_hrp")
        decoders = [
            lambda a: P2PKHAddrDecoder.DecodeAddr(
                a, net_ver=conf.ParamByKey(f"p2pkh{std}_net_ver")
            ),
            lambda a: P2SHAddrDecoder.DecodeAddr(a, net_ver=conf.ParamByKey(f"p2sh{std}_net_ver")),
            lambda a: P2WPKHAddrDecoder.DecodeAddr(a, hrp=hrp, wit_ver=0),
        ]
        if kind == "btc":
            decoders.append(lambda a: P2TRAddrDecoder.DecodeAddr(a, hrp="bc"))
        return any(_ok(d, value) for d in decoders)
    if kind == "xmr":
        return any(
            _ok(lambda a, v=v: XmrAddrDecoder.DecodeAddr(a, net_ver=v), value)
            for v in (b"\x12", b"\x2a")
        )
    if kind == "eth":
        return is_checksum_address(value) and _ok(EthAddrDecoder.DecodeAddr, value)
    if kind == "trx":
        return _ok(TrxAddrDecoder.DecodeAddr, value)
    if kind == "onion":
        return onion_ok(value)
    raise AssertionError(kind)


B58 = "[1-9A-HJ-NP-Za-km-z]"
BECH = "[02-9ac-hj-np-z]"
CANDIDATES: dict[str, re.Pattern[str]] = {
    "btc": re.compile(rf"(?<![\w/+])(?:[13]{B58}{{25,33}}|bc1{BECH}{{11,71}})(?![\w/+])"),
    "ltc": re.compile(rf"(?<![\w/+])(?:[LM]{B58}{{33}}|ltc1{BECH}{{11,71}})(?![\w/+])"),
    "xmr": re.compile(rf"(?<![\w/+])[48]{B58}{{94}}(?![\w/+])"),
    "eth": re.compile(r"(?<!\w)0x[0-9a-fA-F]{40}(?!\w)"),
    "trx": re.compile(rf"(?<![\w/+])T{B58}{{33}}(?![\w/+])"),
    "onion": re.compile(r"(?<![a-z2-7])[a-z2-7]{56}(?=\.onion)"),
}
FPR = re.compile(r"(?<![0-9A-Fa-f])((?:[0-9A-F]{4} {0,2}){9}[0-9A-F]{4})(?![0-9A-Fa-f])")
EMAIL = re.compile(r"[a-z0-9._-]+@[a-z0-9.-]+\.(?:example|test|invalid|onion)")
TELEGRAM = re.compile(
    r"(?:t\.me/|(?:telegram|телега|тг):\s*@)([A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9])", re.I
)
SESSION = re.compile(r"(?<![0-9a-f])05[0-9a-f]{64}(?![0-9a-f])")


def readable(html: str) -> str:
    """The page as a careful reader sees it: entities decoded, obfuscations undone."""
    text = unescape(re.sub(r"<[^>]*>", " ", html))
    text = re.sub(r"\s*\[at\]\s*", "@", text)
    text = re.sub(r"\s*\[dot\]\s*", ".", text)
    text = re.sub(r"t\s*(?:\.|\[\.\])\s*me\s*/\s*", "t.me/", text)
    return re.sub(r"@ (?=[A-Za-z])", "@", text)


def scan(html: str) -> set[tuple[str, str]]:
    """Every valid identifier on a page, found and validated independently of the lab."""
    text = readable(html)
    found = {(k, m.group(0)) for k, rx in CANDIDATES.items() for m in rx.finditer(text)}
    found = {(k, v) for k, v in found if coin_ok(k, v)}
    found |= {("pgp_fingerprint", m.group(1).replace(" ", "")) for m in FPR.finditer(text)}
    found |= {("email|jabber", m.group(0)) for m in EMAIL.finditer(text)}
    found |= {("telegram", m.group(1)) for m in TELEGRAM.finditer(text)}
    found |= {("session", m.group(0)) for m in SESSION.finditer(text)}
    return found


# --- fixtures --------------------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.signed: list[str] = []
        self._pre: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "pre" and a.get("class") == "pgp-signed":
            self._pre = []

    def handle_data(self, data):
        if self._pre is not None:
            self._pre.append(data)

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre is not None:
            self.signed.append("".join(self._pre))
            self._pre = None


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def served(world) -> dict[str, tuple[int, str, str]]:
    """Every truth page of the forum fetched over HTTP, plus a crawl and a 404 probe."""
    svc = world.service("forum")
    paths = [p.path for p in F.pages(svc)]

    async def go() -> dict[str, tuple[int, str, str]]:
        async with TestClient(TestServer(make_app(world, svc))) as client:
            out: dict[str, tuple[int, str, str]] = {}
            for path in [*paths, "/nope", "/t/doesnotexist"]:
                r = await client.get(path)
                out[path] = (r.status, r.headers["Content-Type"], await r.text())
            return out

    return asyncio.run(go())


# --- tests -----------------------------------------------------------------------------------


def test_every_page_answers_and_404_is_branded(world, served) -> None:
    svc = world.service("forum")
    for path in (p.path for p in F.pages(svc)):
        status, ctype, body = served[path]
        assert status == 200, path
        assert ctype == "text/html; charset=utf-8"
        assert "<script" not in body.lower()
    status, _, body = served["/nope"]
    assert status == 404 and svc.title in body
    assert PROTECTED_PREFIXES == ("/u/",)


def test_page_counts_and_structure(world) -> None:
    svc = world.service("forum")
    pages = F.pages(svc)
    kinds = {p.kind for p in pages}
    assert kinds == {"home", "pgp", "sections", "board", "thread", "user"}
    assert 350 <= len(pages) <= 650
    assert len({p.path for p in pages}) == len(pages)
    content = F.content_of(svc)
    tags = {t.tag for t in content.threads}
    assert {"REVIEW", "SCAM", "OFFICIAL", "PSA"} <= tags
    assert any(b.slug.startswith("ru/") for b in content.boards)


def test_crawl_from_home_reaches_exactly_the_truth_pages(world, served) -> None:
    svc = world.service("forum")
    truth = {p.path for p in F.pages(svc)}
    seen, todo = {"/"}, ["/"]
    while todo:
        path = todo.pop()
        status, _, body = served[path]
        assert status == 200, path
        parser = Links()
        parser.feed(body)
        for href in parser.links:
            href = urldefrag(href)[0]
            if href.startswith("http://"):
                assert ".onion/" in href  # links to other onions only
                continue
            assert href.startswith("/"), href
            if href not in seen:
                seen.add(href)
                todo.append(href)
    assert seen == truth


def test_identifiers_are_exactly_the_declared_ones(world, served) -> None:
    svc = world.service("forum")
    declared: dict[str, set[tuple[str, str]]] = {}
    for occ in F.occurrences(svc):
        declared.setdefault(occ.path, set()).add((occ.type, occ.value))
    bad: dict[str, set[tuple[str, str]]] = {}
    for occ in F.decoys(svc):
        bad.setdefault(occ.path, set()).add((occ.type, occ.value))
    assert {t for items in declared.values() for t, _ in items} >= {
        "onion",
        "btc",
        "ltc",
        "xmr",
        "pgp_fingerprint",
        "email",
        "telegram",
        "jabber",
        "session",
    }
    for path in (p.path for p in F.pages(svc)):
        text = readable(served[path][2])
        compact = text.replace(" ", "")
        mine = declared.get(path, set())
        for kind, value in mine:
            assert value in text or (kind == "pgp_fingerprint" and value in compact), (path, value)
            if kind in CANDIDATES:
                assert coin_ok(kind, value), (kind, value)
        for kind, value in bad.get(path, set()):
            assert value in text and not coin_ok(kind, value), (path, value)
        seen = scan(served[path][2])
        merged = {("email|jabber" if k in ("email", "jabber") else k, v) for k, v in mine}
        assert merged <= seen, (path, merged - seen)  # a careful reader finds them all
        for kind, value in seen:
            if kind == "email|jabber":
                assert ("email", value) in mine or ("jabber", value) in mine, (path, value)
            else:
                assert (kind, value) in mine, (path, kind, value)


def test_obfuscated_contacts_are_declared_as_plain_values(world, served) -> None:
    svc = world.service("forum")
    content = F.content_of(svc)
    raw = "".join(served[p.path][2] for p in F.pages(svc) if p.kind == "thread")
    assert " [at] " in raw and " [dot] " in raw and "t . me / " in raw
    scam = [t for t in content.threads if t.tag == "SCAM"]
    assert any("t . me / " in p for t in scam for post in t.posts for p in post.paragraphs)


@pytest.mark.skipif(shutil.which("gpg") is None, reason="needs GnuPG")
def test_signed_posts_verify_with_gpg(world, served, tmp_path: Path) -> None:
    svc = world.service("forum")
    content = F.content_of(svc)
    keys = {u.pgp.fingerprint: u.pgp.armored for u in content.users if u.pgp is not None}
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    keyfile = tmp_path / "keys.asc"
    keyfile.write_text("".join(keys.values()))
    subprocess.run(
        ["gpg", "--batch", "--import", str(keyfile)], env=env, check=True, capture_output=True
    )
    expected = {(t.tid, p.number): p.signer for t in content.threads for p in t.posts if p.signed}
    assert len(expected) >= 10
    blocks: list[str] = []
    for page in F.pages(svc):
        if page.kind in ("thread", "pgp"):
            parser = Links()
            parser.feed(served[page.path][2])
            blocks += parser.signed
    assert len(blocks) == len(expected) + 1  # every signed post, plus the /pgp notice
    signers = set()
    for k, block in enumerate(blocks):
        msg = tmp_path / f"m{k}.asc"
        msg.write_text(block)
        r = subprocess.run(
            ["gpg", "--batch", "--status-fd", "1", "--verify", str(msg)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        valid = re.search(r"^\[GNUPG:\] VALIDSIG ([0-9A-F]{40})", r.stdout, re.M)
        assert valid, r.stdout
        signers.add(valid.group(1))
    assert signers == set(expected.values()) | {content.admin_key.fingerprint}
    vendors = {u.pgp.fingerprint for u in content.users if u.role == "vendor" and u.pgp}
    assert vendors <= signers


def test_truth_vendors_link_to_market_identities(world) -> None:
    svc = world.service("forum")
    vendors = F.truth_vendors(svc)
    assert len(vendors) >= 5
    market_ids = {v.identity for s in world.services if s.kind in F.MARKET_KINDS for v in s.vendors}
    assert sum(v["identity"] in market_ids for v in vendors) >= len(vendors) // 2
    for v in vendors:
        assert v["url"] == f"http://{svc.onion}/u/{v['handle']}"
        assert re.fullmatch(r"[0-9A-F]{40}", v["pgp_fingerprint"])


def test_scam_reports_name_the_clone_and_the_dead_market(world) -> None:
    svc = world.service("forum")
    content = F.content_of(svc)
    clone = world.service("market-clone")
    text = " ".join(
        p
        for t in content.threads
        if t.tag in ("SCAM", "PSA")
        for post in t.posts
        for p in (*post.paragraphs, post.signed)
    )
    assert clone.onion in text
    assert content.dead_markets and content.dead_markets[0].onion in text
    onions = {o.value for o in F.occurrences(svc) if o.type == "onion"}
    assert clone.onion.removesuffix(".onion") in onions


def test_deterministic(world) -> None:
    again = build_world(SEED)
    one, _ = render_pages(world, world.service("forum"))
    two, _ = render_pages(again, again.service("forum"))
    assert one == two
    assert truth_json(world) == truth_json(again)
