"""Tests of the mock link directory (kind ``directory``): pages, crawl closure, onions.

The app is served in-process (aiohttp TestServer). Every truth page answers 200, a crawl
from ``/`` reaches exactly those pages, every other lab service is listed, every onion shown
is declared on its page (checked with an independent onion-checksum validator), broken links
fail the checksum, and the phishing clone is an unverified entry flagged on ``/warnings``.
"""

from __future__ import annotations

import re

import pytest

from onionlab.lab.sites.directory import PROTECTED_PREFIXES
from onionlab.lab.sites.directory.render import render_pages
from onionlab.lab.world.kinds import directory as D
from tests.support.determinism import assert_rebuilds_identically
from tests.support.html_extract import page_text
from tests.support.identifiers import by_path, found_identifiers
from tests.support.site_app import Fetched, crawl, fetch_pages
from tests.support.validators import onion_ok

SEED = 7
ONION = re.compile(r"(?<![a-z2-7])[a-z2-7]{56}(?=\.onion)")


@pytest.fixture(scope="module")
def served(world) -> Fetched:
    svc = world.service("directory")
    return fetch_pages(world, svc, [*(p.path for p in D.pages(svc)), "/nope"])


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

    def onion_home(href: str) -> bool:  # absolute links go to other onions' home pages only
        return re.fullmatch(r"http://[a-z2-7]{56}\.onion/", href) is not None

    assert crawl(served, external=onion_home) == truth


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
    declared = by_path(D.occurrences(svc))
    broken: dict[str, set[str]] = {}
    for occ in D.decoys(svc):
        assert occ.type == "onion"
        broken.setdefault(occ.path, set()).add(occ.value)
    assert sum(len(v) for v in broken.values()) >= 2
    for page in D.pages(svc):
        text = page_text(served[page.path][2])
        assert found_identifiers(text) == declared.get(page.path, set()), page.path
        bad = {m.group(0) for m in ONION.finditer(text) if not onion_ok(m.group(0))}
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


def test_truth_and_html_are_deterministic(world, truth) -> None:
    assert_rebuilds_identically(world, SEED, "directory", render_pages)
    base = f"http://{world.service('directory').onion}/"
    assert base in truth["pages"]
    assert any(
        i["type"] == "onion" and any(p.startswith(base) for p in i["pages"])
        for i in truth["identifiers"]
    )
