"""A page's work (title, plugins' items, hidden links, links), the page parsed once.

Every fetched HTML or text page is parsed once, by :func:`work_on_page`: its title, every
allowed plugin's items (extracted, normalised, serialised:
:mod:`onionlab.crawler.extraction.items`), the number of links hidden from humans, and the
visible links to follow. The result is plain data (JSON documents and URLs), the same in a
worker process (:mod:`onionlab.crawler.extraction.worker`) and in-process. Over
``ONIONLAB_MAX_LINKS_PER_PAGE`` links (5,000), the excess is counted
``onionlab/dropped/links_per_page``. Depends on Scrapy, lxml,
:mod:`onionlab.crawler.pluginmanager` and :mod:`onionlab.crawler.extraction.items`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
from lxml import etree
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from onionlab.crawler import default_settings
from onionlab.crawler.extraction.items import MAX_ITEMS_PER_PAGE, drop_over_cap, extract_docs
from onionlab.crawler.extraction.links import OnionLinkExtractor
from onionlab.crawler.pluginmanager import StatsLike, call_first

MAX_LINKS_PER_PAGE: int = default_settings.default("ONIONLAB_MAX_LINKS_PER_PAGE")

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STYLE = f"translate(@style, '{_UPPER} \t\n\r', '{_UPPER.lower()}')"
# An element a human cannot see: the ``hidden`` attribute or an inline style hiding it.
HIDDEN = f"@hidden or contains({_STYLE}, 'display:none') or contains({_STYLE}, 'visibility:hidden')"
_HIDDEN_ELEMENTS = etree.XPath(f"//*[{HIDDEN}]")
_HIDDEN_BELOW = etree.XPath(f"descendant::*[{HIDDEN}]")
_LINKS_WITH_HREF = etree.XPath("descendant-or-self::*[self::a or self::area][@href]")


def cut_hidden(root: Any) -> int:
    """Remove every subtree a human cannot see from the parsed page; return how many links
    with an ``href`` they held.

    Linear in the page: hidden elements are found by one XPath pass, and each hidden
    subtree is visited once (a hidden element inside another is skipped). The links left
    in the tree are exactly those with no hidden ancestor (the spider's old
    ``ancestor-or-self`` test, which cost O(links × depth): 18 s on 2,000-deep nesting).
    The tree is changed: run this last, after everything else that reads the page.
    """
    hidden = _HIDDEN_ELEMENTS(root)
    if not hidden:
        return 0
    inner: set[Any] = set()
    count = 0
    for element in hidden:  # document order: an outer hidden element comes first
        if element in inner:
            continue
        inner.update(_HIDDEN_BELOW(element))
        count += len(_LINKS_WITH_HREF(element))
        parent = element.getparent()
        if parent is None:  # the whole page is hidden
            for child in list(element):
                element.remove(child)
        else:
            parent.remove(element)  # its tail text goes too: links do not need it
    return count


@dataclass
class PageOutcome:
    """What the work on one page gives: plain data, the same in a worker and in-process."""

    title: str = ""
    docs: list[str] = field(default_factory=list)  # the items' JSON documents
    hidden: int = 0
    links: list[str] = field(default_factory=list)
    # What the gate plugins say the page is (onionlab_page_state), when they were asked:
    # an obstacle page (a queue, a CAPTCHA, a login wall) has no items or links.
    state: str | None = None


def work_on_page(
    pm: pluggy.PluginManager,
    response: TextResponse,
    link_extractor: LinkExtractor,
    *,
    stats: StatsLike | None = None,
    only: Callable[[str], bool] | None = None,
    max_items: int = MAX_ITEMS_PER_PAGE,
    max_links: int = MAX_LINKS_PER_PAGE,
    mark: Callable[[str], None] | None = None,
    gate: Callable[[str], bool] | None = None,
    classify: bool = False,
) -> PageOutcome:
    """Title, items, hidden-link count and visible links of one page, the page parsed once.

    With ``classify``, the gate plugins (those ``gate`` allows; all when it is None) are
    asked first what the page is (``onionlab_page_state``, as
    :class:`onionlab.crawler.downloadermiddlewares.gate.ObstacleGate` would): an obstacle
    page gives only its ``state``. ``mark(phase)`` is told what runs (``"(title)"``,
    ``"(links)"``; plugins are named by :func:`onionlab.crawler.pluginmanager.observe_calls`).
    """
    mark = mark or (lambda _phase: None)
    if classify:
        state = call_first(pm, "onionlab_page_state", stats=stats, only=gate, response=response)
        if state is not None:
            return PageOutcome(state=str(state))
    mark("(title)")
    outcome = PageOutcome(title=(response.css("title::text").get() or "").strip())
    outcome.docs = [doc for _item, doc in extract_docs(pm, response, stats, only, max_items)]
    mark("(links)")
    outcome.hidden = cut_hidden(response.selector.root)
    if isinstance(link_extractor, OnionLinkExtractor):
        links = link_extractor.urls(response, limit=max_links)
    else:
        links = [link.url for link in link_extractor.extract_links(response)]
    drop_over_cap(links, max_links, "links", response.url, stats)
    outcome.links = links
    return outcome


def link_extractor_for(domains: Iterable[str]) -> OnionLinkExtractor:
    """The spider's link extractor: links to the given hosts (and ``host:port`` forms)."""
    return OnionLinkExtractor(domains)


class CountingStats:
    """A minimal stats collector: increments, to be merged into the crawl's."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count
