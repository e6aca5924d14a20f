"""Deterministic OpenPGP v4 public keys (Ed25519, "EdDSA legacy", RFC 4880 + RFC 6637 style).

Built packet by packet so that the same seed bytes and creation time always give the same
armored key, byte for byte (no clock, no randomness: Ed25519 signatures are deterministic).
A key is a public-key packet, a User ID packet and a positive self-certification (0x13).
Depends only on the standard library and PyNaCl.
"""

from __future__ import annotations

import base64
import hashlib
import struct

from nacl.signing import SigningKey

from onionlab.lab.world.model import PgpKey

ALGO_EDDSA_LEGACY = 22
HASH_SHA256 = 8
ED25519_OID = bytes.fromhex("2B06010401DA470F01")  # 1.3.6.1.4.1.11591.15.1
SIG_POSITIVE_CERT = 0x13
KEY_FLAGS_CERTIFY_SIGN = 0x03


def _mpi(data: bytes) -> bytes:
    """Encode a big-endian unsigned integer (given as bytes) as an OpenPGP MPI."""
    data = data.lstrip(b"\x00")
    bits = (len(data) - 1) * 8 + data[0].bit_length() if data else 0
    return struct.pack(">H", bits) + data


def _packet(tag: int, body: bytes) -> bytes:
    """Wrap ``body`` in a new-format packet header (RFC 4880 §4.2.2)."""
    n = len(body)
    if n < 192:
        length = bytes([n])
    elif n < 8384:
        n -= 192
        length = bytes([(n >> 8) + 192, n & 0xFF])
    else:
        length = b"\xff" + struct.pack(">I", n)
    return bytes([0xC0 | tag]) + length + body


def _subpacket(kind: int, data: bytes) -> bytes:
    n = len(data) + 1
    assert n < 192
    return bytes([n, kind]) + data


