"""The links of a page to follow: Scrapy's ``LinkExtractor``, its answers remembered.

A crawl meets the same links on page after page (a site's menu, its categories, its
pagination): the lab's pages hold 17 links on average, 94 % of them already seen. Scrapy's
``LinkExtractor`` joins, escapes and checks each one again (domain, extension), 47 µs a link,
a fifth of an extraction worker's time. :class:`OnionLinkExtractor` is that extractor with
the same rules (tags ``a`` and ``area``, attribute ``href``, stripped, joined to the page's
``<base>``, escaped, the allowed hosts, Scrapy's ignored extensions, each URL once), which
remembers the URL each ``href`` gave on pages of the same site, up to
:data:`CACHE_SIZE` of them (then starts again). A test checks it gives what Scrapy's
``extract_links`` gives, on hostile input too. It reuses two private parts of Scrapy's
extractor (``_link_allowed``; the Scrapy minor version is pinned). Depends on Scrapy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.http import TextResponse
from scrapy.link import Link
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.response import get_base_url
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

CACHE_SIZE = 5_000
"""hrefs remembered per extractor, then forgotten all at once: about 1.7 MB (50,000 took
17 MB, over half a worker's allowance of ``ONIONLAB_EXTRACT_MEMORY_MB``, and had workers
replaced every few thousand pages). A site's menu and categories are learnt again within a
page or two."""

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_XHTML = "{http://www.w3.org/1999/xhtml}"
_TAGS = ("a", "area", f"{_XHTML}a", f"{_XHTML}area")  # Scrapy's: XHTML's namespace ignored
_UNSET = object()


class OnionLinkExtractor(LinkExtractor):
    """Scrapy's ``LinkExtractor(allow_domains=…, unique=True)`` plus :meth:`urls`, which gives
    the same URLs as ``[link.url for link in extract_links(response)]``, faster."""

    def __init__(self, allow_domains: Iterable[str]) -> None:
        super().__init__(allow_domains=sorted(set(allow_domains)), unique=True)
        self._resolved: dict[tuple[str, str, str], str | None] = {}

    def urls(self, response: TextResponse, limit: int = 0) -> list[str]:
        """The URLs to follow from ``response``, in page order, each once.

        With ``limit`` (0: none), the first ``limit`` of them, and after those the rest of
        the page's distinct ``href`` values as they are written, not joined nor checked: the
        list says how far over the limit the page is (the caller counts what it drops)
        without the cost of making 100,000 URLs of a link-flood page (12 s in a worker).
        """
        base = get_base_url(response)
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
        encoding = response.encoding
        found: list[str] = []
        seen: set[str] = set()
        resolved = self._resolved
        written: set[str] = set()  # with a limit: the hrefs looked at
        elements = response.selector.root.iter(*_TAGS)
        for element in elements:
            if limit and len(found) >= limit:
                found.extend(self._rest(element, elements, written))
                break
            href = element.get("href")
            if href is None:
                continue
            href = strip_html5_whitespace(href)
            if limit:
                written.add(href)
            # What an href gives depends on this much of the page's base URL only.
            if href.startswith("/") and not href.startswith("//"):
                key = (origin, href, encoding)
            elif _SCHEME.match(href):
                key = ("", href, encoding)
            else:
                key = (base, href, encoding)
            url: Any = resolved.get(key, _UNSET)
            if url is _UNSET:
                url = self._resolve(base, response.url, href, encoding)
                if len(resolved) >= CACHE_SIZE:
                    resolved.clear()
                resolved[key] = url
            if url is not None and url not in seen:
                seen.add(url)
                found.append(url)
        return found

    @staticmethod
    def _rest(first: Any, elements: Iterable[Any], written: set[str]) -> list[str]:
        """The distinct hrefs of ``first`` and the ``elements`` after it, not ``written``."""
        rest: dict[str, None] = {}
        for element in (first, *elements):
            href = element.get("href")
            if href is not None:
                href = strip_html5_whitespace(href)
                if href not in written:
                    rest[href] = None
        return list(rest)

    def _resolve(self, base: str, page: str, href: str, encoding: str) -> str | None:
        """One href as Scrapy's extractor makes it: joined, escaped, then checked."""
        try:
            url = safe_url_string(urljoin(base, href), encoding=encoding)
        except ValueError:
            return None
        url = urljoin(page, url)
        return url if self._link_allowed(Link(url)) else None
