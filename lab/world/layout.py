"""Which pages each kind of site serves and on which pages each identifier appears.

The single source of URL structure for both the sites (which build their links with these
helpers) and the ground truth (which lists the pages and identifier occurrences). One
``SiteLayout`` per site kind; add a kind by adding a class to ``LAYOUTS``.
Depends only on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from onionlab.lab.world.model import Listing, Service


@dataclass(frozen=True)
class Page:
    """One HTML page of a site: its path (``/path?query`` as the site writes links)."""

    path: str
    kind: str  # "home", "category", "listing", "vendor", …
    key: str = ""  # category slug, listing id or vendor handle
    number: int = 1  # page number of a paginated index


@dataclass(frozen=True)
class Occurrence:
    """An identifier shown on a page (``type`` is btc, pgp_fingerprint or onion)."""

    type: str
    value: str
    path: str


class SiteLayout(Protocol):
    kind: ClassVar[str]

    def listing_path(self, listing_id: str) -> str: ...

    def vendor_path(self, handle: str) -> str: ...

    def pages(self, service: Service) -> list[Page]: ...

    def occurrences(self, service: Service) -> list[Occurrence]: ...


def onion_identifier(service: Service) -> str:
    """The onion identifier value: the 56-character address without ``.onion``."""
    return service.onion.removesuffix(".onion")


class MarketLayout:
    """A Western multi-vendor market: home, paginated categories, listings, vendors."""

    kind: ClassVar[str] = "market"

    @staticmethod
    def listing_path(listing_id: str) -> str:
        return f"/listing/{listing_id}"

    @staticmethod
    def vendor_path(handle: str) -> str:
        return f"/vendor/{handle}"

    @staticmethod
    def category_path(slug: str, number: int = 1) -> str:
        return f"/category/{slug}" if number == 1 else f"/category/{slug}?page={number}"

    @staticmethod
    def category_listings(service: Service, slug: str) -> list[Listing]:
        """A category's listings in the order the site shows them (newest first)."""
        chosen = [lst for lst in service.listings if lst.category == slug]
        return sorted(chosen, key=lambda lst: (lst.posted, lst.listing_id), reverse=True)

    @classmethod
    def category_page_count(cls, service: Service, slug: str) -> int:
        n = len(cls.category_listings(service, slug))
        return max(1, -(-n // service.per_page))

    @staticmethod
    def vendor_listings(service: Service, handle: str) -> list[Listing]:
        chosen = [lst for lst in service.listings if lst.vendor == handle]
        return sorted(chosen, key=lambda lst: (lst.posted, lst.listing_id), reverse=True)

    def pages(self, service: Service) -> list[Page]:
        pages = [Page("/", "home")]
        for cat in service.categories:
            for number in range(1, self.category_page_count(service, cat.slug) + 1):
                pages.append(
                    Page(self.category_path(cat.slug, number), "category", cat.slug, number)
                )
        pages += [
            Page(self.listing_path(lst.listing_id), "listing", lst.listing_id)
            for lst in service.listings
        ]
        pages += [Page(self.vendor_path(v.handle), "vendor", v.handle) for v in service.vendors]
        return pages

    def occurrences(self, service: Service) -> list[Occurrence]:
        # The home page shows the market's own address; a vendor page shows the vendor's
        # key (and its fingerprint) and BTC addresses. Nothing else shows identifiers.
        found = [Occurrence("onion", onion_identifier(service), "/")]
        for v in service.vendors:
            path = self.vendor_path(v.handle)
            found.append(Occurrence("pgp_fingerprint", v.pgp.fingerprint, path))
            found += [Occurrence("btc", addr, path) for addr in v.btc]
        return found


LAYOUTS: dict[str, SiteLayout] = {MarketLayout.kind: MarketLayout()}


def layout_for(service: Service) -> SiteLayout:
    """The layout of ``service``'s kind (KeyError for a kind without a site)."""
    return LAYOUTS[service.kind]
