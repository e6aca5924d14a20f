"""The content blocks of a page, as the substances plugin reads them (:func:`segments`).

HTML without its chrome (navigation, headers, footers, side bars, forms), or plain text by
lines; PGP blocks left out. A heading, or a short line with a quantity, is a product name
(:attr:`Segment.product`). Depends on :mod:`onionlab.plugins._substance_tokens`, Scrapy (and
the lxml tree under its selectors, walked with ``lxml.etree.iterwalk``) and the standard
library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from scrapy.http import HtmlResponse, TextResponse

from onionlab.plugins._substance_tokens import normal, token_count

# Starts only where a number does ("(?<!\d)"): a start inside one has no way to match that
# its start lacks, and without it a long run of digits is read once per digit (quadratic).
QUANTITY = re.compile(
    r"(?<!\d)\d+(?:[.,]\d+)?\s*(?:kg|кг|g|gr|gram|grams|г|гр|грамм|mg|мг|oz|ml|мл|шт|pcs|tabs?|pills?"
    r"|blotters?|caps)(?![^\W\d_])",
    re.IGNORECASE,
)
# Page chrome that repeats on every page, and text that is not content.
_SKIP = frozenset({"head", "script", "style", "template", "noscript", "nav", "header", "footer",
                   "aside", "form", "select", "option", "button"})  # fmt: skip
_BLOCKS = frozenset({"address", "article", "blockquote", "body", "br", "caption", "dd", "div",
                     "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
                     "h6", "hr", "li", "main", "ol", "p", "pre", "section", "table", "tbody",
                     "td", "tfoot", "th", "thead", "tr", "ul"})  # fmt: skip
_LEAVING = _BLOCKS - _SKIP  # blocks whose end is reached inside the walk (all of them)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})
_MAX_PRODUCT_TOKENS = 12
_EVENTS = ("start", "end", "comment", "pi")  # what the walk over a page reports (segments)


@dataclass(frozen=True, slots=True)
class Segment:
    """A block of a page's text; ``heading`` when it is a heading (a product name)."""

    text: str
    heading: bool = False

    @property
    def product(self) -> bool:
        """A heading, or a short line with a quantity ("Скорость мокрый 0.5г")."""
        if self.heading:
            return True
        return bool(QUANTITY.search(self.text)) and token_count(self.text) <= _MAX_PRODUCT_TOKENS


def segments(response: TextResponse) -> list[Segment]:
    """The content blocks of a page: HTML without its chrome, or plain text by lines."""
    if not isinstance(response, HtmlResponse):
        lines = (normal(" ".join(line.split())) for line in response.text.splitlines())
        return [Segment(line) for line in lines if line and "BEGIN PGP" not in line]
    out: list[Segment] = []
    buffer: list[str] = []

    # Hot (every element of every page): empty texts are never buffered (whitespace is
    # collapsed anyway) and a block with no text is not normalised.
    def flush(heading: bool = False) -> None:
        if not buffer:
            return
        text = " ".join(" ".join(buffer).split())
        buffer.clear()
        if text:
            text = normal(text)
        if text and "BEGIN PGP" not in text:
            out.append(Segment(text, heading))

    # One depth-first walk by lxml's iterwalk (in C, without recursion: markup nested
    # thousands deep, which lxml parses, is read like any other). Each element starts, its
    # children follow, then it ends; its tail comes after its end. A skipped element's
    # subtree is not entered, but its end (and so its tail) still comes; a comment or
    # processing instruction is one event, of which only the tail is text.
    root = response.selector.root
    walker = etree.iterwalk(root, events=_EVENTS)
    for event, element in walker:
        if event == "start":
            tag = element.tag
            tag = tag.lower() if isinstance(tag, str) else ""
            if not tag or tag in _SKIP:
                walker.skip_subtree()
                continue
            if tag in _BLOCKS:
                flush()
            if element.text:
                buffer.append(element.text)
            continue
        if event == "end":
            tag = element.tag
            tag = tag.lower() if isinstance(tag, str) else ""
            if tag in _LEAVING:
                flush(heading=tag in _HEADINGS)
            if element is root:
                continue  # the root's tail is outside the page
        if element.tail:
            buffer.append(element.tail)
    flush()
    return out
