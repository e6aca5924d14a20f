"""Independent validators for the identifier types of the ground truth (test-only).

Built on maintained libraries (bip-utils, base58, eth-utils) and the published specs
(rend-spec-v3 for onions, Telegram's username rules, RFC 7622 for JIDs) — never on the
lab's own generator code, so a generator bug cannot validate itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

import base58
from bip_utils import CoinsConf, P2TRAddrDecoder, P2WPKHAddrDecoder, XmrAddrDecoder
from eth_utils import is_checksum_address

RESERVED_TLDS = (".example", ".test", ".invalid")


def onion_ok(host: str) -> bool:
    """A v3 onion address (56 chars, no ``.onion``) with a correct checksum and version."""
    try:
        raw = base64.b32decode(host.upper())
    except (binascii.Error, ValueError):
        return False
    if len(raw) != 35:
        return False
    pub, checksum, version = raw[:32], raw[32:34], raw[34:]
    digest = hashlib.sha3_256(b".onion checksum" + pub + version).digest()
    return version == b"\x03" and digest[:2] == checksum


def _b58_version(address: str) -> int | None:
    try:
        payload = base58.b58decode_check(address)
    except Exception:
        return None
    return payload[0] if len(payload) == 21 else None


def _segwit_ok(address: str, hrp: str) -> bool:
    try:
        if address.startswith(hrp + "1p"):
            P2TRAddrDecoder.DecodeAddr(address, hrp=hrp)
        else:
            P2WPKHAddrDecoder.DecodeAddr(address, hrp=hrp)
    except Exception:
        return False
    return True


def _xmr_ok(address: str) -> bool:
    conf = CoinsConf.MoneroMainNet
    for key in ("addr_net_ver", "subaddr_net_ver"):
        try:
            XmrAddrDecoder.DecodeAddr(address, net_ver=conf.ParamByKey(key))
        except Exception:
            continue
        return True
    return False


def valid(kind: str, value: str) -> bool:
    """True when ``value`` is a valid identifier of type ``kind``."""
    if kind == "onion":
        return onion_ok(value)
    if kind == "btc":
        if value.startswith("bc1"):
            return _segwit_ok(value, "bc")
        return _b58_version(value) in (0x00, 0x05)
    if kind == "ltc":
        if value.startswith("ltc1"):
            return _segwit_ok(value, "ltc")
        return _b58_version(value) in (0x30, 0x32)
    if kind == "xmr":
        return _xmr_ok(value)
    if kind == "eth":
        return is_checksum_address(value)
    if kind == "trx":
        return value.startswith("T") and _b58_version(value) == 0x41
    if kind == "pgp_fingerprint":
        return re.fullmatch(r"[0-9A-F]{40}", value) is not None
    if kind == "telegram":
        return re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]", value) is not None
    if kind == "session":
        return re.fullmatch(r"05[0-9a-f]{64}", value) is not None
    if kind == "email":
        local, _, domain = value.partition("@")
        return (
            value == value.lower()
            and 0 < len(local) <= 64
            and len(value) <= 254
            and re.fullmatch(r"[a-z0-9._+-]+", local) is not None
            and (domain.endswith(RESERVED_TLDS) or domain.endswith(".onion"))
        )
    if kind == "jabber":
        local, _, domain = value.partition("@")
        return (
            value == value.lower()
            and bool(local)
            and not set(local) & set("\"&'/:<>@")
            and (domain.endswith(RESERVED_TLDS) or onion_ok(domain.removesuffix(".onion")))
        )
    raise AssertionError(f"unknown identifier type {kind!r}")
