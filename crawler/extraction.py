"""Runs the plugins over pages and over a whole run: extract, normalise, then link.

The one place that drives the item hooks of :mod:`crawler.hookspecs`, shared by the spider,
the end of a crawl and ``onionlab extract``. Depends on :mod:`crawler.plugins` and
:mod:`crawler.items`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pluggy
from scrapy.http import TextResponse

from crawler.items import ITEM_TYPES, Item
from crawler.plugins import StatsLike, call_each
from crawler.rundir import AppendFile, RunDir, encode_lines, index_for

LINKED_KINDS = ("listing", "vendor", "identifier")
"""The item kinds :func:`link_items` hands to ``onionlab_link_items``."""


def extract_items(
    pm: pluggy.PluginManager,
    response: TextResponse,
    stats: StatsLike | None = None,
    only: Callable[[str], bool] | None = None,
) -> list[Item]:
    """Every plugin's items for one page, each normalised by every plugin.

    ``only`` limits both steps to the plugins it accepts by name (a site's profile).
    """
    items: list[Item] = []
    for _name, result in call_each(
        pm, "onionlab_extract", stats=stats, only=only, response=response
    ):
        items.extend(item for item in result or () if isinstance(item, Item))
    for item in items:
        for _name, _result in call_each(
            pm, "onionlab_normalize_item", stats=stats, only=only, item=item
        ):
            pass
    return items


def link_items(
    pm: pluggy.PluginManager, items: list[Item], stats: StatsLike | None = None
) -> list[Item]:
    """The items every plugin derives from the whole set (e.g. vendor identities)."""
    linked: list[Item] = []
    for _name, result in call_each(pm, "onionlab_link_items", stats=stats, items=items):
        linked.extend(item for item in result or () if isinstance(item, Item))
    return linked


def item_from_doc(doc: dict[str, Any]) -> Item | None:
    """Rebuild an item from its run-directory document (``None`` for an unknown kind)."""
    cls = ITEM_TYPES.get(doc.get("kind", ""))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}  # ClassVars such as ``kind`` excluded
    fields = {k: v for k, v in doc.items() if k in names}
    try:
        return cls(**fields)
    except TypeError:
        return None


def link_run(pm: pluggy.PluginManager, run: RunDir, stats: StatsLike | None = None) -> int:
    """Link every item of a finished run (all sessions) and append the results to it.

    :return: the number of items written.
    """
    items: list[Item] = []
    for kind in LINKED_KINDS:
        items.extend(i for i in map(item_from_doc, run.documents(kind)) if i is not None)
    linked = link_items(pm, items, stats)
    # Serialise everything first, then append it in one write: a document that is not
    # JSON data is counted and left out, and a failed write (disk full) leaves nothing
    # half-written (crawler.rundir.AppendFile) and raises WriteFailed.
    text: list[bytes] = []
    kinds: list[str] = []
    for item in linked:
        action = {"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}
        try:
            text.append(encode_lines(action, item.to_doc()))
        except (TypeError, ValueError):
            if stats is not None:
                stats.inc_value("onionlab/dropped/item_unserialisable")
            continue
        kinds.append(item.kind)
    if text:
        out = AppendFile(run.items)
        try:
            out.write(b"".join(text))
        finally:
            out.close()
    if stats is not None:
        for kind in kinds:
            stats.inc_value(f"onionlab/items/{kind}")
    return len(kinds)
