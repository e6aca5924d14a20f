"""Tests of the mock forum (kind ``forum``): pages, crawl closure, identifiers, signatures.

The app is served in-process (aiohttp TestServer). Every page of the truth answers 200, a
crawl from ``/`` reaches exactly those pages, every declared identifier is on its page, no
valid identifier is shown where the truth does not list it (checked with bip-utils,
eth-utils and the onion checksum, never with ``onionlab.lab.world``'s encoders), decoys fail, and
every clearsigned block verifies with a real ``gpg --verify``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from onionlab.lab.sites.forum import PROTECTED_PREFIXES
from onionlab.lab.sites.forum.render import render_pages
from onionlab.lab.world.kinds import forum as F
from onionlab.lab.world.truth import truth_json
from tests.support.determinism import assert_rebuilds_identically
from tests.support.gpg import GnuPG, needs_gpg
from tests.support.html_extract import page_text, parse
from tests.support.identifiers import COINS, by_path, found_identifiers, normalised
from tests.support.site_app import Fetched, crawl, fetch_pages
from tests.support.validators import valid

SEED = 5


def readable(html: str) -> str:
    """The page as a careful reader sees it: entities decoded, obfuscations undone."""
    text = page_text(html)
    text = re.sub(r"\s*\[at\]\s*", "@", text)
    text = re.sub(r"\s*\[dot\]\s*", ".", text)
    text = re.sub(r"t\s*(?:\.|\[\.\])\s*me\s*/\s*", "t.me/", text)
    return re.sub(r"@ (?=[A-Za-z])", "@", text)


@pytest.fixture(scope="module")
def served(world) -> Fetched:
    """Every truth page of the forum fetched over HTTP, plus a 404 probe."""
    svc = world.service("forum")
    return fetch_pages(world, svc, [*(p.path for p in F.pages(svc)), "/nope", "/t/doesnotexist"])


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
    truth = {p.path for p in F.pages(world.service("forum"))}
    # links to other onions only, not followed
    assert (
        crawl(served, external=lambda href: href.startswith("http://") and ".onion/" in href)
        == truth
    )


def test_identifiers_are_exactly_the_declared_ones(world, served) -> None:
    svc = world.service("forum")
    declared = by_path(F.occurrences(svc))
    bad = by_path(F.decoys(svc))
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
        mine = declared.get(path, set())
        for kind, value in mine:
            compact = kind == "pgp_fingerprint" and value in text.replace(" ", "")
            assert value in text or compact, (path, value)
            if kind in (*COINS, "onion"):
                assert valid(kind, value), (kind, value)
        for kind, value in bad.get(path, set()):
            assert value in text and not valid(kind, value), (path, value)
        # a careful reader finds them all, and nothing else
        assert found_identifiers(text) == normalised(mine), path


def test_obfuscated_contacts_are_declared_as_plain_values(world, served) -> None:
    svc = world.service("forum")
    content = F.content_of(svc)
    raw = "".join(served[p.path][2] for p in F.pages(svc) if p.kind == "thread")
    assert " [at] " in raw and " [dot] " in raw and "t . me / " in raw
    scam = [t for t in content.threads if t.tag == "SCAM"]
    assert any("t . me / " in p for t in scam for post in t.posts for p in post.paragraphs)


@needs_gpg
def test_signed_posts_verify_with_gpg(world, served, tmp_path: Path) -> None:
    svc = world.service("forum")
    content = F.content_of(svc)
    gpg = GnuPG(tmp_path / "gnupg")
    gpg.import_keys("".join(u.pgp.armored for u in content.users if u.pgp is not None))
    expected = {(t.tid, p.number): p.signer for t in content.threads for p in t.posts if p.signed}
    assert len(expected) >= 10
    blocks: list[str] = []
    for page in F.pages(svc):
        if page.kind in ("thread", "pgp"):
            blocks += parse(served[page.path][2]).raw.get("pgp-signed", [])
    assert len(blocks) == len(expected) + 1  # every signed post, plus the /pgp notice
    signers = set()
    for block in blocks:
        done = gpg.verify(block)
        assert done.returncode == 0, done.stderr
        assert done.signer, done.stdout
        signers.add(done.signer)
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
    assert_rebuilds_identically(
        world, SEED, "forum", lambda w, s: render_pages(w, s)[0], lambda w, _: truth_json(w)
    )
