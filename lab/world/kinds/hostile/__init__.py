"""Site kind ``hostile``: a malicious onion service that attacks the crawlers visiting it.

Off unless the lab profile switches it on (``hostile = true``; the ``hostile`` profile).
A few ordinary pages (home, two listing pages, about) make it look like a small market;
every other path is an attack from :data:`ATTACKS` — decompression bombs, oversized bodies,
drips, redirect games toward the lab's loopback canary and a fake clearnet host, link
floods and endless generators, parser and regex bombs, a forged ``mirrors.txt`` naming
another lab site (the forum), huge ``Retry-After`` values, broken charsets and hostile
cookies. Its HTTP side is ``onionlab.lab.sites.hostile``; both take paths from here.

Ground truth: the ordinary pages are ``pages`` like any site's; each attack is one row of
``truth["attacks"]`` (:func:`truth_attacks`) with the outcomes a correct crawler reports
(``expect``, any one of them; vocabulary in docs/lab-contract.md).

Modules: ``paths`` (the ordinary pages), ``attacks`` (every attack's path and outcome),
``build`` and ``truth``; word lists in ``data/words.json``.
Depends on ``onionlab.lab.world`` only.
"""

from onionlab.lab.world.kinds.hostile.attacks import (
    ARMOR_HEADERS,
    ATTACK_PATHS,
    ATTACKS,
    BOMB_SIZE,
    FLOOD_LINKS,
    HUGE_ATTRIBUTE,
    HUGE_COOKIE,
    LETTER_LINES,
    MANY_ATTRIBUTES,
    MANY_COOKIES,
    MAXSIZE,
    NEST_DEPTH,
    NEST_LINKS,
    OVERSIZE,
    PARSER_LINES,
    RETRY_AFTER,
    SCRIPT_OPENERS,
    TOKEN_SIZE,
)
from onionlab.lab.world.kinds.hostile.build import build, content_of, secrets_for
from onionlab.lab.world.kinds.hostile.paths import (
    ABOUT_PATH,
    FAKE_CLEARNET,
    HOME_PATH,
    LISTINGS_2_PATH,
    LISTINGS_PATH,
    MIRRORS_TXT,
    ORDINARY,
    PGP_TXT,
)
from onionlab.lab.world.kinds.hostile.truth import (
    decoys,
    occurrences,
    pages,
    truth_attacks,
    truth_listings,
    truth_vendors,
    wiki_word,
)

__all__ = [
    "ABOUT_PATH",
    "ARMOR_HEADERS",
    "ATTACKS",
    "ATTACK_PATHS",
    "BOMB_SIZE",
    "FAKE_CLEARNET",
    "FLOOD_LINKS",
    "HOME_PATH",
    "HUGE_ATTRIBUTE",
    "HUGE_COOKIE",
    "LETTER_LINES",
    "LISTINGS_2_PATH",
    "LISTINGS_PATH",
    "MANY_ATTRIBUTES",
    "MANY_COOKIES",
    "MAXSIZE",
    "MIRRORS_TXT",
    "NEST_DEPTH",
    "NEST_LINKS",
    "ORDINARY",
    "OVERSIZE",
    "PARSER_LINES",
    "PGP_TXT",
    "RETRY_AFTER",
    "SCRIPT_OPENERS",
    "TOKEN_SIZE",
    "build",
    "content_of",
    "decoys",
    "occurrences",
    "pages",
    "secrets_for",
    "truth_attacks",
    "truth_listings",
    "truth_vendors",
    "wiki_word",
]
