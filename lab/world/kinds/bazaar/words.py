"""The bazaar's word lists (``data/words.json``): shipping options, reviews, old markets.

Loaded once, arrays as tuples, in the order the random draws expect.
Depends on ``onionlab.lab.world.data_files``.
"""

from __future__ import annotations

from onionlab.lab.world.data_files import load_words

_WORDS = load_words("onionlab.lab.world.kinds.bazaar")


SHIPPING = _WORDS["shipping"]
REVIEWS = _WORDS["reviews"]
LEGACY_MARKETS = _WORDS["legacy_markets"]
