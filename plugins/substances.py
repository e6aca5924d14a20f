"""Recognises drug names in listings and page text, and gives each its canonical name.

A built-in plugin, written like an instructor's: it imports only ``crawler.hookimpl``, the
item types, Scrapy, ``pymorphy3`` (Russian lemmas) and the standard library. The vocabulary is
data, ``plugins/data/substances.toml``: canonical names with their names, codes, slang, cues
and the words that are ambiguous or mere quality tags.

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

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, TextResponse

from onionlab import hookimpl
from onionlab.items import Entity, Item, Listing

VOCABULARY_FILE = Path(__file__).with_name("data") / "substances.toml"

NAME, SLANG, AMBIGUOUS, CUE, TAG = "name", "slang", "ambiguous", "cue", "tag"

_WORD = re.compile(r"[^\W_]+")
_RUN = re.compile(r"\d+|[^\W\d_]+")
_CYRILLIC_WORD = re.compile(r"[а-я]+")
_JOINER = re.compile(r"[\s\-‐‑–—_./·+']{0,3}")
_HYPHEN = re.compile(r"\s?[-‐‑–]\s?")
_ALPHA = frozenset({"α", "alpha", "альфа"})
_ALPHA_LETTER = frozenset({"a", "а"})  # Latin and Cyrillic: α only when hyphenated, "a-PVP"
# Cyrillic (and Greek) letters drawn like Latin ones, folded to the Latin letter (lower case).
_HOMOGLYPHS = str.maketrans("авекмнорстухіјѕԁοριν", "abekmhopctyxijsdopiv")
# Case endings stripped from Russian slang the dictionary does not know («мефа» → «меф»).
_ENDINGS = ("ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ах", "ях", "ам", "ям",
            "ом", "ем", "ой", "ей", "ов", "ев", "ую", "юю", "а", "я", "у", "ю", "е", "ы", "и",
            "о")  # fmt: skip
# Starts only where a number does ("(?<!\d)"): a start inside one has no way to match that
# its start lacks, and without it a long run of digits is read once per digit (quadratic).
_QUANTITY = re.compile(
    r"(?<!\d)\d+(?:[.,]\d+)?\s*(?:kg|кг|g|gr|gram|grams|г|гр|грамм|mg|мг|oz|ml|мл|шт|pcs|tabs?|pills?"
    r"|blotters?|caps)(?![^\W\d_])",
    re.IGNORECASE,
)
_LONG_ID = 16  # a letter-and-digit word this long is an identifier, not a drug code
# Longer Cyrillic "words" are not looked up in pymorphy3 (Russian's longest are ~35 letters):
# it strips known prefixes recursively, so «нене…не» costs time with its length and, past
# ~1,000 letters, raises RecursionError.
_LONGEST_RUSSIAN_WORD = 40
_MENTIONS_CACHE = 4096  # texts whose vocabulary words are remembered (see Vocabulary)
# Only words and texts up to these lengths go into the caches, which outlive a page: a
# hostile site's megabyte "words" would otherwise fill 65,536 entries across its pages.
_CACHED_WORD, _CACHED_TEXT = 64, 8192


# --- tokens ------------------------------------------------------------------------------


@cache
def _morph() -> Any:
    import pymorphy3  # loaded on first use: building the analyser reads its dictionaries

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=65536)
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


@lru_cache(maxsize=65536)
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


@lru_cache(maxsize=65536)
def _word_runs(word: str) -> tuple[tuple[int, int], ...]:
    """The letter runs and digit runs of a word, as offsets in it; none for an identifier.

    Cached, like :func:`_keys`: words repeat far more than they vary.
    """
    if len(word) >= _LONG_ID and any(c.isdigit() for c in word):
        return ()
    return tuple((m.start(), m.end()) for m in _RUN.finditer(word))


def _runs_of(word: str) -> tuple[tuple[int, int], ...]:
    """:func:`_word_runs`, cached for words of ordinary length only."""
    return (_word_runs if len(word) <= _CACHED_WORD else _word_runs.__wrapped__)(word)


def _keys_of(run: str, hyphen_after: bool, vocabulary_side: bool) -> frozenset[str]:
    """:func:`_keys`, cached for runs of ordinary length only."""
    keys = _keys if len(run) <= _CACHED_WORD else _keys.__wrapped__
    return keys(run, hyphen_after, vocabulary_side)


def tokenize(text: str, *, vocabulary_side: bool = False) -> list[Token]:
    """The tokens of ``text`` (already NFKC-normalised), identifiers left out."""
    runs: list[tuple[int, int]] = []
    for word in _WORD.finditer(text):
        at = word.start()
        runs.extend((at + start, at + end) for start, end in _runs_of(word.group()))
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
        tokens.append(Token(start, end, _keys_of(run, hyphen_after, vocabulary_side)))
    return tokens


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# --- the vocabulary ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """One vocabulary word: its tokens' keys, what kind of word it is and what it points to."""

    text: str
    kind: str  # NAME, SLANG, AMBIGUOUS, CUE or TAG
    substances: tuple[str, ...]  # one for NAME/SLANG; candidates or supported ones otherwise
    keys: tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class Mention:
    """A vocabulary word found in a text, at ``start:end``."""

    term: Term
    start: int
    end: int
    surface: str


