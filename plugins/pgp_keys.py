"""Finds OpenPGP public keys and printed key fingerprints on any page (HTML or plain text).

A built-in plugin written like an instructor's: it imports only ``crawler.hookimpl``, the
item types, the standard library and :mod:`onionlab.plugins._markup` (linear-time scans of armor,
scripts and tags), and is registered through the ``onionlab`` entry-point
group. For every page it emits one ``pgp_fingerprint`` :class:`~onionlab.items.Entity` per
distinct key fingerprint shown there:

* ASCII-armored ``PUBLIC KEY BLOCK``\\ s are decoded and their packets parsed (RFC 9580):
  the fingerprint is computed from the primary key packet (v4: SHA-1, 40 hex digits; v6:
  SHA-256, 64), and ``extra`` holds the key id, creation time, algorithm, user ids (and the
  e-mail addresses in them) and subkey fingerprints, with ``source`` ``"armor"``.
  Armor headers and the CRC-24 line are optional, but a CRC that does not match rejects the
  block, as does any packet that does not parse: a damaged key yields nothing, never an
  error. Signatures and clearsigned messages are not keys and yield nothing.
* Fingerprints printed as text count too: a page that names a key by its fingerprint
  shows that identifier. Ten groups of four hex digits are taken as they are; 40 hex digits
  in one run (which could be any SHA-1 hash) only after a label such as "PGP",
  "fingerprint", "key" or "encrypt to" in the 40 characters before them (``source``
  ``"text"``). A key shown both ways gives one entity, the armored key's.

An address inside a key's user id is not an ``email`` entity of the page: a visitor sees
only base64 there (the lab's truth agrees). When a page prints the user id, the
``contacts`` plugin finds the address in the text.

The packets are parsed here with the standard library rather than with PGPy (a test-only
dependency of the project): PGPy 0.6 imports ``imghdr``, which Python 3.13 removed, cannot
read v6 keys, and takes about 1 ms per key where this parser takes about 50 µs. Only the
packet framing and the public-key packets are read; signatures are not verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, TextResponse

from onionlab import hookimpl
from onionlab.items import Entity, Item
from onionlab.plugins._markup import (
    armor_spans,
    delimited,
    script_or_style_spans,
    sub_spans,
    sub_tags,
)

# A public key block is what lies between these lines, and any armor (keys, signatures,
# messages) is blanked out before fingerprints are looked for in the text. Both are found by
# onionlab.plugins._markup in linear time: as lazy regexes they scan to the end once per
# unterminated BEGIN line (4,000 of them took seconds).
KEY_BEGIN, KEY_END = "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----"
# 40 hex digits, or ten groups of four separated by (up to three) spaces; not part of a longer
# hex run and not an Ethereum address ("0x…"). The look-behind comes after the first digit
# (it looks at the character before that one): a regex that begins with a look-behind is tried
# at every position of the text, one that begins with a digit only at the digits.
PRINTED_FINGERPRINT = re.compile(
    r"([0-9A-Fa-f](?<![0-9A-Fa-fxX].)[0-9A-Fa-f]{3}(?:\s{0,3}[0-9A-Fa-f]{4}){9})(?![0-9A-Fa-f])"
)
KEY_LABEL = re.compile(r"pgp|gpg|key|fingerprint|fpr|encrypt|ключ|отпеч", re.I)
LABEL_REACH = 40
TAG = re.compile(r"<[^>]*>")
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
EMAIL_IN_UID = re.compile(r"[^\s<>()\"',;@]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CONTEXT = 60

PUBLIC_KEY, PUBLIC_SUBKEY, USER_ID = 6, 14, 13
ALGORITHMS = {
    1: "RSA",
    2: "RSA (encrypt only)",
    3: "RSA (sign only)",
    16: "Elgamal",
    17: "DSA",
    18: "ECDH",
    19: "ECDSA",
    22: "EdDSA",
    25: "X25519",
    26: "X448",
    27: "Ed25519",
    28: "Ed448",
}
CURVES = {
    "2a8648ce3d030107": "NIST P-256",
    "2b81040022": "NIST P-384",
    "2b81040023": "NIST P-521",
    "2b2403030208010107": "brainpoolP256r1",
    "2b240303020801010b": "brainpoolP384r1",
    "2b240303020801010d": "brainpoolP512r1",
    "2b06010401da470f01": "Ed25519",
    "2b060104019755010501": "Curve25519",
    "2b656f": "X448",
    "2b6571": "Ed448",
}


class MalformedKey(ValueError):
    """The armor or the packets of a key block cannot be read."""


@dataclass
class PublicKey:
    """One primary key of a key block, as the ``extra`` of its entity describes it."""

    fingerprint: str
    key_id: str
    version: int
    created: datetime
    algorithm: str
    curve: str | None = None
    uids: list[str] = field(default_factory=list)
    subkeys: list[str] = field(default_factory=list)

    def emails(self) -> list[str]:
        """The e-mail addresses in the user ids, lower case, in order, without repeats."""
        found = (m.group(0).lower() for uid in self.uids for m in EMAIL_IN_UID.finditer(uid))
        return list(dict.fromkeys(found))

    def details(self) -> dict[str, object]:
        details: dict[str, object] = {
            "key_id": self.key_id,
            "version": self.version,
            "created": self.created.isoformat(),
            "algorithm": self.algorithm,
            "curve": self.curve,
            "uids": self.uids,
            "emails": self.emails(),
            "subkeys": self.subkeys,
        }
        return {k: v for k, v in details.items() if v not in (None, [])}


def _crc24_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc = (crc << 1) ^ (0x1864CFB if crc & 0x800000 else 0)
        table.append(crc & 0xFFFFFF)
    return table


CRC24_TABLE = _crc24_table()


def crc24(data: bytes) -> int:
    """The armor checksum of RFC 9580 §6.1.1 (init 0xB704CE, generator 0x1864CFB)."""
    crc = 0xB704CE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ CRC24_TABLE[(crc >> 16) ^ byte]
    return crc


def dearmor(armored_body: str) -> bytes:
    """The binary packets of an armor's body (the text between its BEGIN and END lines).

    Header lines (``Key: value``) and blank lines are skipped; a ``=XXXX`` checksum line,
    when present, must match the data.
    """
    lines = [line.strip() for line in armored_body.splitlines()]
    payload: list[str] = []
    checksum: str | None = None
    for line in lines:
        if not line or ":" in line:  # blank or an armor header (base64 has no ":")
            continue
        if line.startswith("=") and len(line) == 5:
            checksum = line[1:]
            break
        payload.append(line)
    try:
        data = base64.b64decode("".join(payload), validate=True)
        expected = base64.b64decode(checksum, validate=True) if checksum else None
    except (binascii.Error, ValueError) as exc:
        raise MalformedKey(f"bad base64: {exc}") from exc
    if not data:
        raise MalformedKey("empty armor")
    if expected is not None and int.from_bytes(expected, "big") != crc24(data):
        raise MalformedKey("CRC-24 mismatch")
    return data


def packets(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Every ``(tag, body)`` of a packet sequence, old and new header formats (RFC 9580 §4.2)."""
    pos = 0
    while pos < len(data):
        head = data[pos]
        pos += 1
        if not head & 0x80:
            raise MalformedKey(f"not a packet header at offset {pos - 1}")
        if head & 0x40:
            tag = head & 0x3F
            body = bytearray()
            while True:
                length, pos, partial = _new_length(data, pos)
                body += data[pos : pos + length]
                pos += length
                if not partial:
                    break
        else:
            tag, kind = (head >> 2) & 0x0F, head & 0x03
            if kind == 3:  # indeterminate: to the end of the data
                length = len(data) - pos
            else:
                size = (1, 2, 4)[kind]
                if pos + size > len(data):
                    raise MalformedKey("truncated packet length")
                length = int.from_bytes(data[pos : pos + size], "big")
                pos += size
            body = bytearray(data[pos : pos + length])
            pos += length
        if pos > len(data):
            raise MalformedKey(f"packet of tag {tag} runs past the end")
        yield tag, bytes(body)


