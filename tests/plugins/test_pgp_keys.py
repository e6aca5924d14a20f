"""The built-in ``pgp_keys`` plugin: scored against the lab's truth, checked against PGPy.

Lab pages are rendered in-process (``tests.support.site_pages``), no Tor and no crawl. Keys
that the lab does not make (RSA, several user ids, subkeys, v6) come from PGPy and from the
sample certificate of RFC 9580, so the parser is checked against independent references.
"""

from __future__ import annotations

import base64
import random
import struct
import warnings
from datetime import UTC, datetime

import pytest
from scrapy.http import HtmlResponse, TextResponse

from onionlab.crawler.items import Entity
from onionlab.lab.world.model import PgpKey
from onionlab.lab.world.pgp import armor, clearsign, make_key
from onionlab.plugins import pgp_keys
from tests.support.entity_scores import score_entities
from tests.support.site_pages import fetch_site, host, world_and_truth

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # PGPy imports imghdr
    import pgpy
    from pgpy.constants import HashAlgorithm, KeyFlags, PubKeyAlgorithm

URL = "http://" + "a" * 55 + "d.onion/pgp.txt"

# RFC 9580, appendix A.3: the sample v6 certificate (Ed25519 primary key, X25519 subkey).
RFC9580_V6_CERTIFICATE = """-----BEGIN PGP PUBLIC KEY BLOCK-----

xioGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laPCsQYf
GwoAAABCBYJjh3/jAwsJBwUVCg4IDAIWAAKbAwIeCSIhBssYbE8GCaaX5NUt+mxy
KwwfHifBilZwj2Ul7Ce62azJBScJAgcCAAAAAK0oIBA+LX0ifsDm185Ecds2v8lw
gyU2kCcUmKfvBXbAf6rhRYWzuQOwEn7E/aLwIwRaLsdry0+VcallHhSu4RN6HWaE
QsiPlR4zxP/TP7mhfVEe7XWPxtnMUMtf15OyA51YBM4qBmOHf+MZAAAAIIaTJINn
+eUBXbki+PSAld2nhJh/LVmFsS+60WyvXkQ1wpsGGBsKAAAALAWCY4d/4wKbDCIh
BssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce62azJAAAAAAQBIKbpGG2dWTX8
j+VjFM21J0hqWlEg+bdiojWnKfA5AQpWUWtnNwDEM0g12vYxoWM8Y81W+bHBw805
I8kWVkXU6vFOi+HWvv/ira7ofJu16NnoUkhclkUrk0mXubZvyl4GBg==
-----END PGP PUBLIC KEY BLOCK-----
"""


def text_page(body: str, url: str = URL) -> TextResponse:
    return TextResponse(url, body=body.encode(), encoding="utf-8",
                        headers={"Content-Type": "text/plain"})  # fmt: skip


def html_page(body: str, url: str = URL) -> HtmlResponse:
    html = f"<!DOCTYPE html><html><body>{body}</body></html>"
    return HtmlResponse(url, body=html.encode(), encoding="utf-8",
                        headers={"Content-Type": "text/html; charset=utf-8"})  # fmt: skip


def fingerprints(response: TextResponse) -> list[str]:
    entities = list(pgp_keys.onionlab_extract(response) or ())
    assert all(isinstance(e, Entity) and e.type == "pgp_fingerprint" for e in entities)
    return [e.value for e in entities]


def lab_key(uid: str = "Vendor <vendor@mail.example>") -> tuple[bytes, PgpKey, str]:
    secret = bytes(range(32))
    key = make_key(secret, uid, created=1_600_000_000)
    return secret, key, key.armored


@pytest.mark.parametrize("seed", [1, 2])
def test_finds_every_fingerprint_the_lab_shows(seed: int) -> None:
    score = score_entities(seed, [pgp_keys], ["pgp_fingerprint"])["pgp_fingerprint"]
    assert len(score.expected) > 400
    assert score.precision >= 0.995 and score.recall >= 0.995, score.summary()


