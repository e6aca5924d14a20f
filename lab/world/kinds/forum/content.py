"""The forum's content model (boards, users, threads, posts) and the queries on it.

Depends on ``onionlab.lab.world.model`` and ``onionlab.lab.world.pgp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from onionlab.lab.world.model import PgpKey, Service, find_by
from onionlab.lab.world.records import page_count

THREADS_PER_PAGE = 15
POSTS_PER_PAGE = 8
VENDORS_PER_SCALE = 10
MEMBERS_EN_PER_SCALE = 90
MEMBERS_RU_PER_SCALE = 35


MARKET_KINDS = ("market", "bazaar")
DAY = 86400


# --- content model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """A sub-forum. ``sections``: its index lists sub-boards (``parent`` = its slug)."""

    slug: str  # "markets", "ru", "ru/moscow"
    name: str
    description: str
    lang: str = "en"
    parent: str = ""
    sections: bool = False


@dataclass(frozen=True)
class User:
    """A forum account; vendors carry their identity's key, wallets and contacts."""

    handle: str
    role: str  # "admin", "moderator", "vendor", "member"
    joined: str  # YYYY-MM-DD
    reputation: int
    lang: str
    pgp: PgpKey | None = None
    contacts: tuple[tuple[str, str], ...] = ()  # shown on the profile
    wallets: tuple[tuple[str, str], ...] = ()  # shown on the profile
    identity: str = ""
    flair: str = ""  # vendor flair, e.g. "Vendor · Velvet Market, Cobalt Bazaar"
    markets: tuple[str, ...] = ()  # lab services the vendor sells on
    signature: str = ""  # free text under each post (never an identifier)
    sig_fpr: bool = False  # the post signature shows the PGP fingerprint
    sig_tip: tuple[str, str] | None = None  # (type, address) shown in the post signature


@dataclass(frozen=True)
class Quote:
    number: int
    author: str
    text: str


@dataclass(frozen=True)
class Post:
    number: int
    author: str
    created: int  # seconds since the epoch
    paragraphs: tuple[str, ...]
    quote: Quote | None = None
    signed: str = ""  # an OpenPGP cleartext-signed message, shown in a <pre>
    signer: str = ""  # fingerprint of the key that signed ``signed``
    found: tuple[tuple[str, str], ...] = ()  # valid identifiers in the body/signed block
    decoys: tuple[tuple[str, str], ...] = ()  # checksum-failing look-alikes in the body


@dataclass(frozen=True)
class Thread:
    tid: str
    board: str
    title: str
    tag: str  # "" or a key of TAGS
    author: str
    views: int
    pinned: bool
    posts: tuple[Post, ...]

    @property
    def created(self) -> int:
        return self.posts[0].created

    @property
    def last(self) -> Post:
        return self.posts[-1]


@dataclass(frozen=True)
class DeadMarket:
    """A market that exit-scammed in the forum's story (its onion is valid but never served)."""

    name: str
    onion: str  # "<56>.onion"
    died: str  # YYYY-MM-DD
    fate: str  # "exit scam"


@dataclass(frozen=True)
class ForumContent:
    boards: tuple[Board, ...]
    users: tuple[User, ...]
    threads: tuple[Thread, ...]
    admin: str  # admin handle
    admin_key: PgpKey
    pgp_notice: str  # admin-clearsigned statement of the official address (/pgp)
    dead_markets: tuple[DeadMarket, ...]
    founded: int  # year
    threads_per_page: int = THREADS_PER_PAGE
    posts_per_page: int = POSTS_PER_PAGE

    def user(self, handle: str) -> User:
        return find_by(self.users, "handle", handle)

    def board(self, slug: str) -> Board:
        return find_by(self.boards, "slug", slug)


def content_of(service: Service) -> ForumContent:
    content = service.content
    assert isinstance(content, ForumContent)
    return content


def board_threads(content: ForumContent, slug: str) -> list[Thread]:
    """A board's threads as its index shows them: pinned first, then by latest post."""
    chosen = [t for t in content.threads if t.board == slug]
    return sorted(chosen, key=lambda t: (not t.pinned, -t.last.created, t.tid))


def board_page_count(content: ForumContent, slug: str) -> int:
    n = len(board_threads(content, slug))
    return page_count(n, content.threads_per_page)


def thread_page_count(content: ForumContent, thread: Thread) -> int:
    return page_count(len(thread.posts), content.posts_per_page)


def post_page(content: ForumContent, number: int) -> int:
    return (number - 1) // content.posts_per_page + 1


def user_posts(content: ForumContent) -> dict[str, int]:
    """Posts per author handle."""
    return user_posts_from(content.threads)


def expand(kind: str, value: str) -> list[tuple[str, str]]:
    """An identifier plus the onion host inside it (a Jabber/e-mail domain can be an onion)."""
    found = [(kind, value)]
    if kind in ("jabber", "email") and value.endswith(".onion"):
        found.append(("onion", value.rsplit("@", 1)[1].removesuffix(".onion")))
    return found


def fmt_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_of(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def bare(onion: str) -> str:
    return onion.removesuffix(".onion")


def user_posts_from(threads: list[Thread] | tuple[Thread, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for thread in threads:
        for post in thread.posts:
            counts[post.author] = counts.get(post.author, 0) + 1
    return counts


__all__ = [
    "MARKET_KINDS",
    "Board",
    "DeadMarket",
    "ForumContent",
    "Post",
    "Quote",
    "Thread",
    "User",
    "board_page_count",
    "board_threads",
    "content_of",
    "expand",
    "fmt_time",
    "iso_time",
    "post_page",
    "thread_page_count",
    "user_posts",
    "user_posts_from",
]
