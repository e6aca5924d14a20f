"""Small helpers for plugin authors: the text of a page element, numbers and fingerprints.

Part of the public plugin API (like ``crawler.hookimpl`` and ``crawler.items``). They work
on a Scrapy response or any parsel selector. Depends on parsel only.
"""

from __future__ import annotations

import re
from typing import Protocol

_DECIMAL = re.compile(r"\d[\d,]*(?:\.\d+)?")
_FINGERPRINT = re.compile(r"[0-9A-F]{40}")


class Selectable(Protocol):
    """A Scrapy response, a parsel ``Selector`` or a ``SelectorList``."""

    def css(self, query: str): ...


def text(node: Selectable, css: str) -> str:
    """All text under the first match of ``css``, whitespace collapsed (``""`` if none)."""
    return " ".join(" ".join(node.css(css).xpath("string()").getall()[:1]).split())


def texts(node: Selectable, css: str) -> list[str]:
    """The collapsed text of every match of ``css``, empty ones left out."""
    found = (" ".join(s.split()) for s in node.css(css).xpath("string()").getall())
    return [value for value in found if value]


def number(value: str) -> str | None:
    """The first decimal number in ``value`` as written, thousands separators dropped.

    ``"$1,024.00"`` → ``"1024.00"``; ``"3.5 g"`` → ``"3.5"``; no number → ``None``.
    """
    match = _DECIMAL.search(value)
    return match.group(0).replace(",", "") if match else None


def fingerprint(value: str) -> str | None:
    """An OpenPGP v4 fingerprint printed in any grouping, as 40 upper-case hex digits."""
    compact = "".join(value.split()).upper()
    return compact if _FINGERPRINT.fullmatch(compact) else None
