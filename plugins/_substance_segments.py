"""The content blocks of a page, as the substances plugin reads them (:func:`segments`).

HTML without its chrome (navigation, headers, footers, side bars, forms), or plain text by
lines; PGP blocks left out. A heading, or a short line with a quantity, is a product name
(:attr:`Segment.product`). Depends on :mod:`onionlab.plugins._substance_tokens`, Scrapy and
the standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from scrapy.http import HtmlResponse, TextResponse

from onionlab.plugins._substance_tokens import normal, tokenize

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
_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})
_MAX_PRODUCT_TOKENS = 12
_ENTER, _TAIL, _LEAVE = 0, 1, 2  # the steps of the walk over a page's elements (segments)


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
        return bool(QUANTITY.search(self.text)) and len(tokenize(self.text)) <= _MAX_PRODUCT_TOKENS


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

    # Depth first, with a stack of what is left to do rather than recursion: markup nested
    # thousands deep (which lxml parses) would exceed Python's recursion limit.
    todo: list[tuple[int, Any]] = [(_ENTER, response.selector.root)]
    while todo:
        step, element = todo.pop()
        if step == _TAIL:
            if element.tail:
                buffer.append(element.tail)
            continue
        tag = element.tag
        tag = tag.lower() if isinstance(tag, str) else ""
        if step == _LEAVE:
            flush(heading=tag in _HEADINGS)
            continue
        if not tag or tag in _SKIP:
            continue
        block = tag in _BLOCKS
        if block:
            flush()
            todo.append((_LEAVE, element))
        if element.text:
            buffer.append(element.text)
        for child in reversed(element):
            todo.append((_TAIL, child))
            todo.append((_ENTER, child))
    flush()
    return out
