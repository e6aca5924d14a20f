"""The hostile site's attacks (``ATTACKS``): where each is served and what a crawler reports.

Sizes above the crawler's limits and the outcome vocabulary of docs/lab-contract.md; the
attacks themselves are data (``data/attacks.json``). Depends on ``onionlab.lab.world.data_files``
and the kind's ``paths``.
"""

from __future__ import annotations

from dataclasses import dataclass

from onionlab.lab.world.data_files import load_words
from onionlab.lab.world.kinds.hostile.paths import (
    FAKE_CLEARNET,
    MIRROR_TARGET,
    MIRRORS_TXT,
    PGP_TXT,
)

# Sizes, above the crawler's limits (crawler/addon.py: DOWNLOAD_MAXSIZE = 8 MiB) and any
# reasonable crawler's (16 MiB).
MAXSIZE = 16 * 1024 * 1024
BOMB_SIZE = 64 * 1024 * 1024  # every bomb inflates to 4x DOWNLOAD_MAXSIZE
OVERSIZE = MAXSIZE + 1024 * 1024  # a plain body 1 MiB over the limit
FLOOD_LINKS = 100_000
NEST_DEPTH = 2_000
NEST_LINKS = 1  # a link at every level of the nesting
PARSER_LINES = 50_000
TOKEN_SIZE = 40_000
ARMOR_HEADERS = 4_000
SCRIPT_OPENERS = 4_000
LETTER_LINES = 20_000  # 40 KB of one-letter lines
HUGE_ATTRIBUTE = 4 * 1024 * 1024
MANY_ATTRIBUTES = 20_000
HUGE_COOKIE = 8 * 1024
MANY_COOKIES = 1_000
RETRY_AFTER = 99_999_999
REDIRECT_HOPS = "endless"

# Outcomes (docs/lab-contract.md): "page" = recorded as a Page item; "dropped:<reason>" =
# counted in the summary's ``dropped``; "error:<kind>" = in ``errors_by_kind``.
PAGE = "page"
TIMEOUT = "error:DownloadTimeoutError"  # Scrapy 2.19: a download over DOWNLOAD_TIMEOUT
TOO_BIG = "error:DownloadCancelledError"  # Scrapy 2.19: a body over DOWNLOAD_MAXSIZE
BOMB = "error:IgnoreRequest"  # Scrapy 2.19 HttpCompression: over DOWNLOAD_MAXSIZE inflated
OFFSITE = "dropped:offsite_redirect"
ENDLESS = ("dropped:site_budget", "dropped:trap")


@dataclass(frozen=True)
class Attack:
    """One attack: where it is served, its name, what it is and what a correct crawl reports."""

    path: str
    attack: str
    category: str
    expect: tuple[str, ...]
    what: str


# Every attack, in the order the truth lists them: data/attacks.json, whose paths and texts
# may name the paths module's constants as {NAME}.
_NAMES = {
    "FAKE_CLEARNET": FAKE_CLEARNET,
    "MIRROR_TARGET": MIRROR_TARGET,
    "MIRRORS_TXT": MIRRORS_TXT,
    "PGP_TXT": PGP_TXT,
}
ATTACKS: tuple[Attack, ...] = tuple(
    Attack(
        row["path"].format(**_NAMES),
        row["attack"],
        row["category"],
        row["expect"],
        row["what"].format(**_NAMES),
    )
    for row in load_words("onionlab.lab.world.kinds.hostile", "attacks.json")["attacks"]
)
ATTACK_PATHS = frozenset(a.path for a in ATTACKS)
