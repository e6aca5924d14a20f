"""Finding the identifiers a page shows, independently of the lab's code (test-only).

``found_identifiers(text)`` re-finds every identifier on a page (HTML or plain text) with
regexes and keeps only those that pass ``tests.support.validators.valid`` (base58,
bip-utils, eth-utils, the onion checksum). E-mail addresses and Jabber IDs look the same,
so both are reported as ``("address@", value)``; ``normalise`` folds a truth entry the
same way. ``appears`` tells whether a truth value is shown on a page (a fingerprint may be
grouped), ``by_page`` groups truth identifiers or decoys by the path of one service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape
from typing import Any

from tests.support.validators import valid

B58 = "1-9A-HJ-NP-Za-km-z"
BECH = "02-9ac-hj-np-z"
ADDRESS_AT = "address@"  # an e-mail address or a Jabber ID: the same shape
COINS = ("btc", "ltc", "xmr", "eth", "trx")
ONION = re.compile(r"(?<![a-z2-7])([a-z2-7]{55}d)(?![a-z2-7])")
SHAPES = {
    "btc": re.compile(rf"(?<![{B58}])([13][{B58}]{{25,34}}|bc1[qp][{BECH}]{{38,58}})(?![{B58}])"),
    "ltc": re.compile(rf"(?<![{B58}])([LM][{B58}]{{33}}|ltc1q[{BECH}]{{38,58}})(?![{B58}])"),
    "xmr": re.compile(rf"(?<![{B58}])([48][{B58}]{{94}})(?![{B58}])"),
    "eth": re.compile(r"(?<![0-9A-Za-z])(0x[0-9a-fA-F]{40})(?![0-9A-Za-z])"),
    "trx": re.compile(rf"(?<![{B58}])(T[{B58}]{{33}})(?![{B58}])"),
}
FINGERPRINT = re.compile(r"(?<![0-9A-Za-z])([0-9A-F]{4}(?: {0,2}[0-9A-F]{4}){9})(?![0-9A-Za-z])")
SESSION = re.compile(r"(?<![0-9a-f])(05[0-9a-f]{64})(?![0-9a-f])")
ADDRESS = re.compile(r"(?<![\w.@-])([\w.+-]+@[a-z0-9.-]+\.[a-z]{2,})\b")
TELEGRAM = re.compile(r"(?:(?<![\w.@])@|t\.me/)([A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9])")
STYLE = re.compile(r"<style>.*?</style>", re.S)


def found_identifiers(text: str) -> set[tuple[str, str]]:
    """Every valid identifier in ``text``; e-mail and Jabber IDs both as ``address@``."""
    text = unescape(STYLE.sub("", text))
    found = {("onion", host) for host in ONION.findall(text) if valid("onion", host)}
    for kind, shape in SHAPES.items():
        found |= {(kind, v) for v in shape.findall(text) if valid(kind, v)}
    found |= {("pgp_fingerprint", f.replace(" ", "")) for f in FINGERPRINT.findall(text)}
    found |= {("session", sid) for sid in SESSION.findall(text)}
    found |= {(ADDRESS_AT, addr) for addr in ADDRESS.findall(text)}
    found |= {("telegram", name) for name in TELEGRAM.findall(text)}
    return found


def normalise(kind: str, value: str) -> tuple[str, str]:
    """A truth ``(type, value)`` as ``found_identifiers`` reports it."""
    return (ADDRESS_AT, value) if kind in ("email", "jabber") else (kind, value)


def normalised(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    return {normalise(kind, value) for kind, value in pairs}


def fingerprint_forms(fpr: str) -> list[str]:
    """A 40-hex fingerprint as written: plain, in groups of four, or split in two halves."""
    groups = [fpr[i : i + 4] for i in range(0, 40, 4)]
    return [fpr, " ".join(groups), " ".join(groups[:5]) + "  " + " ".join(groups[5:])]


def appears(kind: str, value: str, text: str) -> bool:
    """Whether the truth value is shown in ``text`` (entities decoded)."""
    text = unescape(text)
    if kind == "pgp_fingerprint":
        return any(form in text for form in fingerprint_forms(value))
    return value in text


def by_page(entries: Iterable[dict[str, Any]], base: str) -> dict[str, set[tuple[str, str]]]:
    """Truth ``identifiers`` or ``decoys`` as ``path -> {(type, value)}`` below URL ``base``."""
    base = base.rstrip("/")
    out: dict[str, set[tuple[str, str]]] = {}
    for entry in entries:
        for url in entry["pages"]:
            if url.startswith(base + "/"):
                out.setdefault(url[len(base) :], set()).add((entry["type"], entry["value"]))
    return out


def by_path(occurrences: Iterable[Any]) -> dict[str, set[tuple[str, str]]]:
    """A site kind's ``occurrences`` or ``decoys`` as ``path -> {(type, value)}``."""
    out: dict[str, set[tuple[str, str]]] = {}
    for occ in occurrences:
        out.setdefault(occ.path, set()).add((occ.type, occ.value))
    return out