def test_reads_the_armored_keys_of_vendor_profiles() -> None:
    world, truth = world_and_truth(1)
    people = {person.pgp.fingerprint: person.pgp for person in world.identities}
    vendor = next(v for v in truth["vendors"] if v["site"] == "market")
    page = fetch_site(1, "market")[vendor["url"]]
    [entity] = pgp_keys.onionlab_extract(page) or ()
    key = people[vendor["pgp_fingerprint"]]
    assert (entity.value, entity.url, entity.site) == (key.fingerprint, page.url, host(1, "market"))
    assert entity.extra["key_id"] == key.key_id == key.fingerprint[-16:]
    assert entity.extra["created"] == datetime.fromtimestamp(key.created, UTC).isoformat()
    assert entity.extra["uids"] == [key.uid]
    assert (entity.extra["algorithm"], entity.extra["curve"]) == ("EdDSA", "Ed25519")


def test_agrees_with_pgpy_on_an_rsa_key_with_subkey_and_two_user_ids() -> None:
    created = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 1024, created=created)
    for name in ("Alpha", "Beta"):
        uid = pgpy.PGPUID.new(name, email=f"{name.lower()}@Mail.example")
        key.add_uid(uid, usage={KeyFlags.Sign}, hashes=[HashAlgorithm.SHA256])
    key.add_subkey(
        pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 1024),
        usage={KeyFlags.EncryptCommunications},
    )
    [entity] = pgp_keys.onionlab_extract(text_page(str(key.pubkey))) or ()
    assert entity.value == key.fingerprint.replace(" ", "")
    assert entity.extra["key_id"] == key.fingerprint.keyid
    assert entity.extra["created"] == created.isoformat()
    assert entity.extra["algorithm"] == "RSA"
    assert sorted(entity.extra["uids"]) == [
        "Alpha <alpha@Mail.example>",
        "Beta <beta@Mail.example>",
    ]
    assert sorted(entity.extra["emails"]) == ["alpha@mail.example", "beta@mail.example"]
    [subkey] = key.subkeys.values()
    assert [fp[-16:] for fp in entity.extra["subkeys"]] == [subkey.fingerprint.keyid]


def test_reads_the_v6_sample_certificate_of_rfc_9580() -> None:
    [entity] = pgp_keys.onionlab_extract(text_page(RFC9580_V6_CERTIFICATE)) or ()
    assert entity.value == "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9"
    assert entity.extra["key_id"] == "CB186C4F0609A697"  # v6: the high 64 bits
    assert entity.extra["version"] == 6
    assert entity.extra["algorithm"] == "Ed25519"
    assert entity.extra["created"] == "2022-11-30T16:08:03+00:00"
    assert entity.extra["subkeys"] == [
        "12C83F1E706F6308FE151A417743A1F033790E93E9978488D1DB378DA9930885"
    ]


def _old_format(data: bytes, length_type: int) -> bytes:
    """The same packets with old-format headers (RFC 9580 §4.2.2) of the given length type."""
    size = (1, 2, 4)[length_type]
    return b"".join(
        bytes([0x80 | tag << 2 | length_type]) + len(body).to_bytes(size, "big") + body
        for tag, body in pgp_keys.packets(data)
    )


@pytest.mark.parametrize("length_type", [0, 1, 2])
def test_reads_old_format_packet_headers(length_type: int) -> None:
    _, key, armored = lab_key()
    data = pgp_keys.dearmor(armored.split("-----")[2])
    page = text_page(armor(_old_format(data, length_type)))
    [entity] = pgp_keys.onionlab_extract(page) or ()
    assert entity.value == key.fingerprint
    assert entity.extra["uids"] == [key.uid]


def test_armor_headers_and_crc_are_optional() -> None:
    _, key, armored = lab_key()
    lines = armored.splitlines()
    with_headers = [lines[0], "Version: Keybase OpenPGP v2.1.0", "Comment: https://x", *lines[1:]]
    without_crc = [line for line in lines if not (line.startswith("=") and len(line) == 5)]
    without_blank = [line for line in without_crc if line]
    for variant in (with_headers, without_crc, without_blank):
        assert fingerprints(text_page("\n".join(variant))) == [key.fingerprint]