def _new_length(data: bytes, pos: int) -> tuple[int, int, bool]:
    """A new-format body length at ``pos``: ``(length, next position, is partial)``."""
    if pos >= len(data):
        raise MalformedKey("truncated packet length")
    first = data[pos]
    if first < 192:
        return first, pos + 1, False
    if first < 224:
        if pos + 1 >= len(data):
            raise MalformedKey("truncated packet length")
        return ((first - 192) << 8) + data[pos + 1] + 192, pos + 2, False
    if first == 255:
        if pos + 5 > len(data):
            raise MalformedKey("truncated packet length")
        return struct.unpack(">I", data[pos + 1 : pos + 5])[0], pos + 5, False
    return 1 << (first & 0x1F), pos + 1, True


def fingerprint_of(body: bytes) -> str:
    """The fingerprint of a public-key packet body, upper-case hex (v4: 40, v6: 64 digits)."""
    version = body[0] if body else None
    if version == 4:
        return hashlib.sha1(b"\x99" + struct.pack(">H", len(body)) + body).hexdigest().upper()
    if version == 6:
        return hashlib.sha256(b"\x9b" + struct.pack(">I", len(body)) + body).hexdigest().upper()
    raise MalformedKey(f"unsupported key version {version}")


def _primary(body: bytes) -> PublicKey:
    fingerprint = fingerprint_of(body)
    if len(body) < 6 + (4 if body[0] == 6 else 0):
        raise MalformedKey("public-key packet too short")
    created = datetime.fromtimestamp(struct.unpack(">I", body[1:5])[0], UTC)
    algorithm = body[5]
    curve = None
    key_material = body[10:] if body[0] == 6 else body[6:]
    if algorithm in (18, 19, 22) and key_material:
        oid = key_material[1 : 1 + key_material[0]]
        curve = CURVES.get(oid.hex(), f"OID {oid.hex()}")
    return PublicKey(
        fingerprint=fingerprint,
        # v4 key ids are the low 64 bits of the fingerprint, v6 ones the high 64 bits.
        key_id=fingerprint[-16:] if body[0] == 4 else fingerprint[:16],
        version=body[0],
        created=created,
        algorithm=ALGORITHMS.get(algorithm, f"algorithm {algorithm}"),
        curve=curve,
    )


