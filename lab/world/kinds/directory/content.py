"""The directory's content model (entries, addresses, alerts), categories and sizes.

Depends on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from dataclasses import dataclass

from onionlab.lab.world.data_files import load_words
from onionlab.lab.world.model import Category, find_by

# Services a story says are dead: listed as down (the lab lead aligns this with the
# exit-scam schedule of the lab profiles).
DOWN_SERVICES: frozenset[str] = frozenset()
HISTORY = 7  # checks shown per address, oldest first

CATEGORIES: tuple[Category, ...] = (
    Category("markets", "Markets"),
    Category("ru", "Русскоязычные площадки"),
    Category("shops", "Vendor shops"),
    Category("forums", "Forums & communities"),
    Category("paste", "Pastebins"),
    Category("other", "Other services"),
    Category("defunct", "Defunct, seized & exit-scammed"),
)
KIND_CATEGORY = {
    "market": "markets",
    "bazaar": "markets",
    "ru_platform": "ru",
    "vendor_shop_a": "shops",
    "vendor_shop_b": "shops",
    "forum": "forums",
    "paste": "paste",
}
_WORDS = load_words("onionlab.lab.world.kinds.directory")
DESCRIPTIONS = _WORDS["descriptions"]
DIRECTORY_NAMES = _WORDS["directory_names"]
DEAD_SITES = _WORDS["dead_sites"]
FAKE_LINKS = _WORDS["fake_links"]


@dataclass(frozen=True)
class Address:
    """One onion address of an entry (``onion`` is ``<56>.onion``; decoys fail its checksum)."""

    onion: str
    label: str  # "main", "mirror 1", …
    status: str  # "up" or "down"
    checked: str  # "YYYY-MM-DD HH:MM UTC"
    history: tuple[str, ...]  # the last HISTORY checks, oldest first
    valid: bool = True


@dataclass(frozen=True)
class Entry:
    slug: str  # public id: a number
    name: str
    category: str
    description: str
    addresses: tuple[Address, ...]
    verified: bool
    service: str = ""  # the lab service behind the link ("" for dead or broken links)
    fingerprint: str = ""  # the site's signing key, where it publishes one
    note: str = ""  # e.g. "exit scam 2026-05-04"
    submitted: bool = False  # added by a user, never reviewed
    reports: int = 0  # phishing reports received

    @property
    def status(self) -> str:
        return self.addresses[0].status


@dataclass(frozen=True)
class Alert:
    """An entry of ``/warnings``."""

    kind: str  # "phishing" or "exit-scam"
    onion: str  # the address warned about
    subject: str  # whom it imitates, or the dead market's name
    real_onion: str  # the genuine address ("" when there is none)
    reported: str  # YYYY-MM-DD
    text: str


@dataclass(frozen=True)
class DirectoryContent:
    categories: tuple[Category, ...]
    entries: tuple[Entry, ...]
    alerts: tuple[Alert, ...]
    updated: str  # "YYYY-MM-DD HH:MM UTC"

    def entry(self, slug: str) -> Entry:
        return find_by(self.entries, "slug", slug)

    def in_category(self, slug: str) -> list[Entry]:
        chosen = [e for e in self.entries if e.category == slug]
        return sorted(chosen, key=lambda e: (not e.verified, e.status != "up", e.name.lower()))
