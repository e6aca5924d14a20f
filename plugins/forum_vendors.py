"""Extracts vendor profiles from the lab forum's user pages.

An instructor's plugin like any other: it uses only ``crawler.hookimpl`` and the item types,
and is registered through the ``onionlab`` entry-point group in ``pyproject.toml``.
A forum profile is ``div.profile[data-handle]`` with ``table.profile-info``; it becomes a
``Vendor`` only when the profile marks the account as a vendor (role ``Vendor``, or a flair
such as ``Vendor · Some Market``). Fingerprint, BTC addresses and the other wallets and
contacts come from the profile's ``section.pgp``, ``li.wallet`` and ``li.contact``. Every
other page (threads, boards, profiles of members and staff) gets ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from parsel import Selector, SelectorList
from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Item, Vendor
from onionlab.parsing import fingerprint as _fingerprint
from onionlab.parsing import text as _text

VENDOR = "vendor"


def _typed(profile: SelectorList[Selector], css: str, value_css: str) -> list[dict[str, str]]:
    """``[{"type", "value"}]`` of the ``data-type`` entries matching ``css``."""
    found = []
    for entry in profile.css(css):
        kind = (entry.attrib.get("data-type") or "").strip().lower()
        value = _text(entry, value_css)
        if kind and value:
            found.append({"type": kind, "value": value})
    return found


def _is_vendor(role: str, flair: str) -> bool:
    """The role says ``Vendor``, or the flair's badge (before any ``·``) does."""
    badge = flair.split("·", 1)[0].strip()
    return role.lower() == VENDOR or badge.lower() == VENDOR


def _vendor(response: TextResponse, site: str) -> Vendor | None:
    profile = response.css("div.profile[data-handle]")
    handle = (profile.attrib.get("data-handle") or "").strip() or _text(
        profile, "h1.profile-handle"
    )
    info = profile.css("table.profile-info")
    role, flair = _text(info, "td.role"), _text(info, "td.flair")
    if not handle or not _is_vendor(role, flair):
        return None
    wallets = _typed(profile, "li.wallet", "code.wallet-address")
    contacts = _typed(profile, "li.contact", ".contact-value")
    markets = [m.strip() for m in flair.partition("·")[2].split(",") if m.strip()]
    extra = {
        "role": role,
        "flair": flair,
        "markets": markets,
        "joined": _text(info, "td.joined"),
        "reputation": _text(info, "td.reputation"),
        "wallets": wallets,
        "contacts": contacts,
    }
    return Vendor(
        site=site,
        handle=handle,
        url=response.url,
        pgp_fingerprint=_fingerprint(_text(profile, "section.pgp code.fpr")),
        btc=[w["value"] for w in wallets if w["type"] == "btc"],
        extra={key: value for key, value in extra.items() if value},
    )


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterator[Item] | None:
    """A ``Vendor`` from a vendor's profile; no items from other profiles; ``None`` elsewhere."""
    if not response.css("div.profile[data-handle] table.profile-info"):
        return None
    vendor = _vendor(response, (urlsplit(response.url).hostname or "").lower())
    return iter([vendor] if vendor else [])
