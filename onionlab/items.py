"""The item types a plugin returns (public face of :mod:`onionlab.crawler.items`)."""

from onionlab.crawler.items import (
    ENTITY_TYPES,
    Entity,
    Item,
    Listing,
    Page,
    Vendor,
    VendorIdentity,
    host_of,
    stable_id,
)

__all__ = [
    "ENTITY_TYPES",
    "Entity",
    "Item",
    "Listing",
    "Page",
    "Vendor",
    "VendorIdentity",
    "host_of",
    "stable_id",
]
