"""Extracts v3 onion addresses whose checksum and key are valid (rend-spec-v3 §6).

An instructor's plugin like any other: it uses only ``crawler.hookimpl``, the item types,
the standard library (NIST SHA3-256, which is what Tor uses) and PyNaCl (the ed25519 key
check). It reads the text every HTML or plain-text page shows (through
:mod:`onionlab.plugins._text_scan`: hosts in URLs, mirror lists, Jabber IDs ``user@<host>.onion``,
bare 56-character addresses) and the targets of its links, and returns one
:class:`~onionlab.items.Entity` of type ``onion`` per address and page; ``value`` is the
56 characters in lower case without ``.onion`` or subdomain labels.

An address counts when base32-decoding gives ``PUBKEY[32] ‖ CHECKSUM[2] ‖ VERSION``, with
version 3, ``CHECKSUM = SHA3-256(".onion checksum" ‖ PUBKEY ‖ VERSION)[:2]`` and a public
key that is a valid ed25519 point without a torsion component (as Tor clients require).

A site's own address counts where the page shows it as text (a home page printing its
address, a mirror list); a link to the page's own host does not, since every page of a site
may link to itself and that is navigation, not something the page tells its reader.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from nacl.bindings import crypto_core_ed25519_is_valid_point
from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Entity, host_of
from onionlab.plugins._text_scan import link_targets, page_text, scan

ONION_LENGTH = 56
_VERSION = 3
_CHECKSUM_PREFIX = b".onion checksum"
# Characters urlsplit drops from anywhere in a URL (so "x.oni\non" has host "x.onion").
_URL_BREAKS = re.compile("[\t\r\n]")
# All lower or all upper case: base32 ignores case, but nobody writes an address in both.
_ADDRESS = re.compile(
    r"(?<![0-9A-Za-z])([a-z2-7]{56}|[A-Z2-7]{56})(?:\.onion)?(?![0-9A-Za-z])", re.ASCII
)


def is_onion_address(address: str) -> bool:
    """Whether ``address`` (56 base32 characters, no ``.onion``) is a valid v3 onion address."""
    if len(address) != ONION_LENGTH:
        return False
    try:
        raw = base64.b32decode(address.upper())
    except (binascii.Error, ValueError):
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34]
    if version != _VERSION:
        return False
    digest = hashlib.sha3_256(_CHECKSUM_PREFIX + pubkey + bytes([version])).digest()
    return digest[:2] == checksum and crypto_core_ed25519_is_valid_point(pubkey)


def onion_of_url(url: str) -> str | None:
    """The onion address (56 chars, lower case) an absolute URL points at, or ``None``."""
    if ".onion" not in url.lower() and not _URL_BREAKS.search(url):
        return None  # most links are relative or to the clear web: no need to parse them
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    if not host.endswith(".onion"):
        return None
    address = host.removesuffix(".onion").rpartition(".")[2]
    return address if is_onion_address(address) else None


def _occurrences(response: TextResponse) -> Iterator[tuple[str, str, dict[str, str]]]:
    """``(address, context, extra)`` of every onion address shown or linked to."""
    for match in scan(_ADDRESS, page_text(response), group=1):
        address = match.value.lower()
        if is_onion_address(address):
            yield address, match.context(), {"obfuscation": match.obfuscation}
    own = host_of(response.url).removesuffix(".onion").rpartition(".")[2]
    for target in link_targets(response):
        address = onion_of_url(target)
        if address is not None and address != own:
            yield address, target, {"source": "link"}


def entities(response: TextResponse) -> list[Entity]:
    """One entity per valid onion address on the page (the first occurrence gives context)."""
    site = host_of(response.url)
    found: dict[str, Entity] = {}
    for address, context, extra in _occurrences(response):
        if address not in found:
            extra = {key: value for key, value in extra.items() if value}
            found[address] = Entity("onion", address, response.url, site, context, extra)
    return list(found.values())


@hookimpl
def onionlab_extract(response: TextResponse) -> list[Entity] | None:
    if not isinstance(response, TextResponse):
        return None
    return entities(response)
