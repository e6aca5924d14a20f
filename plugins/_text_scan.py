"""Finds identifier-shaped strings in what a page shows, undoing common obfuscations.

A private helper of the built-in identifier plugins (crypto addresses, onions, …), generic
so any of them can reuse it: the visible text of an HTML or plain-text response, cleaned of
zero-width characters, then searched three ways — as shown, with line breaks inside a token
rejoined (an address wrapped or split over ``<br>``/``<span>``), and with Cyrillic
homoglyphs in Latin tokens folded. Matches of the two de-obfuscated views say how they were
found, so a caller can demand a checksum before trusting them. Depends on Scrapy (and the
lxml tree under its selectors) only.
"""

from __future__ import annotations

import bisect
import functools
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from scrapy.http import HtmlResponse, TextResponse

SHOWN = ""
"""``Match.obfuscation`` of a match found in the text as shown."""
LINE_BREAK = "line-break"
"""``Match.obfuscation`` of a match found only after rejoining a token split across lines."""
HOMOGLYPH = "homoglyph"
"""``Match.obfuscation`` of a match found only after folding Cyrillic look-alike letters."""

# The text nodes a reader sees: not those of scripts, styles or inert templates. Compiled
# once, and without lxml's "smart" strings: those build an element proxy per text node
# (through lxml.html's Python class lookup), which cost more than the query itself.
# "not(ancestor::…)" costs each text node its depth, so this asks only the parent, which is
# the same where no script or style holds an element (lxml's HTML parser gives them text
# only) and there is no template. Even so, libxml2 puts a node set in document order at a
# cost that grows with the tree's depth (20,000 text nodes 2,000 deep: 0.3 s), so a page
# nested deeper than _SHALLOW, or one where ancestors matter, is read by one walk over the
# tree instead (_walk_visible_text), as are its links. Every path is linear.
_VISIBLE_TEXT = etree.XPath("//text()[not(parent::script or parent::style)]", smart_strings=False)
_ANCESTORS_MATTER = etree.XPath("boolean(//template | //script/* | //style/*)")
_SHALLOW = 64  # levels of elements under the root (the lab's pages have fewer than 20)
_DEEP = etree.XPath("boolean(" + "/".join(["*"] * _SHALLOW) + ")")
_HIDING = frozenset({"script", "style", "template"})
_PAGE_TEXT: weakref.WeakKeyDictionary[TextResponse, str] = weakref.WeakKeyDictionary()
_LINKS = etree.XPath("//a/@href | //area/@href", smart_strings=False)
# Invisible characters sometimes put inside identifiers to defeat copy/paste and regexes,
# and no-break spaces; replaced by one regex pass each (str.translate with a dict is slow).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\u00a0\u2007\u202f]")
# A chain of letter/digit pieces with a line break between each two. Linear: it starts only
# where a token does (a start inside a token fails as the token's own start does) and its
# quantifiers are possessive (each class is disjoint from what follows it), so a long token
# is read once, not once per character.
_BROKEN_TOKENS = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]++(?:[ \t]*+\n\s*+[0-9A-Za-z]++)+")
_PIECE = re.compile(r"[0-9A-Za-z]+")
# Rejoined runs are tried between these lengths: from the shortest identifier worth rebuilding
# to more than the longest (a Monero integrated address has 106 characters).
_MIN_REJOINED, _MAX_REJOINED = 16, 128
# At most this many characters of rejoined runs per text. Every run of 16-128 characters of
# every chain is a candidate, so a page of one-character lines makes ~112 per character (a
# 40 KB page: 2 million runs, 1.3 GB). The lab's largest page makes 20 K characters of runs;
# past this budget the longest chains (where a flood is) are left out first, so an identifier
# split over the lines of an ordinary chain is still found beside a flood.
_MAX_REJOINED_CHARS = 1 << 17
_REJOINED_CONTEXT = 100  # text kept either side of a rejoined match (for context and labels)
_WHITESPACE = re.compile(r"\s+")
# Cyrillic letters drawn like Latin ones (upper and lower case), folded to the Latin letter.
_HOMOGLYPHS = str.maketrans(
    "АВЕКМНОРСТУХЅІЈаеорсухѕіјԁһӏ",
    "ABEKMHOPCTYXSIJaeopcyxsijdhl",
)
_CYRILLIC = re.compile(r"[\u0400-\u052f]")
# A token of Latin letters/digits and Cyrillic letters that holds both.
_MIXED_TOKEN = re.compile(
    r"(?<![0-9A-Za-z\u0400-\u052f])(?=[\u0400-\u052f]*[0-9A-Za-z])(?=[0-9A-Za-z]*[\u0400-\u052f])"
    r"[0-9A-Za-z\u0400-\u052f]+"
)


