"""The platform's word lists (``data/words.json``): names, slogans, forms, reviews, jobs.

Loaded once, arrays as tuples, in the order the random draws expect.
Depends on ``onionlab.lab.world.data_files``.
"""

from __future__ import annotations

from onionlab.lab.world.data_files import load_words

_WORDS = load_words("onionlab.lab.world.kinds.ru_platform")


PLATFORM_NAMES = _WORDS["platform_names"]
PLATFORM_SLOGANS = _WORDS["platform_slogans"]
ADJECTIVES = _WORDS["adjectives"]
NOUNS = _WORDS["nouns"]
SHOP_SUFFIXES = _WORDS["shop_suffixes"]
SHOP_SLOGANS = _WORDS["shop_slogans"]

# Russian seller vocabulary by substance (matched on the canonical English name, lower case).
FORMS: tuple[tuple[str, tuple[str, ...]], ...] = _WORDS["forms"]
TAGS = _WORDS["tags"]
POPULARITY: tuple[tuple[str, float], ...] = _WORDS["popularity"]
PILL_WORDS = frozenset({"колёса", "таблы", "марки"})  # not for a product sold by the gram
GRAMS = _WORDS["grams"]
GRAMS_HERB = _WORDS["grams_herb"]

REVIEWS_GOOD = _WORDS["reviews_good"]
REVIEWS_MIXED = _WORDS["reviews_mixed"]
REVIEWS_BAD = _WORDS["reviews_bad"]
NICK_STARTS = _WORDS["nick_starts"]

# (role, how the pay is quoted, low/high USD, how often shops advertise it)
JOBS: tuple[tuple[str, str, int, int, int], ...] = _WORDS["jobs"]
JOB_TERMS = _WORDS["job_terms"]
