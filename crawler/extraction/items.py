"""Runs the plugins over pages and over a whole run: extract, normalise, then link.

The one place that drives the item hooks of :mod:`onionlab.crawler.hookspecs`, shared by the spider,
the end of a crawl and ``onionlab extract``. Depends on :mod:`onionlab.crawler.pluginmanager` and
:mod:`onionlab.crawler.items`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import pluggy
from scrapy.http import TextResponse

from onionlab.crawler import default_settings
from onionlab.crawler.extraction.runitems import RunItems
from onionlab.crawler.items import Item
from onionlab.crawler.pluginmanager import MALFORMED, StatsLike, call_each
from onionlab.crawler.runs.rundir import AppendFile, RunDir, encode_lines, index_for

LINKED_KINDS = ("listing", "vendor", "identifier")
"""The item kinds :func:`link_items` hands to ``onionlab_link_items``."""
logger = logging.getLogger(__name__)
plugins_logger = logging.getLogger("onionlab.crawler.pluginmanager")


MAX_ITEMS_PER_PAGE: int = default_settings.default("ONIONLAB_MAX_ITEMS_PER_PAGE")
"""Default cap on the items one page may give (``ONIONLAB_MAX_ITEMS_PER_PAGE``)."""


def _count(stats: StatsLike | None, *keys: str) -> None:
    if stats is not None:
        for key in keys:
            stats.inc_value(key)


def _failed(name: str, hook: str, what: str) -> None:
    # The wording and logger of onionlab.crawler.pluginmanager.call_each: `onionlab plugins test`
    # and onionlab.crawler.kit.testing report these like a plugin that raised.
    plugins_logger.error("plugin %r failed in %s: %s", name, hook, what)


def _items_of(name: str, hook: str, result: Any, stats: StatsLike | None) -> list[Item]:
    """The items of one plugin's answer; anything else in it is counted, never kept silently.

    A non-iterable answer, an entry that is not an onionlab item, or an iterable failing
    half-way counts ``onionlab/dropped/malformed_result`` and ``plugins/<name>/errors``.
    """
    if result is None:
        return []
    if isinstance(result, (str, bytes, dict)) or not isinstance(result, Iterable):
        _count(stats, MALFORMED, f"plugins/{name}/errors")
        _failed(name, hook, f"malformed result: {type(result).__name__}, not items")
        return []
    items: list[Item] = []
    try:
        for entry in result:
            if isinstance(entry, Item):
                items.append(entry)
            else:
                _count(stats, MALFORMED, f"plugins/{name}/errors")
                _failed(name, hook, f"malformed result: a {type(entry).__name__}, not an item")
    except MemoryError:
        raise
    except Exception as exc:
        _count(stats, MALFORMED, f"plugins/{name}/errors")
        _failed(name, hook, f"malformed result: failed half-way: {exc!r}")
    return items


def serialised(item: Item) -> str:
    """The item's document as the run directory stores it (JSON in UTF-8; raises
    ``TypeError``/``ValueError`` if it cannot be: a ``datetime``, a lone surrogate, …)."""
    text = json.dumps(item.to_doc(), ensure_ascii=False, sort_keys=True)
    text.encode("utf-8")  # a lone surrogate cannot be written
    return text


def drop_over_cap(
    found: list[Any], cap: int, what: str, url: str, stats: StatsLike | None = None
) -> None:
    """Cut ``found`` (a page's ``what``: items, links) to ``cap`` (0: no cap); the excess is
    counted ``onionlab/dropped/<what>_per_page`` and logged."""
    if not cap or len(found) <= cap:
        return
    if stats is not None:
        stats.inc_value(f"onionlab/dropped/{what}_per_page", len(found) - cap)
    logger.warning(
        "%s: %d %s, over the cap of %d per page; the rest dropped", url, len(found), what, cap
    )
    del found[cap:]


def extract_docs(
    pm: pluggy.PluginManager,
    response: TextResponse,
    stats: StatsLike | None = None,
    only: Callable[[str], bool] | None = None,
    max_items: int = 0,
) -> list[tuple[Item, str]]:
    """Like :func:`extract_items`, with each item's JSON document (serialised once)."""
    found: list[tuple[str, Item]] = []
    for name, result in call_each(
        pm, "onionlab_extract", stats=stats, only=only, response=response
    ):
        found.extend((name, item) for item in _items_of(name, "onionlab_extract", result, stats))
    drop_over_cap(found, max_items, "items", response.url, stats)
    for _name, item in found:
        for _n, _result in call_each(
            pm, "onionlab_normalize_item", stats=stats, only=only, item=item
        ):
            pass
    kept: list[tuple[Item, str]] = []
    for name, item in found:
        try:
            kept.append((item, serialised(item)))
        except (TypeError, ValueError) as exc:  # e.g. a datetime in ``extra``
            _count(stats, "onionlab/dropped/item_unserialisable", f"plugins/{name}/errors")
            _failed(
                name, "onionlab_extract", f"a {item.kind} that cannot be saved: {exc} (dropped)"
            )
    return kept


def extract_items(
    pm: pluggy.PluginManager,
    response: TextResponse,
    stats: StatsLike | None = None,
    only: Callable[[str], bool] | None = None,
    max_items: int = 0,
) -> list[Item]:
    """Every plugin's items for one page, each normalised by every plugin.

    ``only`` limits both steps to the plugins it accepts by name (a site's profile);
    ``max_items`` (0: no cap) caps the items the page may give, the excess counted as
    ``onionlab/dropped/items_per_page``. Malformed answers are counted as
    ``onionlab/dropped/malformed_result`` and an item that cannot be serialised to JSON as
    ``onionlab/dropped/item_unserialisable``, both also as ``plugins/<name>/errors``.
    """
    return [item for item, _doc in extract_docs(pm, response, stats, only, max_items)]


def link_items(
    pm: pluggy.PluginManager, items: list[Item], stats: StatsLike | None = None
) -> list[Item]:
    """The items every plugin derives from the whole set (e.g. vendor identities)."""
    linked: list[Item] = []
    for name, result in call_each(pm, "onionlab_link_items", stats=stats, items=items):
        linked.extend(_items_of(name, "onionlab_link_items", result, stats))
    return linked


def link_run(pm: pluggy.PluginManager, run: RunDir, stats: StatsLike | None = None) -> int:
    """Link every item of a finished run (all sessions) and append the results to it.

    :return: the number of items written.
    """
    # The items are read from disk as the plugins iterate them, never all held at once.
    items = RunItems(run, LINKED_KINDS)
    linked = link_items(pm, items, stats)
    # Serialise everything first, then append it in one write: a document that is not
    # JSON data is counted and left out, and a failed write (disk full) leaves nothing
    # half-written (onionlab.crawler.runs.rundir.AppendFile) and raises WriteFailed.
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
