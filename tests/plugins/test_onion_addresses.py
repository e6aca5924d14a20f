"""The built-in ``onion_addresses`` extractor: v3 addresses checked as a Tor client would.

Sample addresses are built here from ed25519 keys by the formula of rend-spec-v3 §6; the
lab is scored occurrence by occurrence against its ground truth.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from nacl.bindings import crypto_core_ed25519_add
from nacl.signing import SigningKey
from scrapy.http import HtmlResponse, TextResponse

from onionlab.crawler.items import Entity
from onionlab.plugins import onion_addresses
from tests.support.entity_scores import score_entities

# A point of order 8 on ed25519: adding it to a key gives a key with a torsion component.
ORDER_8_POINT = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
SMALL_ORDER_IDENTITY = bytes([1]) + bytes(31)


def onion(pubkey: bytes, version: int = 3, checksum: bytes | None = None) -> str:
    """``base32(PUBKEY ‖ CHECKSUM ‖ VERSION)`` in lower case, checksum computed unless given."""
    digest = hashlib.sha3_256(b".onion checksum" + pubkey + bytes([version])).digest()
    raw = pubkey + (checksum if checksum is not None else digest[:2]) + bytes([version])
    return base64.b32encode(raw).decode().lower()


def key(label: str) -> bytes:
    return bytes(SigningKey(hashlib.sha256(label.encode()).digest()).verify_key)


SITE = onion(key("this site"))
OTHER = onion(key("another site"))
URL = f"http://{SITE}.onion/links"


def page(body: str, *, plain: bool = False) -> TextResponse:
    if plain:
        headers = {"Content-Type": "text/plain"}
        return TextResponse(URL, body=body.encode(), encoding="utf-8", headers=headers)
    html = f"<html><head><title>t</title></head><body>{body}</body></html>"
    return HtmlResponse(URL, body=html.encode(), encoding="utf-8")


def found(response: TextResponse) -> dict[str, Entity]:
    return {e.value: e for e in onion_addresses.onionlab_extract(response) or []}


@pytest.mark.parametrize(
    "shown",
    [
        f"http://{OTHER}.onion/",
        f"Mirror: {OTHER}.onion",
        f"http://forum.{OTHER}.onion/d/markets",
        f"Jabber: ops@{OTHER}.onion",
        f"ONION: {OTHER}",
        f"http://{OTHER.upper()}.ONION/",
    ],
)
def test_finds_an_address_however_it_is_written(shown: str) -> None:
    (entity,) = found(page(f"<p>{shown}</p>")).values()
    assert (entity.type, entity.value) == ("onion", OTHER)
    assert (entity.url, entity.site) == (URL, f"{SITE}.onion")
    assert shown.split()[-1] in entity.context


def test_reads_plain_text_mirror_lists() -> None:
    mirrors = f"# official mirrors\nhttp://{SITE}.onion\nhttp://{OTHER}.onion\n"
    assert set(found(page(mirrors, plain=True))) == {SITE, OTHER}


def test_a_linked_address_counts_but_not_a_link_to_the_page_itself() -> None:
    body = (
        f'<a href="http://{OTHER}.onion/market">a market</a>'
        f'<a href="http://{SITE}.onion/about">about us</a><a href="/faq">faq</a>'
    )
    entities = found(page(body))
    assert set(entities) == {OTHER}
    assert entities[OTHER].extra == {"source": "link"}


def test_the_site_shows_its_own_address() -> None:
    assert set(found(page(f"<p>Our address: {SITE}.onion</p>"))) == {SITE}


def test_reports_each_address_once_per_page() -> None:
    body = f'<p>{OTHER}.onion</p><a href="http://{OTHER}.onion/">{OTHER}.onion</a>'
    assert [e.value for e in onion_addresses.onionlab_extract(page(body)) or []] == [OTHER]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(OTHER[:20] + ("a" if OTHER[20] != "a" else "b") + OTHER[21:], id="typo"),
        pytest.param(onion(key("x"), checksum=b"\x00\x00"), id="wrong-checksum"),
        pytest.param(onion(key("x"), version=4), id="version-4"),
        pytest.param(onion(SMALL_ORDER_IDENTITY), id="small-order-key"),
        pytest.param(onion(crypto_core_ed25519_add(key("x"), ORDER_8_POINT)), id="torsion"),
        pytest.param(OTHER[:-1], id="55-chars"),
    ],
)
def test_rejects_an_invalid_address(bad: str) -> None:
    assert found(page(f'<p>{bad}.onion</p><a href="http://{bad}.onion/">x</a>')) == {}


def test_rebuilds_an_address_split_across_lines() -> None:
    entities = found(page(f"<code>{OTHER[:30]}<br>{OTHER[30:]}.onion</code>"))
    assert set(entities) == {OTHER}
    assert entities[OTHER].extra["obfuscation"] == "line-break"


def test_ignores_mixed_case_and_longer_base32_runs() -> None:
    mixed = OTHER[:28] + OTHER[28:].upper()
    assert found(page(f"<p>{mixed}.onion {OTHER}x.onion a{OTHER}.onion</p>")) == {}


@pytest.mark.parametrize("seed", [1, 2])
def test_scores_on_the_lab(seed: int) -> None:
    score = score_entities(seed, [onion_addresses], ["onion"])["onion"]
    assert score.expected and score.decoys, "the lab shows onion addresses and decoys"
    assert score.precision >= 0.995 and score.recall >= 0.995, score.summary()
    assert not score.decoys_accepted, score.summary()
