"""Ground-truth records the site kinds share: a listing's and a vendor's common fields.

``listing_record`` is the row of a listing every market-like kind exports (the kind adds its
own fields, e.g. an XMR price); ``vendor_record`` the row of a vendor shown on one page.
``page_count`` is the number of pages of a paginated index. Depends on
``onionlab.lab.world.model`` only.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.model import Listing, Service, Vendor


def page_count(items: int, per_page: int) -> int:
    """How many index pages ``items`` entries fill, ``per_page`` a page (at least one)."""
    return max(1, -(-items // per_page))


def url_of(service: Service, path: str) -> str:
    """The absolute URL of ``path`` on ``service`` (lower-case onion host)."""
    return f"http://{service.onion.lower()}{path}"


def listing_base(service: Service, listing: Listing, path: str) -> dict[str, Any]:
    """A listing's identity fields: site, id, url, title, vendor, category name, substance."""
    names = {c.slug: c.name for c in service.categories}
    return {
        "site": service.name,
        "listing_id": listing.listing_id,
        "url": url_of(service, path),
        "title": listing.title,
        "vendor": listing.vendor,
        "category": names[listing.category],
        "substance": listing.substance,
        "weight_g": listing.weight_g,
    }


def listing_record(service: Service, listing: Listing, path: str) -> dict[str, Any]:
    """A listing's truth row as a Western market shows it (prices in USD and BTC)."""
    return {
        **listing_base(service, listing, path),
        "price_usd": listing.price_usd,
        "price_btc": listing.price_btc,
        "ships_from": listing.ships_from,
    }


def vendor_record(service: Service, vendor: Vendor, path: str) -> dict[str, Any]:
    """A vendor's truth row: handle, identity, the page showing them, key, BTC wallets."""
    return {
        "site": service.name,
        "handle": vendor.handle,
        "identity": vendor.identity,
        "url": url_of(service, path),
        "pgp_fingerprint": vendor.pgp.fingerprint,
        "btc": sorted(vendor.btc),
    }
