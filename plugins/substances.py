"""Recognises drug names in listings and page text, and gives each its canonical name.

A built-in plugin, written like an instructor's: it imports only the public plugin API
(``onionlab.hookimpl``, the item types), its own helper modules, Scrapy, ``pymorphy3`` (Russian
lemmas) and the standard library. The vocabulary is data, ``plugins/data/substances.toml``:
canonical names with their names, codes, slang, cues and the words that are ambiguous or mere
quality tags. This module holds the hooks and what they do with a page or a listing; the
reading is done by ``_substance_tokens`` (tokens and their keys), ``_substance_vocabulary``
(the vocabulary and :class:`Reading`) and ``_substance_segments`` (a page's content blocks).

How a text is read (:meth:`Vocabulary.read`):

* **Tokens** are runs of letters or of digits, so "3-MMC", "3 MMC" and "3MMC" read alike;
  α/alpha/альфа (and "a-" before a code) read as α; Cyrillic letters drawn like Latin ones
  are folded ("4-ММС" = "4-MMC"); Russian words are matched by their pymorphy3 lemmas
  («мефедрона» = «мефедрон»), and slang the dictionary does not know by stripping a case
  ending («мефа» = «меф»). Long letter-and-digit strings (addresses, keys) are skipped.
* **Names** count anywhere; **slang** («мёд», "ice") only in a product name; an
  **ambiguous** word («соль», «мет», "molly") only when, in a product name, the other words
  (a name, a cue such as «мокрый» or «афган», another ambiguous word) or the listing's
  category leave exactly one candidate. Otherwise it is reported as unresolved, never
  guessed. **Tags** (VHQ, «крис», «мука») are attributes, never substances.

Hooks: ``onionlab_extract`` emits one ``Entity(type="substance")`` per substance a page
names, reading the page's content (navigation, headers, footers, side bars, forms and PGP
blocks left out; headings and short lines with a quantity count as product names).
``onionlab_normalize_item`` gives a listing without a canonical ``substance`` one, from the
site's wording or its title, keeping the wording in ``extra["substance_raw"]``; a listing
whose substance is already canonical is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Entity, Item, Listing
from onionlab.plugins._substance_segments import QUANTITY, segments
from onionlab.plugins._substance_vocabulary import VOCABULARY_FILE, Reading, Vocabulary, vocabulary

__all__ = [
    "VOCABULARY_FILE",
    "Reading",
    "Vocabulary",
    "normalize_listing",
    "onionlab_extract",
    "onionlab_index_fields",
    "onionlab_normalize_item",
    "page_substances",
    "vocabulary",
]

_QUANTITY = QUANTITY  # the name prices.py and tests/plugins/test_linear_patterns.py know it by


# --- pages -------------------------------------------------------------------------------


def _context(text: str, start: int, end: int, width: int = 60) -> str:
    return text[max(0, start - width) : end + width].strip()


def page_substances(response: TextResponse) -> Iterator[Entity]:
    """One entity per substance the page's content names, with its first mention as context."""
    site = (urlsplit(response.url).hostname or "").lower()
    vocab = vocabulary()
    seen: dict[str, Entity] = {}
    for segment in segments(response):
        product = segment.product and not vocab.is_department(segment.text)
        reading = vocab.read(segment.text, product=product)
        for canonical, mention in reading.substances.items():
            if canonical in seen:
                seen[canonical].extra["mentions"] += 1
                continue
            extra: dict[str, Any] = {"term": mention.surface, "mentions": 1}
            if canonical in reading.resolved:
                extra["resolved"] = reading.resolved[canonical]
            seen[canonical] = Entity(
                type="substance",
                value=canonical,
                url=response.url,
                site=site,
                context=_context(segment.text, mention.start, mention.end),
                extra=extra,
            )
    yield from seen.values()


# --- listings ----------------------------------------------------------------------------


def normalize_listing(listing: Listing) -> None:
    """Give ``listing`` its canonical substance if the site's wording or title names one."""
    vocab = vocabulary()
    if vocab.is_canonical(listing.substance):
        return
    readings = [
        vocab.read(text, product=True, category=listing.category)
        for text in (listing.substance, listing.title)
        if text
    ]
    title = readings[-1] if listing.title else None
    if title is not None and title.tags:
        listing.extra.setdefault("substance_tags", title.tags)
    for reading in readings:
        canonical = reading.single
        if canonical is None:
            continue
        raw = listing.substance or reading.substances[canonical].surface
        listing.substance = canonical
        listing.extra["substance_raw"] = raw
        if canonical in reading.resolved:
            listing.extra["substance_resolved"] = reading.resolved[canonical]
        return
    candidates = sorted({c for reading in readings for c in reading.candidates()})
    if candidates:
        listing.extra["substance_candidates"] = candidates


# --- hooks -------------------------------------------------------------------------------


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterable[Item] | None:
    entities = list(page_substances(response))
    return entities or None


@hookimpl
def onionlab_normalize_item(item: Item) -> None:
    if isinstance(item, Listing):
        normalize_listing(item)


@hookimpl
def onionlab_index_fields() -> dict[str, dict[str, Any]]:
    keyword = {"type": "keyword"}
    return {
        "listing": {
            "substance_raw": keyword,
            "substance_candidates": keyword,
            "substance_resolved": {"type": "text"},
            "substance_tags": keyword,
        },
        "identifier": {"term": keyword, "mentions": {"type": "integer"}},
    }
