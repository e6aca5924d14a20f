"""The substances plugin's vocabulary (``plugins/data/substances.toml``) and its reader.

:class:`Vocabulary` finds the vocabulary's words in a text (:meth:`Vocabulary.mentions`) and
says what the text names (:meth:`Vocabulary.read`, a :class:`Reading`): names count anywhere,
slang only in a product name, an ambiguous word only when the other words or the category
leave one candidate, tags never. Depends on :mod:`onionlab.plugins._substance_tokens` and the
standard library only.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from onionlab.plugins._substance_tokens import (
    CACHED_WORD,
    WORD,
    WORD_CACHE,
    Token,
    keys_of,
    normal,
    runs_of,
    tokenize,
)

VOCABULARY_FILE = Path(__file__).with_name("data") / "substances.toml"

NAME, SLANG, AMBIGUOUS, CUE, TAG = "name", "slang", "ambiguous", "cue", "tag"
_JOINER = re.compile(r"[\s\-‐‑–—_./·+']{0,3}")
_LETTERS = re.compile(r"[^\W\d_]+")
_MENTIONS_CACHE = 256  # texts whose vocabulary words are remembered (see Vocabulary and
# _substance_tokens.WORD_CACHE: what the caches hold must stay well under what gets an
# extraction worker replaced)
_CACHED_TEXT = 8192  # longer texts are not cached: a hostile site's would fill the cache


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
        self._may_start = lru_cache(maxsize=WORD_CACHE)(self._word_may_start)

    def _add(self, word: str, kind: str, substances: tuple[str, ...]) -> None:
        tokens = tokenize(normal(word), vocabulary_side=True)
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
        low = normal(category).lower()
        return {
            key
            for word, key in self.departments.items()
            if re.search(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", low)
        }

    def is_department(self, text: str) -> bool:
        """``text`` is only a department's name ("Cannabis (86)"), the heading of a category."""
        words = " ".join(_LETTERS.findall(normal(text).lower()))
        return words in self.departments

    def mentions(self, text: str) -> list[Mention]:
        """Every vocabulary word in ``text``, longest first at each place, left to right."""
        if len(text) > _CACHED_TEXT:
            return list(self._find_mentions(text))
        return list(self._cached_mentions(text))

    def _word_may_start(self, word: str) -> bool:
        """Whether a token of ``word`` (a match of ``WORD``) may begin a vocabulary word.

        Its keys are taken as if a hyphen followed (which only adds "α" to a lone "a"), so
        they hold the keys the token has in any text.
        """
        return any(
            not keys_of(word[start:end], True, False).isdisjoint(self._first_keys)
            for start, end in runs_of(word)
        )

    def _find_mentions(self, text: str) -> tuple[Mention, ...]:
        if not any(
            (self._may_start if len(word) <= CACHED_WORD else self._word_may_start)(word)
            for word in WORD.findall(text)
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
        text = normal(text)
        reading = Reading(text)
        mentions = self.mentions(text)
        if not mentions:
            return reading  # most texts name nothing (and then nothing below applies)
        for m in mentions:
            if m.term.kind == NAME or (m.term.kind == SLANG and product):
                reading.substances.setdefault(m.term.substances[0], m)
            elif m.term.kind == TAG and m.surface not in reading.tags:
                reading.tags.append(m.surface)
        ambiguous = [m for m in mentions if m.term.kind == AMBIGUOUS]
        groups = self.groups_of(category)
        # What settles an ambiguous word, read once for all of them (a hostile title repeats
        # one word thousands of times: each settled against every other was cubic).
        settling = _first_at_two_spans(ambiguous, lambda m: m.term.substances)
        cues = _first_at_two_spans(
            (m for m in mentions if m.term.kind in (CUE, SLANG)),
            lambda m: (m.surface, m.term.substances),
        )
        for m in ambiguous:
            options = set(m.term.substances)
            if options & reading.substances.keys():
                continue  # «Соль α-PVP»: the explicit name already says which
            if product:
                options, why = self._settle(m, options, settling, cues, groups)
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
        settling: list[Mention],
        cues: list[Mention],
        groups: set[str],
    ) -> tuple[set[str], str]:
        """Narrow an ambiguous word's candidates by the other words, then the category.

        ``settling`` and ``cues`` are the text's ambiguous words and cues (and slang) as
        :func:`_first_at_two_spans` keeps them; a word at ``mention``'s own place is no other.
        """
        why = []
        here = (mention.start, mention.end)
        for other in settling:
            if (other.start, other.end) == here:
                continue
            if 1 <= len(options & set(other.term.substances)) < len(options):
                options &= set(other.term.substances)
                why.append(repr(other.surface))
        cues = [m for m in cues if (m.start, m.end) != here]
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


def _first_at_two_spans(
    mentions: Iterable[Mention], key: Callable[[Mention], Any]
) -> list[Mention]:
    """``mentions`` (in text order) cut to what :meth:`Vocabulary._settle` can tell apart.

    For each key, only its mentions at the first two places are kept: settling reads the
    first mention of each key that is not at the ambiguous word's own place (a later one
    could not narrow the candidates further, nor add a cue's word), so one such stays.
    """
    places: dict[Any, list[tuple[int, int]]] = {}
    kept = []
    for m in mentions:
        seen = places.setdefault(key(m), [])
        if len(seen) < 2 and (m.start, m.end) not in seen:
            seen.append((m.start, m.end))
            kept.append(m)
    return kept


@cache
def vocabulary() -> Vocabulary:
    """The plugin's vocabulary, read once from :data:`VOCABULARY_FILE`."""
    with VOCABULARY_FILE.open("rb") as handle:
        return Vocabulary(tomllib.load(handle))