@dataclass(frozen=True, slots=True)
class Match:
    """One match of a pattern in one view of a page's text.

    ``text`` is the view it was found in and ``start``/``end`` its span there;
    ``obfuscation`` is :data:`SHOWN`, :data:`LINE_BREAK` or :data:`HOMOGLYPH`.
    """

    value: str
    text: str
    start: int
    end: int
    obfuscation: str = SHOWN

    def context(self, width: int = 40) -> str:
        """The match with up to ``width`` characters either side, whitespace collapsed."""
        snippet = self.text[max(0, self.start - width) : self.end + width]
        return _WHITESPACE.sub(" ", snippet).strip()


def clean(text: str) -> str:
    """``text`` without invisible characters and with no-break spaces as plain spaces."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text))


def page_text(response: TextResponse) -> str:
    """What ``response`` shows as text: HTML text nodes one per line, or a plain-text body.

    Built once per response: every identifier plugin reads the same page.
    """
    text = _PAGE_TEXT.get(response)
    if text is None:
        if isinstance(response, HtmlResponse):
            root = response.selector.root
            walk = _DEEP(root) or _ANCESTORS_MATTER(root)
            texts = _walk_visible_text(root) if walk else _VISIBLE_TEXT(root)
            text = clean("\n".join(texts))
        else:
            text = clean(response.text)
        _PAGE_TEXT[response] = text
    return text


def _walk_visible_text(root: etree._Element) -> list[str]:
    """``//text()[not(ancestor::script or ancestor::style or ancestor::template)]`` of
    ``root``, in document order, by one depth-first walk (a stack, not recursion).
    """
    found: list[str] = []
    todo: list[tuple[etree._Element, bool, bool]] = [(root, False, False)]  # node, hidden, tail
    while todo:
        node, hidden, tail = todo.pop()
        if tail:  # the text after a node belongs to its parent
            if node.tail and not hidden:
                found.append(node.tail)
            continue
        if not isinstance(node.tag, str):
            continue  # a comment or processing instruction: only its tail is text
        hidden = hidden or node.tag in _HIDING
        if node.text and not hidden:
            found.append(node.text)
        for child in reversed(node):
            todo.append((child, hidden, True))
            todo.append((child, hidden, False))
    return found


def link_targets(response: TextResponse) -> list[str]:
    """The targets of the page's links (``<a href>``, ``<area href>``); none for plain text."""
    if not isinstance(response, HtmlResponse):
        return []
    root = response.selector.root
    if _DEEP(root):  # (see _VISIBLE_TEXT) the same targets, in the same document order
        return [str(a.get("href")).strip() for a in root.iter("a", "area") if "href" in a.attrib]
    return [str(href).strip() for href in _LINKS(root)]


@dataclass(frozen=True, slots=True)
class _Rejoined:
    """The runs of a text's letter/digit pieces that line breaks cut, rejoined.

    ``runs`` holds ``(start, end, joined)``: the span in the text and the pieces without the
    breaks. ``probes`` holds every ``joined`` between the characters around its run (for a
    pattern's look-arounds), one per line, so one regex pass searches them all;
    ``offsets[k]`` is where run ``k``'s ``joined`` starts in ``probes``.
    """

    runs: tuple[tuple[int, int, str], ...]
    probes: str
    offsets: tuple[int, ...]


