"""The tokens of the substances plugin: runs of letters or digits and the keys they match by.

"3-MMC", "3 MMC" and "3MMC" read alike; α/alpha/альфа (and "a-" before a code) read as α;
Cyrillic letters drawn like Latin ones are folded ("4-ММС" = "4-MMC"); Russian words match by
their pymorphy3 lemmas («мефедрона» = «мефедрон») and, for slang the dictionary lacks, by
their stem («мефа» = «меф»). Long letter-and-digit strings (addresses, keys) are skipped.
Used by :mod:`onionlab.plugins._substance_vocabulary` and ``_substance_segments``; depends
on ``pymorphy3`` (loaded on first use) and the standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

WORD = re.compile(r"[^\W_]+")
_RUN = re.compile(r"\d+|[^\W\d_]+")
_CYRILLIC_WORD = re.compile(r"[а-я]+")
_HYPHEN = re.compile(r"\s?[-‐‑–]\s?")
_ALPHA = frozenset({"α", "alpha", "альфа"})
_ALPHA_LETTER = frozenset({"a", "а"})  # Latin and Cyrillic: α only when hyphenated, "a-PVP"
# Cyrillic (and Greek) letters drawn like Latin ones, folded to the Latin letter (lower case).
_HOMOGLYPHS = str.maketrans("авекмнорстухіјѕԁοριν", "abekmhopctyxijsdopiv")
# Case endings stripped from Russian slang the dictionary does not know («мефа» → «меф»).
_ENDINGS = ("ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ах", "ях", "ам", "ям",
            "ом", "ем", "ой", "ей", "ов", "ев", "ую", "юю", "а", "я", "у", "ю", "е", "ы", "и",
            "о")  # fmt: skip
_LONG_ID = 16  # a letter-and-digit word this long is an identifier, not a drug code
# Longer Cyrillic "words" are not looked up in pymorphy3 (Russian's longest are ~35 letters):
# it strips known prefixes recursively, so «нене…не» costs time with its length and, past
# ~1,000 letters, raises RecursionError.
_LONGEST_RUSSIAN_WORD = 40
# Only words up to this length go into the caches, which outlive a page: a hostile site's
# megabyte "words" would otherwise fill 65,536 entries across its pages.
CACHED_WORD = 64


# Words remembered by each cache below. The crawl's extraction workers are replaced when
# they grow 16 MB over their start (ONIONLAB_EXTRACT_MEMORY_MB / 2), caches cold again and
# a new interpreter's start paid (0.7 s of CPU): what the caches hold must stay well under
# that. Measured over every page of a scale-1 lab, three passes in one process, with
# _substance_vocabulary's text cache at an eighth of this: 8,192 words grew the process by
# 7.3 MB (workers forked from the crawl reached 16 MB after 750 to 930 pages and were
# replaced), 4,096 by 5.1 MB, 2,048 by 3.5 MB, at the same CPU per page (1.5-1.6 ms, the
# few thousand words a crawl reads over and over are still held); 65,536 grew past 16 MB.
WORD_CACHE = 2048


@cache
def _morph() -> Any:
    import pymorphy3  # loaded on first use: building the analyser reads its dictionaries

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=WORD_CACHE)
def _russian_forms(word: str) -> tuple[str, ...]:
    """The lemmas of a Cyrillic word, likeliest first; for a word the dictionary lacks, its
    stems too (slang such as «мефа» is rarely in it)."""
    morph = _morph()
    forms = [p.normal_form.replace("ё", "е") for p in morph.parse(word)]
    if not morph.word_is_known(word):
        forms.extend(
            word[: -len(e)] for e in _ENDINGS if word.endswith(e) and len(word) > len(e) + 2
        )
    return tuple(dict.fromkeys(forms))


@dataclass(frozen=True, slots=True)
class Token:
    """A run of letters or digits in a text, with every key it may match a vocabulary word by."""

    start: int
    end: int
    keys: frozenset[str]


@lru_cache(maxsize=WORD_CACHE)
def _keys(run: str, hyphen_after: bool, vocabulary_side: bool) -> frozenset[str]:
    """Cached: a crawl reads the same few thousand words over and over."""
    low = run.lower().replace("ё", "е")
    if low in _ALPHA:
        return frozenset({"α"})
    keys = {low, low.translate(_HOMOGLYPHS)}
    if low in _ALPHA_LETTER and hyphen_after:
        keys.add("α")
    if 1 < len(low) <= _LONGEST_RUSSIAN_WORD and _CYRILLIC_WORD.fullmatch(low):
        forms = _russian_forms(low)
        # A vocabulary word is taken in its likeliest dictionary form; a text word in every one.
        keys.update(forms[:1] if vocabulary_side else forms)
    return frozenset(keys)


@lru_cache(maxsize=WORD_CACHE)
def _word_runs(word: str) -> tuple[tuple[int, int], ...]:
    """The letter runs and digit runs of a word, as offsets in it; none for an identifier.

    Cached, like :func:`_keys`: words repeat far more than they vary.
    """
    if len(word) >= _LONG_ID and any(c.isdigit() for c in word):
        return ()
    return tuple((m.start(), m.end()) for m in _RUN.finditer(word))


def runs_of(word: str) -> tuple[tuple[int, int], ...]:
    """:func:`_word_runs`, cached for words of ordinary length only."""
    return (_word_runs if len(word) <= CACHED_WORD else _word_runs.__wrapped__)(word)


def keys_of(run: str, hyphen_after: bool, vocabulary_side: bool) -> frozenset[str]:
    """:func:`_keys`, cached for runs of ordinary length only."""
    keys = _keys if len(run) <= CACHED_WORD else _keys.__wrapped__
    return keys(run, hyphen_after, vocabulary_side)


def tokenize(text: str, *, vocabulary_side: bool = False) -> list[Token]:
    """The tokens of ``text`` (already NFKC-normalised), identifiers left out."""
    runs: list[tuple[int, int]] = []
    for word in WORD.finditer(text):
        at = word.start()
        runs.extend((at + start, at + end) for start, end in runs_of(word.group()))
    tokens = []
    last = len(runs) - 1
    for i, (start, end) in enumerate(runs):
        run = text[start:end]
        # What follows matters only to a lone "a" ("a-PVP" is α-PVP): not looked at otherwise.
        hyphen_after = (
            i < last
            and run.lower() in _ALPHA_LETTER
            and _HYPHEN.fullmatch(text[end : runs[i + 1][0]]) is not None
        )
        tokens.append(Token(start, end, keys_of(run, hyphen_after, vocabulary_side)))
    return tokens


def token_count(text: str) -> int:
    """``len(tokenize(text))``, without working out the tokens' keys."""
    return sum(len(runs_of(word)) for word in WORD.findall(text))


def normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)
