"""Linear-time stand-ins for the "from an opening to its closing" patterns of the plugins.

A private helper of the built-in plugins (``pgp_keys``, ``contacts``). A lazy
``BEGIN.*?END`` regex, or ``<[^>]*>``, searched over a page is quadratic on a hostile one:
every opening without a closing scans to the end of the text, and 4,000 of them take
seconds. These functions give the same matches as those regexes (the tests compare them)
while reading the text a bounded number of times: an opening that has no closing tells that
no later opening of the same kind has one either. Depends on the standard library only.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator

_ARMOR_BEGIN = re.compile(r"-----BEGIN PGP ([A-Z ,/0-9]+)-----")
# Every END line, overlapping ones too ("-----END PGP A-----END PGP B-----" ends A and B).
_ARMOR_END = re.compile(r"(?=-----END PGP ([A-Z ,/0-9]+)-----)")
_ARMOR_END_LINE = "-----END PGP "  # what every match of _ARMOR_END holds
_SCRIPT_OR_STYLE_OPENING = re.compile(r"<(script|style)\b", re.I)


def delimited(text: str, begin: str, end: str) -> Iterator[tuple[int, int, int, int]]:
    """The spans of ``re.finditer(re.escape(begin) + "(.*?)" + re.escape(end), text, re.S)``.

    Yields ``(start, body start, body end, end)`` of each match, in text order.
    """
    pos = 0
    while (start := text.find(begin, pos)) != -1:
        stop = text.find(end, start + len(begin))
        if stop == -1:
            return  # no END after this BEGIN, so none after any later one
        yield start, start + len(begin), stop, stop + len(end)
        pos = stop + len(end)


def armor_spans(text: str) -> Iterator[tuple[int, int]]:
    """The spans of ``-----BEGIN PGP (label)-----.*?-----END PGP \\1-----`` (re.S) matches.

    Each END line is found once and indexed by its label; each BEGIN line then takes the
    first END of its label after it (a binary search), as the lazy regex would.
    """
    ends: dict[str, list[int]] = {}
    # (_ARMOR_END begins with a look-ahead, so it is tried at every position: a text without
    # an END line, most of them, is not searched by it.)
    if _ARMOR_END_LINE in text:
        for found in _ARMOR_END.finditer(text):
            ends.setdefault(found.group(1), []).append(found.start())
    pos = 0
    while (begin := _ARMOR_BEGIN.search(text, pos)) is not None:
        label = begin.group(1)
        at = ends.get(label, [])
        k = bisect.bisect_left(at, begin.end())
        if k == len(at):
            pos = begin.start() + 1  # unterminated: the next BEGIN may still close
            continue
        stop = at[k] + len("-----END PGP -----") + len(label)
        yield begin.start(), stop
        pos = stop


def sub_spans(text: str, spans: Iterator[tuple[int, int]], repl: Callable[[str], str]) -> str:
    """``text`` with each of the (ordered, disjoint) ``spans`` replaced by ``repl(span text)``."""
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(repl(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def script_or_style_spans(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """The spans of ``pattern`` (``<(script|style)\\b.*?</\\1\\s*>``, re.S | re.I) matches.

    The pattern is tried only at openings, and not again for a tag name (as spelt, case
    aside) that already failed to close: its closing tag is not in the rest of the text.
    """
    unclosed: set[str] = set()
    pos = 0
    while (opening := _SCRIPT_OR_STYLE_OPENING.search(text, pos)) is not None:
        name = opening.group(1).lower()
        if name not in unclosed:
            match = pattern.match(text, opening.start())
            if match is not None:
                yield match.start(), match.end()
                pos = match.end()
                continue
            unclosed.add(name)
        pos = opening.start() + 1


def sub_tags(pattern: re.Pattern[str], repl: str, text: str) -> str:
    """``pattern.sub(repl, text)`` for a tag pattern ending in ``[^>]*>``: only up to the last
    ``>`` (no match can end past it, and a ``<`` after it would scan to the end in vain).
    """
    cut = text.rfind(">") + 1
    return pattern.sub(repl, text[:cut]) + text[cut:]
