"""The hostile site's attacks (``ATTACKS``): where each is served and what a crawler reports.

Sizes above the crawler's limits and the outcome vocabulary of docs/lab-contract.md.
Depends on the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

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


ATTACKS: tuple[Attack, ...] = (
    Attack("/dl/gzip", "gzip_bomb", "bomb", (BOMB,), "64 KiB gzip body that inflates to 64 MiB"),
    Attack(
        "/dl/deflate",
        "deflate_bomb",
        "bomb",
        (BOMB,),
        "zlib (Content-Encoding: deflate) body that inflates to 64 MiB",
    ),
    Attack(
        "/dl/br", "brotli_bomb", "bomb", (BOMB,), "brotli body of a few KiB that inflates to 64 MiB"
    ),
    Attack(
        "/dl/big",
        "oversized_declared",
        "bomb",
        (TOO_BIG,),
        "Content-Length of 17 MiB, over DOWNLOAD_MAXSIZE",
    ),
    Attack(
        "/dl/stream",
        "oversized_streamed",
        "bomb",
        (TOO_BIG,),
        "chunked body without a length that goes past 16 MiB",
    ),
    Attack(
        "/slow/drip", "drip", "drip", (TIMEOUT,), "headers at once, then the body one byte a second"
    ),
    Attack(
        "/slow/endless",
        "endless_body",
        "drip",
        (TIMEOUT,),
        "a chunked body that never ends (a chunk a second)",
    ),
    Attack("/slow/hang", "no_answer", "drip", (TIMEOUT,), "accepts the request and never answers"),
    Attack(
        "/go/loop",
        "redirect_loop",
        "redirect",
        ("error:IgnoreRequest",),
        "an endless chain of redirects (/go/loop/1, /go/loop/2, ...)",
    ),
    Attack(
        "/go/canary",
        "redirect_loopback",
        "redirect",
        (OFFSITE,),
        "302 to http://127.0.0.1:<canary>/",
    ),
    Attack(
        "/go/localhost",
        "redirect_localhost",
        "redirect",
        (OFFSITE,),
        "302 to http://localhost:<canary>/",
    ),
    Attack(
        "/go/clearnet",
        "redirect_clearnet",
        "redirect",
        (OFFSITE,),
        f"302 to http://{FAKE_CLEARNET}/ (not an onion)",
    ),
    Attack("/go/file", "redirect_file", "redirect", (OFFSITE,), "302 to file:///etc/passwd"),
    Attack(
        "/go/data",
        "redirect_data",
        "redirect",
        (OFFSITE,),
        "302 to a data: URL holding a page that links to the canary",
    ),
    Attack(
        "/go/meta",
        "meta_refresh",
        "redirect",
        (OFFSITE,),
        "<meta http-equiv=refresh> to the canary",
    ),
    Attack(
        "/go/refresh",
        "refresh_header",
        "redirect",
        (PAGE,),
        "Refresh: 0; url=<canary> header (Scrapy ignores it: the page itself is recorded)",
    ),
    Attack(
        "/links/all",
        "link_flood",
        "flood",
        # Kept to a bounded number of links, or its extraction cut off by the per-page
        # memory bound (parsing 100,000 links takes about 175 MB): either way counted.
        ("dropped:links_per_page", "dropped:extract_memory", "dropped:extract_crashed"),
        "one page with 100,000 links",
    ),
    Attack(
        "/wiki/",
        "letters_generator",
        "flood",
        ENDLESS,
        "endless unique letters-only paths (/wiki/<word>)",
    ),
    Attack(
        "/archive/2026/12/01",
        "calendar_generator",
        "flood",
        ENDLESS,
        "an endless numeric day calendar, both ways",
    ),
    Attack(
        "/board/1",
        "pagination_generator",
        "flood",
        ENDLESS,
        "endless numeric pagination (/board/<n>)",
    ),
    Attack(
        "/p/nest",
        "deep_nesting",
        "parser",
        (PAGE,),
        "2,000-deep nested elements, each with a style and a link",
    ),
    Attack(
        "/p/attr",
        "huge_attributes",
        "parser",
        (PAGE,),
        "a 4 MiB attribute value and one element with 20,000 attributes",
    ),
    Attack("/p/lines", "many_lines", "parser", (PAGE,), "50,000 one-character lines"),
    Attack("/x/token", "long_token", "regex", (PAGE,), "one 40 KB token of letters and digits"),
    Attack(
        "/x/armor",
        "unterminated_armor",
        "regex",
        (PAGE,),
        "4,000 -----BEGIN PGP PUBLIC KEY BLOCK----- headers, never ended",
    ),
    Attack(
        "/x/script",
        "unterminated_script",
        "regex",
        (PAGE,),
        "4,000 <script>/<style> openers, never closed",
    ),
    Attack("/x/letters", "letter_lines", "regex", (PAGE,), "40 KB of one-letter lines"),
    Attack(
        MIRRORS_TXT,
        "forged_mirrors",
        "mirror",
        ("dropped:mirror_unverified",),
        f"a mirrors.txt naming the {MIRROR_TARGET}'s onion, signed by a key that is not "
        f"the site's {PGP_TXT}; the site then goes dark",
    ),
    Attack(
        "/api/wait",
        "retry_after_429",
        "retry_after",
        ("dropped:retry_after_capped",),
        "429 with Retry-After: 99999999 (every other request)",
    ),
    Attack(
        "/api/busy",
        "retry_after_503",
        "retry_after",
        ("dropped:retry_after_capped",),
        "503 with Retry-After: 99999999 (every other request)",
    ),
    Attack(
        "/api/later",
        "retry_after_date",
        "retry_after",
        ("dropped:retry_after_capped",),
        "503 with Retry-After: an HTTP date in the year 9999 (every other request)",
    ),
    Attack(
        "/t/badutf8",
        "invalid_utf8",
        "charset",
        (PAGE,),
        "charset=utf-8 with invalid, overlong and surrogate byte sequences",
    ),
    Attack("/t/utf16", "lying_charset", "charset", (PAGE,), "charset=utf-16 on an ASCII body"),
    Attack(
        "/t/unknown",
        "unknown_charset",
        "charset",
        (PAGE,),
        "an unknown charset in the header and a conflicting <meta charset>",
    ),
    Attack(
        "/t/bom", "bom_mismatch", "charset", (PAGE,), "a UTF-16 byte-order mark on a UTF-8 body"
    ),
    Attack(
        "/c/huge",
        "huge_cookie",
        "cookie",
        (PAGE,),
        "one 8 KiB cookie (browsers keep at most 4 KiB)",
    ),
    Attack("/c/many", "many_cookies", "cookie", (PAGE,), "1,000 Set-Cookie headers"),
    Attack(
        "/c/cross",
        "cross_site_cookie",
        "cookie",
        (PAGE,),
        f"cookies for Domain=.onion and for the {MIRROR_TARGET}'s onion",
    ),
)
ATTACK_PATHS = frozenset(a.path for a in ATTACKS)
