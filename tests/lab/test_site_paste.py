"""Tests of the paste site (kind ``paste``), including its PrivateBin-style encrypted paste.

The app is served in-process (aiohttp's TestServer). Every truth page answers (HTML, or
``text/plain`` for raw views), a crawl from ``/`` reaches exactly the truth pages, each
page shows the identifiers truth lists and no others (found with regexes and validated
independently: base58, bip-utils, eth-utils, hashlib), decoys fail validation, and the
encrypted paste is readable only with the key from the full link, which the crawler never
gets: its identifiers are not in the ground truth.
"""

from __future__ import annotations

import base64
import json
import re
from html import unescape

import pytest
from Crypto.Cipher import AES

from onionlab.lab.sites.paste.render import render_pages
from onionlab.lab.world import build_world
from onionlab.lab.world.kinds import paste as K
from onionlab.lab.world.model import Service, World
from tests.support.determinism import assert_rebuilds_identically
from tests.support.html_extract import parse
from tests.support.identifiers import appears, by_page, found_identifiers, normalised
from tests.support.site_app import Fetched, crawl, fetch_pages
from tests.support.validators import valid

SEED = 11
NAME = "paste"


@pytest.fixture(scope="module")
def served(world: World, svc: Service) -> Fetched:
    return fetch_pages(world, svc, [p.path for p in K.pages(svc)])


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
    expected = {p for p in truth["pages"] if p.startswith(svc.url)}
    assert {svc.url.rstrip("/") + path for path in served} == expected
    assert {svc.url.rstrip("/") + path for path in crawl(served, fragments=False)} == expected


def test_identifiers_appear_exactly_where_truth_says(svc, truth, served):
    listed = by_page(truth["identifiers"], svc.url)
    kinds = {kind for found in listed.values() for kind, _ in found}
    assert {"onion", "btc", "pgp_fingerprint", "email", "telegram"} <= kinds
    for path, (_, _, body) in served.items():
        expected = listed.get(path, set())
        for kind, value in expected:
            assert appears(kind, value, body), (path, kind, value)
        assert found_identifiers(body) == normalised(expected), path


def test_decoys_are_shown_and_fail_validation(svc, truth, served):
    decoys = by_page(truth["decoys"], svc.url)
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
    assert enc_path not in by_page(truth["identifiers"], svc.url)  # but none of its contents
    assert K.raw_path(content.encrypted_id) not in served


def test_no_listings_or_vendors_and_unknown_paths_404(world, svc, truth):
    assert not [x for x in truth["listings"] if x["site"] == "paste"]
    assert not [v for v in truth["vendors"] if v["site"] == "paste"]

    missing = ["/p/nope", "/raw/nope", "/archive/1", "/archive/999", "/x"]
    for status, _, html in fetch_pages(world, svc, missing).values():
        assert status == 404 and "Paste not found" in html


def test_deterministic_and_linear_in_scale(world, svc):
    assert_rebuilds_identically(world, SEED, "paste", render_pages, lambda _, s: K.occurrences(s))
    small = build_world(SEED, scale=0.5).service("paste")
    assert len(small.content.pastes) == 70
