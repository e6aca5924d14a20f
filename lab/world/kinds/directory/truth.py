"""The directory's ground truth: pages, identifier occurrences and decoys.

Depends on ``onionlab.lab.world.layout`` and the directory's paths and content.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.directory.content import Entry
from onionlab.lab.world.kinds.directory.paths import (
    ABOUT_PATH,
    STATUS_PATH,
    WARNINGS_PATH,
    _bare,
    category_path,
    content_of,
    site_path,
)
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service


def pages(service: Service) -> list[Page]:
    content = content_of(service)
    found = [Page("/", "home")]
    found += [Page(category_path(c.slug), "category", c.slug) for c in content.categories]
    found += [Page(site_path(e.slug), "site", e.slug) for e in content.entries]
    found += [
        Page(STATUS_PATH, "status"),
        Page(WARNINGS_PATH, "warnings"),
        Page(ABOUT_PATH, "about"),
    ]
    return found


def shown(service: Service) -> dict[str, list[tuple[str, str, bool]]]:
    """``{path: [(type, value, valid), …]}``: every identifier each page shows."""
    content = content_of(service)
    own = ("onion", _bare(service.onion), True)

    def of(entries: list[Entry]) -> list[tuple[str, str, bool]]:
        return [("onion", _bare(a.onion), a.valid) for e in entries for a in e.addresses]

    out: dict[str, list[tuple[str, str, bool]]] = {
        "/": [own, *of(list(content.entries))],
        STATUS_PATH: of(list(content.entries)),
        ABOUT_PATH: [own],
        WARNINGS_PATH: [
            ("onion", _bare(o), True) for a in content.alerts for o in (a.onion, a.real_onion) if o
        ],
    }
    for cat in content.categories:
        out[category_path(cat.slug)] = of(content.in_category(cat.slug))
    for entry in content.entries:
        items = of([entry])
        if entry.fingerprint:
            items.append(("pgp_fingerprint", entry.fingerprint, True))
        out[site_path(entry.slug)] = items
    return out


def _occ(service: Service, valid: bool) -> list[Occurrence]:
    found = {
        Occurrence(kind, value, path)
        for path, items in shown(service).items()
        for kind, value, ok in items
        if ok == valid
    }
    return sorted(found, key=lambda o: (o.path, o.type, o.value))


def occurrences(service: Service) -> list[Occurrence]:
    return _occ(service, True)


def decoys(service: Service) -> list[Occurrence]:
    return _occ(service, False)


def truth_listings(service: Service) -> list[dict[str, Any]]:
    return []


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    return []