def test_a_wrong_crc_rejects_the_block() -> None:
    _, _, armored = lab_key()
    lines = armored.splitlines()
    crc = next(i for i, line in enumerate(lines) if line.startswith("=") and len(line) == 5)
    wrong = base64.b64encode(struct.pack(">I", 0x123456)[1:]).decode()
    lines[crc] = "=" + wrong
    assert pgp_keys.onionlab_extract(text_page("\n".join(lines))) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda lines: [lines[0], *lines[2:4], lines[-2], lines[-1]],  # truncated packets
        lambda lines: [line.replace("A", "*") for line in lines],  # not base64
        lambda lines: [lines[0], "", "=AAAA", lines[-1]],  # empty
        lambda lines: [lines[0], "", "SGVsbG8sIHdvcmxkIQ==", lines[-1]],  # not packets
        lambda lines: [lines[0], "", "mQ==", lines[-1]],  # a header without a length
    ],
)
def test_malformed_armor_yields_nothing_and_never_raises(damage) -> None:
    _, _, armored = lab_key()
    lines = [line for line in armored.splitlines() if not line.startswith("=")]
    assert pgp_keys.onionlab_extract(text_page("\n".join(damage(lines)))) is None


def test_damaged_packets_never_raise() -> None:
    _, _, armored = lab_key()
    data = pgp_keys.dearmor(armored.split("-----")[2])
    rng = random.Random(5)
    for _ in range(500):
        damaged = bytearray(data[: rng.randrange(1, len(data) + 1)])
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        list(pgp_keys.onionlab_extract(text_page(armor(bytes(damaged)))) or ())


def test_signatures_and_clearsigned_messages_are_not_keys() -> None:
    secret, key, _ = lab_key()
    signed = clearsign(secret, key, "Mirrors:\nhttp://example.onion/\n", created=1_700_000_000)
    assert "BEGIN PGP SIGNATURE" in signed
    assert pgp_keys.onionlab_extract(text_page(signed)) is None


def test_finds_a_key_inside_html_with_line_breaks_and_entities() -> None:
    _, key, armored = lab_key()
    begin, *rest = armored.splitlines()
    body = "<br>".join([begin, "Comment: Shop &amp; Co &lt;shop@mail.example&gt;", *rest])
    page = html_page(f'<h2>Our key</h2><pre class="pgp">{body}</pre>')
    [entity] = pgp_keys.onionlab_extract(page) or ()
    assert entity.value == key.fingerprint
    assert "Our key" in entity.context


def test_a_keyring_yields_every_primary_key() -> None:
    first = make_key(bytes(32), "One <one@mail.example>", created=1_500_000_000)
    second = make_key(bytes(range(1, 33)), "Two <two@mail.example>", created=1_500_000_001)
    data = b"".join(pgp_keys.dearmor(key.armored.split("-----")[2]) for key in (first, second))
    assert fingerprints(text_page(armor(data))) == [first.fingerprint, second.fingerprint]


def test_user_id_addresses_are_details_not_email_entities() -> None:
    *_, armored = lab_key("Vendor <Vendor@Mail.example>")
    [entity] = pgp_keys.onionlab_extract(text_page(armored)) or ()
    assert entity.extra["emails"] == ["vendor@mail.example"]


@pytest.mark.parametrize(
    ("shown", "found"),
    [
        ("Fingerprint: 9185 05BF 2CE9 49B7 7BD7  8094 094F 243C E5D7 56DB", True),
        ("9185 05BF 2CE9 49B7 7BD7 8094 094F 243C E5D7 56DB", True),  # grouped: no label needed
        ("PGP: 918505bf2ce949b77bd78094094f243ce5d756db", True),
        ("Encrypt to 918505BF2CE949B77BD78094094F243CE5D756DB.", True),
        ("sha1sum 918505BF2CE949B77BD78094094F243CE5D756DB", False),  # any SHA-1, no label
        ("key: 0x918505BF2CE949B77BD78094094F243CE5D756DB", False),  # an Ethereum address
        ("PGP: 918505BF2CE949B77BD78094094F243CE5D756DB0000", False),  # a longer hex run
    ],
)
def test_printed_fingerprints(shown: str, found: bool) -> None:
    expected = ["918505BF2CE949B77BD78094094F243CE5D756DB"] if found else []
    assert fingerprints(html_page(f"<p>{shown}</p>")) == expected


def test_the_armored_key_wins_over_its_printed_fingerprint() -> None:
    _, key, armored = lab_key()
    [entity] = pgp_keys.onionlab_extract(text_page(f"Fingerprint: {key.fingerprint}\n{armored}"))
    assert entity.extra["key_id"] == key.key_id


def test_is_silent_on_pages_without_keys() -> None:
    assert pgp_keys.onionlab_extract(html_page("<p>Nothing to see: 1234 5678.</p>")) is None
