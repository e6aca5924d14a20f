"""Extracts cryptocurrency addresses (BTC, LTC, XMR, ETH, TRX) that pass their checksums.

An instructor's plugin like any other: it uses only ``crawler.hookimpl``, the item types and
maintained libraries (``base58`` for Base58Check, ``bip-utils`` for segwit Bech32/Bech32m
and Monero addresses and its Keccak-256 for EIP-55). It reads every HTML or plain-text page
(the text shown, through :mod:`onionlab.plugins._text_scan`) and returns one
:class:`~onionlab.items.Entity` per address and page, with ``extra["format"]``:

* ``btc``: ``p2pkh`` (``1…``), ``p2sh`` (``3…``), ``p2wpkh``/``p2wsh`` (``bc1q…``, Bech32,
  witness v0) and ``p2tr``/``witness-vN`` (``bc1p…``…, Bech32m, v1+); mainnet only;
* ``ltc``: ``p2pkh`` (``L…``), ``p2sh`` (``M…``, or a ``3…`` labelled Litecoin),
  ``p2wpkh``/``p2wsh`` (``ltc1…``);
* ``xmr``: ``standard`` (``4…``), ``subaddress`` (``8…``), ``integrated`` (``4…``, 106 chars),
  Monero's block Base58 with a Keccak-256 checksum and valid ed25519 keys;
* ``eth``: returned in EIP-55 form; ``format`` says how it was written (``eip55`` for a
  correct mixed-case checksum, ``lowercase``/``uppercase`` for unchecksummed forms; a wrong
  mixed-case checksum is rejected);
* ``trx``: ``base58check`` (``T…``, version byte 0x41).

A ``3…`` address is both Bitcoin P2SH and Litecoin's deprecated P2SH form. It is Bitcoin
(by far the common case, and the lab's) unless the nearest Bitcoin or Litecoin label in the
80 characters before it, written after the previous address, names Litecoin ("LTC: 3…");
``extra["ambiguous"]`` marks it either way. Addresses found only after
undoing an obfuscation (a line break inside the address, Cyrillic look-alike letters) must
carry a real checksum (an unchecksummed ETH address does not) and have
``extra["obfuscation"]`` set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import base58
from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Entity, host_of
from onionlab.plugins._text_scan import Match, page_text, scan

_B58 = "1-9A-HJ-NP-Za-km-z"
_BECH32 = "02-9ac-hj-np-z"
# Each pattern begins with its first character (a set, or "0x") and only then looks behind it
# ("(?<![…].)": the character before that one): a regex that begins with a look-behind is
# tried at every position of the text, one that begins with a character is tried only where
# that character is (the engine skips to it), which is a third of the time here.
_MONERO = re.compile(rf"[48](?<![{_B58}].)[{_B58}]{{94}}(?:[{_B58}]{{11}})?(?![{_B58}])")
# (?<![0-9a-z])(?:bc|ltc)1[bech32]{6,87}(?![0-9a-z]) under re.IGNORECASE, spelt out without
# it (a case-insensitive first character is not skipped to): that flag also lets [0-9a-z]
# match İ ı ſ K (U+0130, U+0131, U+017F, U+212A) and the Bech32 set ſ and K.
_ALNUM_ANY_CASE = "0-9A-Za-z\u0130\u0131\u017f\u212a"
_BECH32_ANY_CASE = "02-9ac-hj-np-zAC-HJ-NP-Z\u017f\u212a"
_SEGWIT = re.compile(
    rf"[bBlL](?<![{_ALNUM_ANY_CASE}].)(?:(?<=[bB])[cC]|(?<=[lL])[tT][cC])1"
    rf"[{_BECH32_ANY_CASE}]{{6,87}}(?![{_ALNUM_ANY_CASE}])"
)
_ETHEREUM = re.compile(r"0x(?<![0-9A-Za-z]0x)[0-9A-Fa-f]{40}(?![0-9A-Za-z])")
_BITCOIN_OR_LITECOIN = re.compile(
    r"\b(?:(btc|xbt|bitcoin|биткоин\w*|биток\w*)|(ltc|litecoin|лайткоин\w*))\b", re.IGNORECASE
)

# Base58Check version byte → (chain, format); 0x05 is also Litecoin's legacy P2SH.
_BASE58_VERSIONS = {
    0x00: ("btc", "p2pkh"),
    0x05: ("btc", "p2sh"),
    0x30: ("ltc", "p2pkh"),
    0x32: ("ltc", "p2sh"),
    0x41: ("trx", "base58check"),
}
_P2SH_BTC_OR_LTC = 0x05


def _base58check_first_characters() -> frozenset[str]:
    """The characters a Base58Check address of a known version can start with.

    The 25 decoded bytes are the version, the 20-byte hash and the 4-byte checksum; a version
    of 0 is written as a leading "1", and the encodings of all the values that start with any
    other version byte have one length and so start alike (checked here at both ends of the
    range). A candidate starting otherwise is rejected without decoding it: most candidates
    are words run together where a line break was rejoined.
    """
    first = set()
    for version in _BASE58_VERSIONS:
        low, high = (base58.b58encode(bytes([version]) + fill * 24) for fill in (b"\0", b"\xff"))
        assert low[:1] == high[:1] and (version == 0 or len(low) == len(high)), version
        first.add(chr(low[0]))
    return frozenset(first)


_BASE58CHECK_FIRST = _base58check_first_characters()
# 25 to 35 characters, from one of those: the look-behind (after the first character, as for
# the patterns above) lets a match start only where a run of Base58 characters does, so this
# finds what the plain pattern finds that can be valid.
_BASE58CHECK = re.compile(
    rf"[{''.join(sorted(_BASE58CHECK_FIRST))}](?<![{_B58}].)[{_B58}]{{24,34}}(?![{_B58}])"
)
_SEGWIT_CHAINS = {"bc": "btc", "ltc": "ltc"}
_BECH32_MAX_LENGTH = 90


@cache
def _bip() -> Any:
    """bip-utils, imported on first use: the crawl's own process loads every plugin but
    extracts nothing when worker processes do, and need not carry its 17 MB of modules."""
    import bip_utils
    import bip_utils.utils.crypto

    return bip_utils


_XMR_INTEGRATED_LENGTH = 106
_XMR_PAYMENT_ID = slice(-12, -4)  # the 8 bytes before the 4-byte checksum
_LABEL_WINDOW = 80  # characters before an address searched for a chain label


@dataclass(frozen=True, slots=True)
class Address:
    """A validated address: its chain, normalised value, format and checksum status."""

    type: str
    value: str
    format: str
    checksummed: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def base58check_address(candidate: str) -> Address | None:
    """A BTC, LTC or TRX Base58Check address (mainnet), or ``None``."""
    if candidate[:1] not in _BASE58CHECK_FIRST:
        return None
    try:
        payload = base58.b58decode_check(candidate)
    except ValueError:
        return None
    if len(payload) != 21 or payload[0] not in _BASE58_VERSIONS:
        return None
    chain, fmt = _BASE58_VERSIONS[payload[0]]
    extra = {"ambiguous": "btc/ltc"} if payload[0] == _P2SH_BTC_OR_LTC else {}
    return Address(chain, candidate, fmt, extra=extra)


def _segwit_format(version: int, program: bytes) -> str:
    if version == 0:
        return "p2wpkh" if len(program) == 20 else "p2wsh"
    return "p2tr" if version == 1 and len(program) == 32 else f"witness-v{version}"


def segwit_address(candidate: str) -> Address | None:
    """A BTC (``bc1``) or LTC (``ltc1``) segwit address, lower case, or ``None``.

    Witness v0 must use Bech32 and v1+ Bech32m (BIP350); mixed case is rejected.
    """
    if len(candidate) > _BECH32_MAX_LENGTH:
        return None
    hrp = candidate.partition("1")[0].lower()
    if hrp not in _SEGWIT_CHAINS:
        return None
    try:
        version, program = _bip().SegwitBech32Decoder.Decode(hrp, candidate)
    except (ValueError, _bip().Bech32ChecksumError):
        return None
    return Address(_SEGWIT_CHAINS[hrp], candidate.lower(), _segwit_format(version, program))


def monero_address(candidate: str) -> Address | None:
    """A mainnet Monero standard, sub- or integrated address, or ``None``."""
    bip = _bip()
    xmr = bip.CoinsConf.MoneroMainNet
    try:
        if len(candidate) == _XMR_INTEGRATED_LENGTH:
            payment_id = bip.Base58XmrDecoder.Decode(candidate)[_XMR_PAYMENT_ID]
            bip.XmrIntegratedAddrDecoder.DecodeAddr(
                candidate, net_ver=xmr.ParamByKey("addr_int_net_ver"), payment_id=payment_id
            )
            return Address("xmr", candidate, "integrated", extra={"payment_id": payment_id.hex()})
    except ValueError:
        return None
    for fmt, key in (("standard", "addr_net_ver"), ("subaddress", "subaddr_net_ver")):
        try:
            bip.XmrAddrDecoder.DecodeAddr(candidate, net_ver=xmr.ParamByKey(key))
        except ValueError:
            continue
        return Address("xmr", candidate, fmt)
    return None


def eip55(candidate: str) -> str:
    """``0x`` and the 40 hex digits in EIP-55's mixed case.

    EIP-55: a letter is upper case where the matching nibble of the Keccak-256 of the lower
    case hex digits is 8 or more. (bip-utils' Keccak; eth-utils would do the same but costs
    every extraction worker 16 MB more resident memory, for pydantic it imports.)
    """
    digits = candidate[2:].lower()
    digest = _bip().utils.crypto.Kekkak256.QuickDigest(digits).hex()[:40]
    cased = (c.upper() if int(d, 16) >= 8 else c for c, d in zip(digits, digest, strict=True))
    return "0x" + "".join(cased)


def ethereum_address(candidate: str) -> Address | None:
    """An Ethereum address in EIP-55 form, or ``None`` for a wrong mixed-case checksum."""
    digits = candidate[2:]
    if digits.islower() or digits.isdigit():  # no letters: nothing to checksum
        return Address("eth", eip55(candidate), "lowercase", checksummed=False)
    if digits.isupper():
        return Address("eth", eip55(candidate), "uppercase", checksummed=False)
    if candidate[:2] == "0x" and eip55(candidate) == candidate:
        return Address("eth", candidate, "eip55")
    return None


_FAMILIES = (
    (_BASE58CHECK, base58check_address),
    (_SEGWIT, segwit_address),
    (_MONERO, monero_address),
    (_ETHEREUM, ethereum_address),
)


def _labelled_litecoin(before: str) -> bool:
    """Whether the last Bitcoin-or-Litecoin label in ``before`` names Litecoin."""
    labels = list(_BITCOIN_OR_LITECOIN.finditer(before))
    return bool(labels) and labels[-1].group(2) is not None


def _resolve_p2sh(address: Address, match: Match, previous_end: int) -> Address:
    """A ``3…`` address as Bitcoin, or as Litecoin when labelled so (see module docstring)."""
    before = match.text[max(previous_end, match.start - _LABEL_WINDOW) : match.start]
    chain = "ltc" if _labelled_litecoin(before) else "btc"
    return Address(chain, address.value, address.format, extra=address.extra)


def addresses(text: str) -> Iterator[tuple[Address, Match]]:
    """Every valid address in ``text`` with the match it came from, in text order per view."""
    found: list[tuple[Match, Address]] = []
    for pattern, validate in _FAMILIES:
        for match in scan(pattern, text):
            address = validate(match.value)
            if address is None or (match.obfuscation and not address.checksummed):
                continue
            found.append((match, address))
    previous: tuple[str, int] = ("", 0)  # (view, end of the previous address in it)
    for match, address in sorted(found, key=lambda pair: (pair[0].obfuscation, pair[0].start)):
        previous_end = previous[1] if previous[0] is match.text else 0
        previous = (match.text, match.end)
        if "ambiguous" in address.extra:
            address = _resolve_p2sh(address, match, previous_end)
        yield address, match


def entities(response: TextResponse) -> list[Entity]:
    """One entity per valid address on the page (the first occurrence gives the context)."""
    site = host_of(response.url)
    found: dict[tuple[str, str], Entity] = {}
    for address, match in addresses(page_text(response)):
        if (address.type, address.value) in found:
            continue
        extra = {"format": address.format, **address.extra}
        if match.obfuscation:
            extra["obfuscation"] = match.obfuscation
        found[address.type, address.value] = Entity(
            type=address.type,
            value=address.value,
            url=response.url,
            site=site,
            context=match.context(),
            extra=extra,
        )
    return list(found.values())


@hookimpl
def onionlab_extract(response: TextResponse) -> list[Entity] | None:
    if not isinstance(response, TextResponse):
        return None
    return entities(response)