@dataclass
class Reading:
    """What one text says about substances.

    ``substances`` maps each canonical name the text names to the mention that names it;
    ``resolved`` holds the ones settled from an ambiguous word, with the reason; ``unresolved``
    the ambiguous words left open, each with its remaining candidates; ``tags`` the quality
    and form attributes.
    """

    text: str
    substances: dict[str, Mention] = field(default_factory=dict)
    resolved: dict[str, str] = field(default_factory=dict)
    unresolved: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def single(self) -> str | None:
        """The one substance the text names, or ``None`` when it names none or several."""
        return next(iter(self.substances)) if len(self.substances) == 1 else None

    def candidates(self) -> tuple[str, ...]:
        """Every substance the text may be about: named ones and open candidates."""
        found = set(self.substances)
        for _, options in self.unresolved:
            found.update(options)
        return tuple(sorted(found))


@dataclass(frozen=True)
class Substance:
    canonical: str
    klass: str
    groups: tuple[str, ...]
    unit: str


class Vocabulary:
    """The analyst's substance vocabulary and the reader that applies it to a text."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.substances = {
            s["canonical"]: Substance(
                s["canonical"], s["class"], tuple(s.get("groups", ())), s.get("unit", "g")
            )
            for s in data["substance"]
        }
        self.departments = {
            word.lower(): key for key, words in data["departments"].items() for word in words
        }
        self._index: dict[str, list[Term]] = {}
        for s in data["substance"]:
            self._add(s["canonical"], NAME, (s["canonical"],))
            for kind in (NAME, SLANG, CUE):
                for word in s.get({NAME: "names", SLANG: "slang", CUE: "cues"}[kind], ()):
                    self._add(word, kind, (s["canonical"],))
        for word, candidates in data["ambiguous"].items():
            unknown = set(candidates) - self.substances.keys()
            if unknown:
                raise ValueError(f"[ambiguous] {word!r} names unknown substances {unknown}")
            self._add(word, AMBIGUOUS, tuple(candidates))
        for words in data["tags"].values():
            for word in words:
                self._add(word, TAG, ())
        # Every key a term starts with: most tokens of a page have none, and are passed over.
        self._first_keys = frozenset(self._index)
        # Pages of a site repeat most of their lines (three in four of a lab crawl's segments
        # were read before), so the words found in a text are kept for the next page.
        self._cached_mentions = lru_cache(maxsize=_MENTIONS_CACHE)(self._find_mentions)
        self._may_start = lru_cache(maxsize=65536)(self._word_may_start)

    def _add(self, word: str, kind: str, substances: tuple[str, ...]) -> None:
        tokens = tokenize(_normal(word), vocabulary_side=True)
        if not tokens:
            raise ValueError(f"vocabulary word {word!r} has no letters or digits")
        term = Term(word, kind, substances, tuple(t.keys for t in tokens))
        for key in tokens[0].keys:
            self._index.setdefault(key, []).append(term)

    def is_canonical(self, name: str | None) -> bool:
        return name in self.substances

    def groups_of(self, category: str | None) -> set[str]:
        """The department keys a listing's category names ("Drugs › Stimulants" → stimulants)."""
        if not category:
            return set()
        low = _normal(category).lower()
        return {
            key
            for word, key in self.departments.items()
            if re.search(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", low)
        }

    def is_department(self, text: str) -> bool:
        """``text`` is only a department's name ("Cannabis (86)"), the heading of a category."""
        words = " ".join(re.findall(r"[^\W\d_]+", _normal(text).lower()))
        return words in self.departments

    def mentions(self, text: str) -> list[Mention]:
        """Every vocabulary word in ``text``, longest first at each place, left to right."""
        if len(text) > _CACHED_TEXT:
            return list(self._find_mentions(text))
        return list(self._cached_mentions(text))

    def _word_may_start(self, word: str) -> bool:
        """Whether a token of ``word`` (a match of ``_WORD``) may begin a vocabulary word.

        Its keys are taken as if a hyphen followed (which only adds "α" to a lone "a"), so
        they hold the keys the token has in any text.
        """
        return any(
            not _keys_of(word[start:end], True, False).isdisjoint(self._first_keys)
            for start, end in _runs_of(word)
        )

    def _find_mentions(self, text: str) -> tuple[Mention, ...]:
        if not any(
            (self._may_start if len(word) <= _CACHED_WORD else self._word_may_start)(word)
            for word in _WORD.findall(text)
        ):
            return ()  # most texts name nothing: no need to tokenize them
        tokens = tokenize(text)
        found: list[Mention] = []
        i = 0
        while i < len(tokens):
            if tokens[i].keys.isdisjoint(self._first_keys):
                i += 1
                continue
            best: list[Term] = []
            for term in {t for key in tokens[i].keys for t in self._index.get(key, ())}:
                if self._matches(term, tokens, i, text):
                    if not best or len(term.keys) > len(best[0].keys):
                        best = [term]
                    elif len(term.keys) == len(best[0].keys):
                        best.append(term)
            if not best:
                i += 1
                continue
            end = tokens[i + len(best[0].keys) - 1].end
            for term in sorted(best, key=lambda t: (t.kind, t.text)):
                found.append(Mention(term, tokens[i].start, end, text[tokens[i].start : end]))
            i += len(best[0].keys)
        return tuple(found)

    @staticmethod
    def _matches(term: Term, tokens: list[Token], i: int, text: str) -> bool:
        if i + len(term.keys) > len(tokens):
            return False
        for j, keys in enumerate(term.keys):
            token = tokens[i + j]
            if not keys & token.keys:
                return False
            if j and not _JOINER.fullmatch(text[tokens[i + j - 1].end : token.start]):
                return False
        return True

    def read(self, text: str, *, product: bool = False, category: str | None = None) -> Reading:
        """What ``text`` says about substances.

        :param product: the text is a product name (a listing title, a card's name): slang
            counts and ambiguous words may be settled by the other words.
        :param category: the listing's category, to settle an ambiguous word by department.
        """
        text = _normal(text)
        reading = Reading(text)
        mentions = self.mentions(text)
        for m in mentions:
            if m.term.kind == NAME or (m.term.kind == SLANG and product):
                reading.substances.setdefault(m.term.substances[0], m)
            elif m.term.kind == TAG and m.surface not in reading.tags:
                reading.tags.append(m.surface)
        ambiguous = [m for m in mentions if m.term.kind == AMBIGUOUS]
        groups = self.groups_of(category)
        for m in ambiguous:
            options = set(m.term.substances)
            if options & reading.substances.keys():
                continue  # «Соль α-PVP»: the explicit name already says which
            if product:
                options, why = self._settle(m, options, mentions, ambiguous, groups)
                if len(options) == 1:
                    (canonical,) = options
                    reading.substances.setdefault(canonical, m)
                    reading.resolved.setdefault(canonical, f"{m.surface!r} by {why}")
                    continue
            reading.unresolved.append((m.surface, tuple(sorted(options))))
        return reading

    def _settle(
        self,
        mention: Mention,
        options: set[str],
        mentions: list[Mention],
        ambiguous: list[Mention],
        groups: set[str],
    ) -> tuple[set[str], str]:
        """Narrow an ambiguous word's candidates by the other words, then the category."""
        why = []
        others = [m for m in mentions if (m.start, m.end) != (mention.start, mention.end)]
        for other in (m for m in ambiguous if m in others):
            if 1 <= len(options & set(other.term.substances)) < len(options):
                options &= set(other.term.substances)
                why.append(repr(other.surface))
        cues = [m for m in others if m.term.kind in (CUE, SLANG)]
        support = {s for m in cues for s in m.term.substances}
        if 1 <= len(options & support) < len(options):
            options &= support
            used = dict.fromkeys(m.surface for m in cues if options & set(m.term.substances))
            why.append("cue " + ", ".join(map(repr, used)))
        if groups:
            in_groups = {s for s in options if set(self.substances[s].groups) & groups}
            if 1 <= len(in_groups) < len(options):
                options = in_groups
                why.append("category")
        return options, " and ".join(why) or "nothing"


@cache
def vocabulary() -> Vocabulary:
    """The plugin's vocabulary, read once from :data:`VOCABULARY_FILE`."""
    with VOCABULARY_FILE.open("rb") as handle:
        return Vocabulary(tomllib.load(handle))


# --- pages -------------------------------------------------------------------------------

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
        return bool(_QUANTITY.search(self.text)) and len(tokenize(self.text)) <= _MAX_PRODUCT_TOKENS


def segments(response: TextResponse) -> list[Segment]:
    """The content blocks of a page: HTML without its chrome, or plain text by lines."""
    if not isinstance(response, HtmlResponse):
        lines = (_normal(" ".join(line.split())) for line in response.text.splitlines())
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
            text = _normal(text)
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