def parse_keys(data: bytes) -> list[PublicKey]:
    """The primary keys of a binary key block (a transferable public key or a keyring).

    Raises :class:`MalformedKey` unless it starts with a public-key packet and every packet
    parses to the end of the data.
    """
    keys: list[PublicKey] = []
    for tag, body in packets(data):
        if tag == PUBLIC_KEY:
            keys.append(_primary(body))
        elif not keys:
            raise MalformedKey(f"key block starts with a packet of tag {tag}")
        elif tag == PUBLIC_SUBKEY:
            keys[-1].subkeys.append(fingerprint_of(body))
        elif tag == USER_ID:
            keys[-1].uids.append(body.decode("utf-8", "replace"))
    return keys


def armored_keys(text: str) -> Iterator[tuple[PublicKey, int]]:
    """Every readable public key in ``text`` and the offset of its armor."""
    for start, body_start, body_end, _ in delimited(text, KEY_BEGIN, KEY_END):
        try:
            keys = parse_keys(dearmor(text[body_start:body_end]))
        except (MalformedKey, IndexError, struct.error, OverflowError, ValueError):
            continue
        for key in keys:
            yield key, start


def printed_fingerprints(text: str) -> Iterator[tuple[str, int]]:
    """Every fingerprint written out as text in ``text`` (armored blocks excluded)."""
    visible = sub_spans(text, armor_spans(text), lambda armor: " " * len(armor))
    for match in PRINTED_FINGERPRINT.finditer(visible):
        grouped = len(match.group(1)) > 40
        before = visible[max(0, match.start() - LABEL_REACH) : match.start()]
        if grouped or KEY_LABEL.search(before):
            yield "".join(match.group(1).split()).upper(), match.start()


def visible_text(response: TextResponse) -> str:
    """What a reader sees of the page: for HTML, no scripts or styles, a line break per tag.

    A line break keeps an armor's lines apart where the page breaks them with ``<br>``.
    """
    body = response.text
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    if isinstance(response, HtmlResponse) or "html" in content_type:
        body = sub_spans(body, script_or_style_spans(body, SCRIPT_OR_STYLE), lambda _: "\n")
        body = unescape(sub_tags(TAG, "\n", body))
    return body


def _context(text: str, offset: int) -> str:
    return " ".join(text[max(0, offset - CONTEXT) : offset + CONTEXT].split())


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterator[Item] | None:
    if not isinstance(response, TextResponse):
        return None
    text = visible_text(response)
    keys = list(armored_keys(text))
    printed = list(printed_fingerprints(text))
    if not keys and not printed:
        return None
    site = (urlsplit(response.url).hostname or "").lower()
    found: dict[tuple[str, str], Entity] = {}
    for key, offset in keys:
        found.setdefault(
            ("pgp_fingerprint", key.fingerprint),
            Entity(
                type="pgp_fingerprint",
                value=key.fingerprint,
                url=response.url,
                site=site,
                context=_context(text, offset),
                extra={"source": "armor", **key.details()},
            ),
        )
    for value, offset in printed:
        found.setdefault(
            ("pgp_fingerprint", value),
            Entity(
                type="pgp_fingerprint",
                value=value,
                url=response.url,
                site=site,
                context=_context(text, offset),
                extra={"source": "text"},
            ),
        )
    return iter(found.values())