def crc24(data: bytes) -> int:
    """The armor checksum of RFC 4880 §6.1."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(data: bytes, kind: str = "PUBLIC KEY BLOCK") -> str:
    """ASCII-armor ``data`` with 64-column base64 and the CRC-24 line."""
    b64 = base64.b64encode(data).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    crc = base64.b64encode(crc24(data).to_bytes(3, "big")).decode()
    return "\n".join(
        [f"-----BEGIN PGP {kind}-----", "", *lines, "=" + crc, f"-----END PGP {kind}-----", ""]
    )


def v4_fingerprint(key_body: bytes) -> str:
    """SHA-1(0x99 ‖ 2-byte length ‖ public-key packet body), upper-case hex."""
    return hashlib.sha1(b"\x99" + struct.pack(">H", len(key_body)) + key_body).hexdigest().upper()


def make_key(secret: bytes, uid: str, created: int, signed: int | None = None) -> PgpKey:
    """Build an Ed25519 OpenPGP v4 public key from a 32-byte ``secret`` seed.

    ``created`` is the key creation time and ``signed`` the self-signature creation time
    (defaults to ``created``); both are seconds since the epoch chosen by the caller.
    """
    if len(secret) != 32:
        raise ValueError("secret must be 32 bytes")
    signed = created if signed is None else signed
    sk = SigningKey(secret)
    pub = bytes(sk.verify_key)

    key_body = (
        bytes([4])
        + struct.pack(">I", created)
        + bytes([ALGO_EDDSA_LEGACY, len(ED25519_OID)])
        + ED25519_OID
        + _mpi(b"\x40" + pub)
    )
    fingerprint = v4_fingerprint(key_body)
    fpr_bytes = bytes.fromhex(fingerprint)
    key_id = fpr_bytes[-8:]
    uid_bytes = uid.encode("utf-8")

    hashed = (
        _subpacket(2, struct.pack(">I", signed))  # signature creation time
        + _subpacket(27, bytes([KEY_FLAGS_CERTIFY_SIGN]))  # key flags
        + _subpacket(33, b"\x04" + fpr_bytes)  # issuer fingerprint
    )
    unhashed = _subpacket(16, key_id)  # issuer key id
    sig_head = (
        bytes([4, SIG_POSITIVE_CERT, ALGO_EDDSA_LEGACY, HASH_SHA256])
        + struct.pack(">H", len(hashed))
        + hashed
    )
    to_hash = (
        b"\x99"
        + struct.pack(">H", len(key_body))
        + key_body
        + b"\xb4"
        + struct.pack(">I", len(uid_bytes))
        + uid_bytes
        + sig_head
        + b"\x04\xff"
        + struct.pack(">I", len(sig_head))
    )
    digest = hashlib.sha256(to_hash).digest()
    signature = sk.sign(digest).signature  # EdDSA legacy signs the digest itself
    sig_body = (
        sig_head
        + struct.pack(">H", len(unhashed))
        + unhashed
        + digest[:2]
        + _mpi(signature[:32])
        + _mpi(signature[32:])
    )
    data = _packet(6, key_body) + _packet(13, uid_bytes) + _packet(2, sig_body)
    return PgpKey(
        fingerprint=fingerprint,
        key_id=fingerprint[-16:],
        uid=uid,
        created=created,
        armored=armor(data),
    )


SIG_CANONICAL_TEXT = 0x01


def _dash_escape(line: str) -> str:
    """RFC 4880 §7.1: prefix lines starting with "-" (and, for mail safety, "From ")."""
    return "- " + line if line.startswith(("-", "From ")) else line


def clearsign(secret: bytes, key: PgpKey, text: str, created: int) -> str:
    """An OpenPGP cleartext signed message (RFC 4880 §7) of ``text`` by ``key``.

    ``secret`` is the 32-byte seed ``key`` was made from by :func:`make_key` and ``created``
    the signature creation time (seconds since the epoch). The signature is a v4 canonical
    text signature (type 0x01, SHA-256) over the lines of ``text`` with trailing spaces and
    tabs removed, joined with CRLF; the line break before the armored signature is not part
    of the signed text, so a single trailing newline of ``text`` is dropped. The result is
    deterministic (Ed25519 signatures are).
    """
    if len(secret) != 32:
        raise ValueError("secret must be 32 bytes")
    sk = SigningKey(secret)
    pub = bytes(sk.verify_key)
    fpr_bytes = bytes.fromhex(key.fingerprint)
    expected = (
        bytes([4])
        + struct.pack(">I", key.created)
        + bytes([ALGO_EDDSA_LEGACY, len(ED25519_OID)])
        + ED25519_OID
        + _mpi(b"\x40" + pub)
    )
    if v4_fingerprint(expected) != key.fingerprint:
        raise ValueError("secret does not belong to key")

    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalised.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip(" \t") for line in lines]
    signed = "\r\n".join(lines).encode("utf-8")

    hashed = (
        _subpacket(33, b"\x04" + fpr_bytes)  # issuer fingerprint
        + _subpacket(2, struct.pack(">I", created))  # signature creation time
    )
    unhashed = _subpacket(16, fpr_bytes[-8:])  # issuer key id
    sig_head = (
        bytes([4, SIG_CANONICAL_TEXT, ALGO_EDDSA_LEGACY, HASH_SHA256])
        + struct.pack(">H", len(hashed))
        + hashed
    )
    trailer = b"\x04\xff" + struct.pack(">I", len(sig_head))
    digest = hashlib.sha256(signed + sig_head + trailer).digest()
    signature = sk.sign(digest).signature  # EdDSA legacy signs the digest itself
    sig_body = (
        sig_head
        + struct.pack(">H", len(unhashed))
        + unhashed
        + digest[:2]
        + _mpi(signature[:32])
        + _mpi(signature[32:])
    )
    body = "\n".join(_dash_escape(line) for line in lines)
    return (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        + body
        + "\n"
        + armor(_packet(2, sig_body), "SIGNATURE")
    )
