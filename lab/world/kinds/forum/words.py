"""The forum's word lists (``data/words.json``): names, handles, replies, signatures.

Loaded once, arrays as tuples, in the order the random draws expect.
Depends on ``onionlab.lab.world.data_files``.
"""

from __future__ import annotations

from onionlab.lab.world.data_files import load_words

_WORDS = load_words("onionlab.lab.world.kinds.forum")


# Tags a thread title may carry: code → (English label, Russian label).
TAGS: dict[str, tuple[str, str]] = _WORDS["tags"]


FORUM_NAMES = _WORDS["forum_names"]
FORUM_SLOGANS = _WORDS["forum_slogans"]
ADMIN_HANDLES = _WORDS["admin_handles"]
MOD_HANDLES = _WORDS["mod_handles"]
EN_A = _WORDS["en_a"]
EN_B = _WORDS["en_b"]
RU_A = _WORDS["ru_a"]
RU_B = _WORDS["ru_b"]
SIGNATURES_EN = _WORDS["signatures_en"]
SIGNATURES_RU = _WORDS["signatures_ru"]
FREE_MAIL = _WORDS["free_mail"]
VENDOR_REPLIES = _WORDS["vendor_replies"]
VENDOR_ASKS = _WORDS["vendor_asks"]
MARKET_TOPICS = _WORDS["market_topics"]  # thread titles on the markets board
OFFTOPIC_TITLES = _WORDS["offtopic_titles"]
VERDICTS = _WORDS["verdicts"]
VERDICTS_RU = _WORDS["verdicts_ru"]
DEAD_NAMES = _WORDS["dead_names"]

EN_REPLIES = _WORDS["en_replies"]
RU_REPLIES = _WORDS["ru_replies"]
