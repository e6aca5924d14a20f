"""The items of a finished run, as the linking plugins see them: read from disk as iterated.

``onionlab_link_items`` (:mod:`onionlab.crawler.hookspecs`) gets every listing, vendor and
identifier of the run. Held as items they cost about 5 KB a page: the crawl's peak memory
was this end-of-crawl step, 349 MB at 56,000 pages where the crawl itself stayed at 111 MB
(``bench/crawl_memory.py``). :class:`RunItems` holds, per document id, only the line of its
last write (a 64-bit digest of the id → a line number: about 100 bytes a document) and reads
the items from ``items.ndjson`` each time it is iterated, in the order they were written;
what a plugin keeps of them is its own. Depends on the run directory and the item types.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from onionlab.crawler.frontier import digest_of
from onionlab.crawler.items import ITEM_TYPES, Item
from onionlab.crawler.runs.rundir import RunDir, bulk_pairs

_NAMES: dict[type, frozenset[str]] = {}  # an item class -> its field names


def item_from_doc(doc: dict[str, Any]) -> Item | None:
    """Rebuild an item from its run-directory document (``None`` for an unknown kind)."""
    cls = ITEM_TYPES.get(doc.get("kind", ""))
    if cls is None:
        return None
    names = _NAMES.get(cls)
    if names is None:  # ClassVars such as ``kind`` excluded
        names = _NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))
    fields = {k: v for k, v in doc.items() if k in names}
    try:
        return cls(**fields)
    except TypeError:
        return None


class RunItems(Collection[Item]):
    """The run's documents of ``kinds`` as items, the last write of each id winning (a
    document that is no item of its kind left out); iterable as often as needed."""

    def __init__(self, run: RunDir, kinds: Iterable[str]) -> None:
        self.run = run
        self.kinds = frozenset(kinds)
        last: dict[int, int] = {}  # digest of kind and id -> line of its last write
        for line, action, doc in bulk_pairs(run.items):
            kind = doc.get("kind")
            if kind in self.kinds:
                last[digest_of(f"{kind}\0{next(iter(action.values()))['_id']}")] = line
        self.lines = array("Q", sorted(last.values()))

    def __len__(self) -> int:
        """The documents (one a distinct id); one that is no item is left out when iterated."""
        return len(self.lines)

    def __iter__(self) -> Iterator[Item]:
        wanted = iter(self.lines)
        next_line = next(wanted, None)
        for line, _action, doc in bulk_pairs(self.run.items):
            if next_line is None:
                return
            if line != next_line:
                continue
            next_line = next(wanted, None)
            item = item_from_doc(doc)
            if item is not None:
                yield item

    def __contains__(self, item: object) -> bool:
        return any(item == mine for mine in self)