@functools.lru_cache(maxsize=8)
def _rejoined_runs(text: str) -> _Rejoined:
    """Every run of consecutive pieces (not only whole chains, so two addresses on adjacent
    lines stay two addresses), within :data:`_MAX_REJOINED_CHARS`. Cached: each identifier
    plugin scans the same text.
    """
    # A chain shorter than the shortest run has none (most are two words a tag break cut):
    # it is not split into pieces at all.
    chains = [
        [
            (piece.start(), piece.end())
            for piece in _PIECE.finditer(text, chain.start(), chain.end())
        ]
        for chain in _BROKEN_TOKENS.finditer(text)
        if chain.end() - chain.start() >= _MIN_REJOINED
    ]
    # Chains are rejoined fewest pieces first until the budget is spent, then their runs are
    # listed in text order: under the budget (every page of the lab) all of them, as before.
    kept: dict[int, list[tuple[int, int, str]]] = {}
    budget = _MAX_REJOINED_CHARS
    for index in sorted(range(len(chains)), key=lambda k: len(chains[k])):
        kept[index], budget = _chain_runs(text, chains[index], budget)
        if budget <= 0:
            break
    runs: list[tuple[int, int, str]] = []
    probes: list[str] = []
    offsets: list[int] = []
    size = 0
    for index in sorted(kept):
        for start, end, joined in kept[index]:
            before, after = text[max(0, start - 1) : start], text[end : end + 1]
            runs.append((start, end, joined))
            offsets.append(size + len(before))
            probes.append(before + joined + after)
            size += len(probes[-1]) + 1
    return _Rejoined(tuple(runs), "\n".join(probes), tuple(offsets))


def _chain_runs(
    text: str, pieces: list[tuple[int, int]], budget: int
) -> tuple[list[tuple[int, int, str]], int]:
    """The runs of one chain's ``pieces`` (spans in ``text``) of 16-128 characters, first
    piece by first piece, shortest first; and what is left of ``budget`` (characters) after
    them. Each piece is joined once per run that holds it: linear in the runs' size.
    """
    runs: list[tuple[int, int, str]] = []
    for i, (first_start, first_end) in enumerate(pieces):
        joined = text[first_start:first_end]
        for j in range(i + 1, len(pieces)):
            last_start, last_end = pieces[j]
            joined += text[last_start:last_end]
            if len(joined) > _MAX_REJOINED:
                break
            if len(joined) < _MIN_REJOINED:
                continue
            runs.append((first_start, last_end, joined))
            budget -= len(joined) + 3
            if budget <= 0:
                return runs, budget
    return runs, budget


def _rejoined(pattern: re.Pattern[str], text: str, group: int, seen: set[str]) -> Iterator[Match]:
    """Matches that lie inside a rejoined run (see :class:`_Rejoined`), but for values in
    ``seen`` (which :func:`scan` would drop: most probes repeat values already found, and
    building each one's view text is the costly part).
    """
    rejoined = _rejoined_runs(text)
    for found in pattern.finditer(rejoined.probes):
        value = found.group(group)
        if value in seen:
            continue
        k = bisect.bisect_right(rejoined.offsets, found.start(group)) - 1
        start, end, joined = rejoined.runs[k]
        offset = found.start(group) - rejoined.offsets[k]
        if offset < 0 or offset + len(value) > len(joined):
            continue  # it takes in a character around the run
        before = text[max(0, start - _REJOINED_CONTEXT) : start]
        view = before + joined + text[end : end + _REJOINED_CONTEXT]
        at = len(before) + offset
        yield Match(value, view, at, at + len(value), LINE_BREAK)


@functools.lru_cache(maxsize=8)
def folded(text: str) -> str:
    """``text`` with Cyrillic look-alikes made Latin inside tokens that also hold Latin/digits.

    Russian words are left alone; a character-for-character mapping keeps every offset.
    """
    return _MIXED_TOKEN.sub(lambda token: token.group().translate(_HOMOGLYPHS), text)


def scan(pattern: re.Pattern[str], text: str, group: int = 0) -> Iterator[Match]:
    """Every match of ``pattern`` in ``text``, then those only de-obfuscation reveals.

    ``group`` names the pattern group that is the value. A value found as shown is not
    repeated from another view. The pattern should bound its matches with look-arounds:
    a rejoined match is searched between the characters around the rejoined pieces.
    """
    seen: set[str] = set()
    views: list[Iterator[Match]] = [_matches(pattern, text, group)]
    if "\n" in text:
        views.append(_rejoined(pattern, text, group, seen))
    # A folding that changed nothing finds only values already seen as shown: skip it.
    if _CYRILLIC.search(text) and (homoglyphs := folded(text)) != text:
        views.append(_matches(pattern, homoglyphs, group, HOMOGLYPH))
    for view in views:
        for match in view:
            if match.obfuscation and match.value in seen:
                continue
            seen.add(match.value)
            yield match


def _matches(
    pattern: re.Pattern[str], text: str, group: int, obfuscation: str = SHOWN
) -> Iterator[Match]:
    for found in pattern.finditer(text):
        yield Match(found.group(group), text, found.start(group), found.end(group), obfuscation)
