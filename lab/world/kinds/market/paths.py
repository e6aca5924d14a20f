"""The market's URL scheme (``MarketLayout``): every page's path, shared by world and site.

The truth lists these pages and the site (``onionlab.lab.sites.market``, and the phishing
clone that reuses it) renders and links them; ``PROTECTED_PREFIXES`` are the paths behind
the lab's login wall. Depends on ``onionlab.lab.world.layout`` and ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from typing import ClassVar

from onionlab.lab.world.layout import Occurrence, Page, onion_identifier
from onionlab.lab.world.model import Listing, Service
from onionlab.lab.world.records import page_count

PROTECTED_PREFIXES: tuple[str, ...] = ("/vendor/", "/listing/")  # behind the login wall


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
        return page_count(n, service.per_page)

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


LAYOUT = MarketLayout()
