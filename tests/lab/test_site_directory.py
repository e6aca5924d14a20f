"""Tests of the mock link directory (kind ``directory``): pages, crawl closure, onions.

The app is served in-process (aiohttp TestServer). Every truth page answers 200, a crawl
from ``/`` reaches exactly those pages, every other lab service is listed, every onion shown
is declared on its page (checked with an independent onion-checksum validator), broken links
fail the checksum, and the phishing clone is an unverified entry flagged on ``/warnings``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urldefrag

import pytest
from aiohttp.test_utils import TestClient, TestServer

from lab.sites.directory import PROTECTED_PREFIXES, make_app
from lab.sites.directory.render import render_pages
from lab.world import build_world
from lab.world.kinds import directory as D
from lab.world.model import World
from lab.world.truth import ground_truth

SEED = 7
ONION = re.compile(r"(?<![a-z2-7])[a-z2-7]{56}(?=\.onion)")
FPR = re.compile(r"(?<![0-9A-Fa-f])((?:[0-9A-F]{4} {0,2}){9}[0-9A-F]{4})(?![0-9A-Fa-f])")


def onion_ok(label: str) -> bool:
    raw = base64.b32decode(label.upper())
    pub, checksum, version = raw[:32], raw[32:34], raw[34:]
    good = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]
    return version == b"\x03" and checksum == good


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def served(world) -> dict[str, tuple[int, str, str]]:
    svc = world.service("directory")

    async def go() -> dict[str, tuple[int, str, str]]:
        async with TestClient(TestServer(make_app(world, svc))) as client:
            out = {}
            for path in [*(p.path for p in D.pages(svc)), "/nope"]:
                r = await client.get(path)
                out[path] = (r.status, r.headers["Content-Type"], await r.text())
            return out

    return asyncio.run(go())


def test_pages_answer_and_404_is_branded(world, served) -> None:
    svc = world.service("directory")
    pages = D.pages(svc)
    assert 15 <= len(pages) <= 45
    for page in pages:
        status, ctype, body = served[page.path]
        assert status == 200 and ctype == "text/html; charset=utf-8", page.path
        assert "<script" not in body.lower()
    assert served["/nope"][0] == 404 and svc.title in served["/nope"][2]
    assert PROTECTED_PREFIXES == ()


def test_crawl_from_home_reaches_exactly_the_truth_pages(world, served) -> None:
    truth = {p.path for p in D.pages(world.service("directory"))}
    seen, todo = {"/"}, ["/"]
    while todo:
        parser = Links()
        parser.feed(served[todo.pop()][2])
        for href in parser.links:
            href = urldefrag(href)[0]
            if href.startswith("http://"):
                assert re.fullmatch(r"http://[a-z2-7]{56}\.onion/", href), href
                continue
            assert href.startswith("/"), href
            if href not in seen:
                seen.add(href)
                todo.append(href)
    assert seen == truth


def test_every_other_service_is_listed_with_all_its_addresses(world, served) -> None:
    svc = world.service("directory")
    home = served["/"][2]
    for other in world.services:
        if other.name == svc.name:
            continue
        for onion in (other.onion, *other.mirrors):
            assert f"http://{onion}/" in home, other.name
    content = D.content_of(svc)
    listed = {e.service for e in content.entries if e.service}
    assert listed == {s.name for s in world.services if s.name != svc.name}


def test_onions_shown_are_exactly_the_declared_ones(world, served) -> None:
    svc = world.service("directory")
    declared: dict[str, set[tuple[str, str]]] = {}
    for occ in D.occurrences(svc):
        declared.setdefault(occ.path, set()).add((occ.type, occ.value))
    broken: dict[str, set[str]] = {}
    for occ in D.decoys(svc):
        assert occ.type == "onion"
        broken.setdefault(occ.path, set()).add(occ.value)
    assert sum(len(v) for v in broken.values()) >= 2
    for page in D.pages(svc):
        text = unescape(re.sub(r"<[^>]*>", " ", served[page.path][2]))
        found = {m.group(0) for m in ONION.finditer(text)}
        valid = {("onion", v) for v in found if onion_ok(v)}
        valid |= {("pgp_fingerprint", m.group(1).replace(" ", "")) for m in FPR.finditer(text)}
        assert valid == declared.get(page.path, set()), page.path
        bad = {v for v in found if not onion_ok(v)}
        assert bad == broken.get(page.path, set()), page.path


def test_phishing_clone_is_a_trap_flagged_on_warnings(world, served) -> None:
    svc = world.service("directory")
    clone = next(s for s in world.services if s.clone_of)
    original = world.service(clone.clone_of)
    content = D.content_of(svc)
    entry = next(e for e in content.entries if e.service == clone.name)
    assert not entry.verified and entry.submitted and original.title in entry.name
    assert entry.category == next(e for e in content.entries if e.service == original.name).category
    warnings = served[D.WARNINGS_PATH][2]
    assert clone.onion in warnings and original.onion in warnings
    real = [e for e in content.entries if e.service and e.service != clone.name]
    assert all(e.verified and e.status == "up" for e in real)


def test_forum_exit_scam_market_is_listed_down(world) -> None:
    forum = world.service("forum")
    content = D.content_of(world.service("directory"))
    for dead in forum.content.dead_markets:
        entry = next(e for e in content.entries if e.addresses[0].onion == dead.onion)
        assert entry.status == "down" and entry.category == "defunct"
        assert any(a.onion == dead.onion and a.kind == "exit-scam" for a in content.alerts)


def test_truth_and_html_are_deterministic(world) -> None:
    again = build_world(SEED)
    assert render_pages(world, world.service("directory")) == render_pages(
        again, again.service("directory")
    )
    truth = ground_truth(world)
    base = f"http://{world.service('directory').onion}/"
    assert base in truth["pages"]
    assert any(
        i["type"] == "onion" and any(p.startswith(base) for p in i["pages"])
        for i in truth["identifiers"]
    )
