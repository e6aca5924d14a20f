"""The market's ground truth: pages and identifier occurrences (from ``MarketLayout``),
listings and vendors.

Depends on ``onionlab.lab.world.layout``, ``onionlab.lab.world.records`` and the market's paths.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.market.paths import LAYOUT
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service
from onionlab.lab.world.records import listing_record, vendor_record


def pages(service: Service) -> list[Page]:
    return LAYOUT.pages(service)


def occurrences(service: Service) -> list[Occurrence]:
    return LAYOUT.occurrences(service)


def decoys(service: Service) -> list[Occurrence]:
    return []


def truth_listings(service: Service) -> list[dict[str, Any]]:
    return [
        listing_record(service, lst, LAYOUT.listing_path(lst.listing_id))
        for lst in service.listings
    ]


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    return [vendor_record(service, v, LAYOUT.vendor_path(v.handle)) for v in service.vendors]
