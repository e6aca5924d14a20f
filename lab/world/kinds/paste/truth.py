"""The paste site's ground truth: pages, identifier occurrences and decoys.

Depends on ``onionlab.lab.world.layout`` and the paste site's paths and content.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.paste.content import PasteBin
from onionlab.lab.world.kinds.paste.paths import ABOUT, index_path, paste_path, raw_path
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service
from onionlab.lab.world.records import page_count


def index_pages(service: Service) -> int:
    return page_count(len(service.content.pastes), service.per_page)


def pages(service: Service) -> list[Page]:
    bin_: PasteBin = service.content
    found = [Page(index_path(n), "index", "", n) for n in range(1, index_pages(service) + 1)]
    for p in bin_.pastes:
        found.append(Page(paste_path(p.paste_id), "paste", p.paste_id))
        if not p.encrypted:
            found.append(Page(raw_path(p.paste_id), "raw", p.paste_id))
    found.append(Page(ABOUT, "about"))
    return found


def _per_page(service: Service, attr: str) -> list[Occurrence]:
    out = []
    for p in service.content.pastes:
        for kind, value in getattr(p, attr):
            out.append(Occurrence(kind, value, paste_path(p.paste_id)))
            out.append(Occurrence(kind, value, raw_path(p.paste_id)))
    return out


def occurrences(service: Service) -> list[Occurrence]:
    own = Occurrence("onion", service.onion.removesuffix(".onion"), ABOUT)
    return [own, *_per_page(service, "found")]


def decoys(service: Service) -> list[Occurrence]:
    return _per_page(service, "decoys")


def truth_listings(service: Service) -> list[dict[str, Any]]:
    return []  # price-list pastes are not listings


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    return []
