"""Small helpers for plugin authors: the text of a page element, numbers and fingerprints.

Part of the public plugin API (like ``crawler.hookimpl`` and ``onionlab.crawler.items``). They work
on a Scrapy response or any parsel selector. Every page a crawl fetches goes through every
plugin, so the CSS queries are translated and compiled once and asked of the parsed tree
directly: the answers are those of ``response.css(...)``, without a selector per node and
per call. Depends on parsel and lxml only.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lxml import etree
from parsel import Selector, SelectorList
from parsel.csstranslator import HTMLTranslator

_DECIMAL = re.compile(r"\d[\d,]*(?:\.\d+)?")
_FINGERPRINT = re.compile(r"[0-9A-F]{40}")
_CSS = HTMLTranslator()
_STRING_VALUE = etree.XPath("string()", smart_strings=False)


@cache
def _query(css: str) -> etree.XPath:
    return etree.XPath(_CSS.css_to_xpath(css), smart_strings=False)


def _roots(node: Any) -> list[Any]:
    """The lxml roots under a response, a ``Selector`` or a ``SelectorList``."""
    if isinstance(node, SelectorList):
        return [selector.root for selector in node]
    if isinstance(node, Selector):
        return [node.root]
    return [node.selector.root]  # a Scrapy TextResponse


def _string(found: Any) -> str:
    return " ".join((found if isinstance(found, str) else _STRING_VALUE(found)).split())


def has(node: Any, css: str) -> bool:
    """Whether ``css`` matches anything (``bool(node.css(css))``, faster)."""
    query = _query(css)
    return any(query(root) for root in _roots(node))


def text(node: Any, css: str) -> str:
    """All text under the first match of ``css``, whitespace collapsed (``""`` if none).

    ``node`` is a Scrapy response, a parsel ``Selector`` or a ``SelectorList``.
    """
    query = _query(css)
    for root in _roots(node):
        found = query(root)
        if found:
            return _string(found[0])
    return ""


def texts(node: Any, css: str) -> list[str]:
    """The collapsed text of every match of ``css``, empty ones left out."""
    query = _query(css)
    found = (_string(match) for root in _roots(node) for match in query(root))
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
