"""The crawl frontier's memory, kept compact: which URLs were seen, 8 bytes a slot.

A crawl of millions of pages remembers every URL it scheduled (to not fetch it twice), per
site and per URL family (budgets), and every fingerprint it wrote to the resume ledger.
Python sets of strings cost 100-200 bytes an entry; :class:`DigestSet` keeps a 64-bit digest
of each key in one flat array, open addressing, at most half full: 16-32 bytes an entry,
no object per entry for the garbage collector to walk.

A digest is 64 bits, so two different keys share one with a probability of about
``n² / 2⁶⁵``: for ten million URLs, 3 in a million that one page is taken for another.
Digests of strings use Python's own string hash (SipHash, 64 bits, cached on the string),
which differs between processes: a :class:`DigestSet` lives in one process and is never
saved (what must survive a crash is written by :mod:`onionlab.crawler.runs.ledger` and
Scrapy's ``requests.seen``, in full). Fingerprints, already hashes, use their first 8 bytes.

:class:`KnownLinks` is the spider's first filter: a link whose URL was already scheduled is
not made into a request at all (on the lab, 94 % of the links a page yields), so the
spider middlewares, the scheduler and its duplicate filter only see links that may be new.
Depends on the standard library and Scrapy's signals.
"""

from __future__ import annotations

from array import array
from typing import Any

_MASK = (1 << 64) - 1
_START = 1 << 10  # slots; the array doubles when half full


def digest_of(key: str) -> int:
    """A string's 64-bit digest in this process (never 0: 0 marks an empty slot)."""
    return (hash(key) & _MASK) or 1


def digest_of_hex(fingerprint: str) -> int:
    """A request fingerprint's digest, from its hex form (the resume ledger's ``fp``): its
    first 8 bytes, already a hash (never 0)."""
    return int(fingerprint[:16], 16) or 1


class DigestSet:
    """A set of 64-bit digests (:func:`digest_of`) in one array of unsigned 64-bit slots."""

    __slots__ = ("_count", "_mask", "_slots")

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * _START))
        self._mask = _START - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: str) -> bool:
        return self.has_digest(digest_of(key))

    def add(self, key: str) -> bool:
        """Add ``key``; True if it was not there yet."""
        return self.add_digest(digest_of(key))

    def _find(self, digest: int) -> int:
        """The slot holding ``digest``, or the empty slot where it would go."""
        slots, mask = self._slots, self._mask
        index = digest & mask
        while True:
            value = slots[index]
            if value == digest or value == 0:
                return index
            index = (index + 1) & mask

    def has_digest(self, digest: int) -> bool:
        return self._slots[self._find(digest)] == digest

    def add_digest(self, digest: int) -> bool:
        """Add one digest (non-zero); True if it was not there yet."""
        index = self._find(digest)
        if self._slots[index] == digest:
            return False
        self._slots[index] = digest
        self._count += 1
        if 2 * self._count > len(self._slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = len(self._slots) - 1
        for value in old:
            if value:
                self._slots[self._find(value)] = value

    @property
    def nbytes(self) -> int:
        """Bytes its array takes."""
        return len(self._slots) * self._slots.itemsize


class KnownLinks:
    """The URLs the engine was given (``request_scheduled``): a link to one of them is
    not made into a request again (the spider counts those as
    ``onionlab/frontier/known_links``).

    Only what reached the engine counts: a link that a middleware dropped (a depth limit,
    a budget) is looked at again the next time a page links to it, exactly as before
    this filter, and a link whose canonical form differs (a session id) is never taken
    for the canonical URL.
    """

    def __init__(self) -> None:
        self.urls = DigestSet()

    def scheduled(self, request: Any, **_: Any) -> None:
        """Scrapy's ``request_scheduled`` signal: remember the URL of a GET."""
        if request.method == "GET":
            self.urls.add(request.url)

    def __contains__(self, url: str) -> bool:
        return url in self.urls

    def __len__(self) -> int:
        return len(self.urls)
