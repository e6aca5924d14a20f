"""Site kind ``forum``: a Dread/RuTor-like discussion forum (English boards and a Russian one).

Home → boards (``/d/<slug>``; the Russian board ``/d/ru`` lists per-city sections
``/d/ru/<city>``) → paginated thread lists → threads (``/t/<id>``, paginated posts) → user
profiles (``/u/<handle>``, behind the lab's login wall). Vendors are shared identities
(preferably ones selling on the lab's markets) with their own PGP keys: their official
threads open with a real PGP-clearsigned announcement, and the admin signs the forum's
announcements, its ``/pgp`` notice and a phishing PSA. Scam reports name the phishing clone's
onion and tell an exit-scam story (``ForumContent.dead_markets``, which the link directory
lists as down). Some posts carry crypto addresses, contacts in obfuscated forms
("t . me / name", "name [at] domain [dot] example") and checksum-failing decoys; every
valid identifier is declared per page. URL helpers live here, shared by the site
(``onionlab.lab.sites.forum``) and the truth. Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Identity, PgpKey, Service
from onionlab.lab.world.pgp import clearsign, make_key
from onionlab.lab.world.vocab import City, Substance, cities, rates, substances

THREADS_PER_PAGE = 15
POSTS_PER_PAGE = 8
VENDORS_PER_SCALE = 10
MEMBERS_EN_PER_SCALE = 90
MEMBERS_RU_PER_SCALE = 35
PROTECTED_PREFIXES: tuple[str, ...] = ("/u/",)
MARKET_KINDS = ("market", "bazaar")
_DAY = 86400

# Tags a thread title may carry: code → (English label, Russian label).
TAGS: dict[str, tuple[str, str]] = {
    "REVIEW": ("[REVIEW]", "[ОТЗЫВ]"),
    "SCAM": ("[SCAM]", "[КИДАЛОВО]"),
    "OFFICIAL": ("[OFFICIAL]", "[ОФИЦИАЛЬНО]"),
    "PSA": ("[PSA]", "[ВНИМАНИЕ]"),
}


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
        for user in self.users:
            if user.handle == handle:
                return user
        raise KeyError(handle)

    def board(self, slug: str) -> Board:
        for board in self.boards:
            if board.slug == slug:
                return board
        raise KeyError(slug)


# --- URL structure (shared with onionlab.lab.sites.forum)
# ---------------------------------------------


def board_path(slug: str, number: int = 1) -> str:
    return f"/d/{slug}" if number == 1 else f"/d/{slug}?page={number}"


def thread_path(tid: str, number: int = 1) -> str:
    return f"/t/{tid}" if number == 1 else f"/t/{tid}?page={number}"


def user_path(handle: str) -> str:
    return f"/u/{handle}"


PGP_PATH = "/pgp"


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
    return max(1, -(-n // content.threads_per_page))


def thread_page_count(content: ForumContent, thread: Thread) -> int:
    return max(1, -(-len(thread.posts) // content.posts_per_page))


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


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _bare(onion: str) -> str:
    return onion.removesuffix(".onion")


# --- word lists ------------------------------------------------------------------------------

FORUM_NAMES = ("Undertow", "Murmur", "Burrow", "Lantern", "Catacomb", "Hush")
FORUM_SLOGANS = (
    "the community of the hidden markets since {year}",
    "talk, reviews and scam reports since {year}",
    "the front page of the deep web since {year}",
)
ADMIN_HANDLES = ("Warden", "NightClerk", "HollowKeeper", "Overseer")
MOD_HANDLES = ("mod_lynx", "mod_ferryman", "mod_quill", "mod_tundra", "mod_sable")
_EN_A = (
    "quiet",
    "lucid",
    "grey",
    "static",
    "paper",
    "lost",
    "cold",
    "hollow",
    "silent",
    "rusty",
    "blue",
    "tiny",
    "neon",
    "lazy",
    "dusty",
    "mellow",
    "north",
    "salty",
    "sleepy",
    "wired",
    "amber",
    "crooked",
    "fuzzy",
    "gentle",
    "hazy",
    "iron",
    "jolly",
    "pale",
    "odd",
    "velvet",
)
_EN_B = (
    "moth",
    "fox",
    "owl",
    "ghost",
    "panda",
    "river",
    "cactus",
    "lynx",
    "otter",
    "wolf",
    "raven",
    "pixel",
    "kettle",
    "comet",
    "orbit",
    "badger",
    "walrus",
    "tulip",
    "heron",
    "goblin",
    "marmot",
    "falcon",
    "pebble",
    "spoon",
    "yeti",
    "squid",
    "lantern",
    "ferret",
)
_RU_A = (
    "tikhiy",
    "seryy",
    "belyy",
    "sibirskiy",
    "uralskiy",
    "nochnoy",
    "dobryy",
    "zloy",
    "staryy",
    "ryzhiy",
    "lesnoy",
    "bystryy",
    "pyanyy",
    "severnyy",
    "yuzhnyy",
    "temnyy",
)
_RU_B = (
    "kot",
    "yozh",
    "drug",
    "lis",
    "volk",
    "medved",
    "filin",
    "baron",
    "shaman",
    "dyadya",
    "student",
    "turist",
    "rybak",
    "gonshchik",
    "sosed",
    "pilot",
)
SIGNATURES_EN = (
    "Stay safe, test your stuff.",
    "Escrow or nothing.",
    "PGP or GTFO.",
    "Harm reduction saves lives.",
    "Not a vendor. Don't PM me for sources.",
    "Tails, always.",
    "If it sounds too good to be true, it's a scam.",
    "Lurking since the old days.",
    "Opinions are my own, obviously.",
)
SIGNATURES_RU = (
    "Берегите себя.",
    "Только через гарант.",
    "Не пишите мне в личку про товар.",
    "Проверяйте адреса, чаек хватает.",
    "Тише едешь — дальше будешь.",
)
FREE_MAIL = ("cryptmail.example", "torbox.example", "dnmx.example", "onionpost.example")
VENDOR_REPLIES = (
    "Thanks for the kind words, see you next time.",
    "Reship sent, check your messages.",
    "We ship Monday to Friday. Weekend orders go out Monday.",
    "Restocked. Prices unchanged.",
    "Please leave feedback on the market after finalizing.",
)
VENDOR_ASKS = (
    "Do you ship to {city}?",
    "Any chance of a sample of the {sub}?",
    "Ordered yesterday, how long does processing take?",
    "Got my order today, great stealth. Thank you.",
    "Is the {sub} reagent tested?",
    "Can confirm the signature on the first post checks out.",
    "Price for 5g of {sub}?",
)
VERDICTS = ("Will order again.", "Recommended.", "Mixed feelings.", "7/10.")
VERDICTS_RU = ("Всё ровно, рекомендую.", "Ненаход, оператор дал перезаклад.", "Вес в норме.")
DEAD_NAMES = ("Harbor Market", "Empress Market", "Lighthouse Market", "Citadel Market")

EN_REPLIES = (
    "Thanks for posting this, saved me a headache.",
    "bump",
    "+1, same experience here.",
    "Can anyone confirm this? I'm about to place an order.",
    "Been using {market} for a year, never had an issue.",
    "Always verify the PGP signature before you trust a link. Always.",
    "Don't FE with anyone you don't know, period.",
    "Mods, can we get this pinned?",
    "Stealth was solid on my last order, arrived in four days.",
    "This is why you never keep a balance on a market.",
    "Lurker here, registered just to say thanks.",
    "Any news on this? Still waiting.",
    "Test your stuff. Reagent kits are cheap, hospitals are not.",
    "{vendor} has been legit for me, six orders and counting.",
    "Careful with the {sub} going around, people say the batch is strong.",
    "Source? Screenshots or it didn't happen.",
    "Encrypt your address yourself. Never trust a market's auto-encrypt.",
    "Does anyone know if {market} is up? Getting timeouts all morning.",
    "Update: package arrived, all good.",
    "Same here, the queue has been terrible this week.",
    "Interesting read. Saving this thread.",
    "Start low, go slow. Especially with {sub}.",
    "People never learn. Withdraw after every order.",
    "Good write-up, thanks for taking the time.",
    "I had the opposite experience with {vendor}, but one order is not a pattern.",
    "Is {market} still taking new vendors? Asking for a friend.",
    "Weighed mine, it was 0.1 over. Happy.",
    "Didn't know {sub} was even a thing anymore.",
    "The captcha on {market} is killing me today.",
    "Noted. Staying away.",
)
RU_REPLIES = (
    "Спасибо, полезная информация.",
    "Подтверждаю, брал тут же, всё ровно.",
    "ап",
    "Кто-нибудь брал {sub} в последнее время? Как качество?",
    "Ненаход, жду перезаклад уже третий день.",
    "Оператор отвечает быстро, перезаклад дали без вопросов.",
    "Осторожно, в районе «{district}» чайки ходят.",
    "Клад на магните, всё нашёл с первого раза.",
    "Фото и координаты точные, респект курьеру.",
    "Не ведитесь на обменники из лички, это развод.",
    "Вес в норме, даже чуть больше.",
    "Прикоп был слишком глубоко, копал минут десять.",
    "Модераторы, закрепите тему.",
    "Аналогично, всё пришло.",
    "{sub} в этот раз слабее, чем в прошлом месяце.",
    "Берите только через гарант площадки.",
    "Тема полезная, плюсую.",
    "А в {city} кто работает нормально?",
    "Где взять нормальный реагент-тест?",
    "Был тайник в подъезде, всё на месте.",
)


# --- the builder -----------------------------------------------------------------------------


@dataclass
class _Draft:
    author: str
    paragraphs: list[str]
    sign: tuple[bytes, PgpKey, str] | None = None  # (secret, key, text) to clearsign
    found: list[tuple[str, str]] = field(default_factory=list)
    decoys: list[tuple[str, str]] = field(default_factory=list)


def _sub_names(sub: Substance, lang: str) -> tuple[str, ...]:
    return (sub.ru or sub.en) if lang == "ru" else sub.en


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class _Builder:
    def __init__(self, ctx: WorldContext, spec: ServiceSpec) -> None:
        self.ctx = ctx
        self.name = spec.name
        self.scale = ctx.scale
        today = datetime.strptime(rates().date, "%Y-%m-%d").replace(tzinfo=UTC)
        self.now = int(today.timestamp()) - 3600  # the story's "now": the evening before
        self.start = self.now - 620 * _DAY
        rng = ctx.rng(self.name, "identity")
        self.title = rng.choice(FORUM_NAMES)
        self.founded = rng.randrange(2019, 2022)
        self.tagline = rng.choice(FORUM_SLOGANS).format(year=self.founded)
        self.founded_ts = int(datetime(self.founded, 3, 1, tzinfo=UTC).timestamp())
        self.users: dict[str, User] = {}
        self.secrets: dict[str, bytes] = {}  # handle -> PGP secret of users who sign
        self.threads: list[Thread] = []
        self.tids: set[str] = set()
        self.taken: set[str] = set()
        self.subs = substances()
        self.cities = cities()
        built = [s for s in ctx.built.values() if s.name != self.name]
        self.markets = [s for s in built if s.kind in MARKET_KINDS and not s.clone_of]
        self.clones = [s for s in built if s.clone_of]
        self.platforms = [s for s in built if s.kind == "ru_platform"]
        self.shops = [s for s in built if s.kind.startswith("vendor_shop")]
        self.en: list[str] = []
        self.ru: list[str] = []
        self.vendors: list[str] = []
        self.mods: list[str] = []
        self.admin = ""

    # -- helpers --

    def n(self, per_scale: float, least: int = 1) -> int:
        return max(least, round(per_scale * self.scale))

    def unique(self, handle: str) -> bool:
        if handle.lower() in self.taken:
            return False
        self.taken.add(handle.lower())
        return True

    def tid(self, rng: random.Random) -> str:
        while True:
            tid = f"{rng.getrandbits(40):010x}"
            if tid not in self.tids and not tid.isdigit():
                self.tids.add(tid)
                return tid

    def market_names(self) -> list[str]:
        return [m.title for m in self.markets] or ["the market"]

    def fill(self, rng: random.Random, text: str, lang: str = "en") -> str:
        sub = rng.choice(self.subs)
        city = rng.choice(self.cities)
        vendor = rng.choice(self.vendors) if self.vendors else "that vendor"
        return text.format(
            market=rng.choice(self.market_names()),
            vendor=vendor,
            sub=rng.choice(_sub_names(sub, lang)),
            city=city.name_ru if lang == "ru" else city.name_en,
            district=rng.choice(city.districts),
        )

    def reply(self, rng: random.Random, lang: str) -> list[str]:
        pool = RU_REPLIES if lang == "ru" else EN_REPLIES
        count = 1 if rng.random() < 0.6 else 2
        return [" ".join(self.fill(rng, rng.choice(pool), lang) for _ in range(count))]

    # -- users --

    def make_users(self) -> None:
        ctx, name = self.ctx, self.name
        rng = ctx.rng(name, "staff")
        self.admin = rng.choice(ADMIN_HANDLES)
        self.unique(self.admin)
        secret = ctx.secret(name, "admin", "pgp")
        created = self.founded_ts - rng.randrange(10, 200) * _DAY
        key = make_key(secret, f"{self.title} Admin <{self.admin.lower()}@{FREE_MAIL[0]}>", created)
        self.secrets[self.admin] = secret
        self.users[self.admin] = User(
            handle=self.admin,
            role="admin",
            joined=_date(self.founded_ts),
            reputation=9999,
            lang="en",
            pgp=key,
            signature=f"{self.title} administration. Verify, then trust.",
            sig_fpr=True,
        )
        for handle in rng.sample(MOD_HANDLES, 2):
            self.unique(handle)
            joined = rng.randrange(self.founded_ts, self.start)
            secret = ctx.secret(name, "user", handle, "pgp")
            key = make_key(secret, f"{handle} <{handle}@{rng.choice(FREE_MAIL)}>", joined)
            self.users[handle] = User(
                handle=handle,
                role="moderator",
                joined=_date(joined),
                reputation=rng.randrange(900, 3000),
                lang="en",
                pgp=key,
                signature="Moderator. Report scams with evidence.",
                sig_fpr=True,
            )
            self.mods.append(handle)
        self.make_vendors()
        rng = ctx.rng(name, "members")
        for lang, count in (
            ("en", self.n(MEMBERS_EN_PER_SCALE, 6)),
            ("ru", self.n(MEMBERS_RU_PER_SCALE, 4)),
        ):
            for _ in range(count):
                self.make_member(rng, lang)
        tippers = ctx.rng(name, "tips").sample(self.en, min(3, len(self.en)))
        for k, handle in enumerate(tippers):
            kind, variant = (("xmr", "standard"), ("btc", "p2wpkh"), ("ltc", "p2wpkh"))[k]
            address = identifiers.make(kind, ctx.secret(name, "tip", handle), variant)
            user = self.users[handle]
            self.users[handle] = replace(user, sig_tip=(kind, address))

    def make_member(self, rng: random.Random, lang: str) -> None:
        for _ in range(1000):
            first, second = (
                (rng.choice(_RU_A), rng.choice(_RU_B))
                if lang == "ru"
                else (rng.choice(_EN_A), rng.choice(_EN_B))
            )
            style = rng.randrange(5)
            if style == 0:
                handle = f"{first}_{second}"
            elif style == 1:
                handle = f"{first.capitalize()}{second.capitalize()}"
            elif style == 2:
                handle = f"{first}{second}{rng.randrange(10, 1000)}"
            elif style == 3:
                handle = f"{second}_{rng.randrange(1970, 2006)}"
            else:
                handle = f"throwaway_{rng.randrange(1000, 10000)}"
            if self.unique(handle):
                break
        else:  # pragma: no cover
            raise RuntimeError("ran out of member handles")
        joined = rng.randrange(self.founded_ts, self.start)  # before any thread
        pgp = None
        if rng.random() < 0.3:
            secret = self.ctx.secret(self.name, "user", handle, "pgp")
            pgp = make_key(secret, handle, joined - rng.randrange(0, 300) * _DAY)
        found: list[tuple[str, str]] = []
        roll = rng.random()
        if roll < 0.25:
            found.append(("jabber", contacts.jabber(rng)))
        elif roll < 0.4:
            found.append(("email", contacts.email(rng, handle)))
        elif lang == "ru" and roll < 0.6:
            found.append(("telegram", contacts.telegram(rng)))
        signatures = SIGNATURES_RU if lang == "ru" else SIGNATURES_EN
        self.users[handle] = User(
            handle=handle,
            role="member",
            joined=_date(joined),
            reputation=int(rng.paretovariate(1.3) * 8) - 8 + rng.randrange(0, 5),
            lang=lang,
            pgp=pgp,
            contacts=tuple(found),
            signature=rng.choice(signatures) if rng.random() < 0.5 else "",
            sig_fpr=pgp is not None and rng.random() < 0.6,
        )
        (self.ru if lang == "ru" else self.en).append(handle)

    def make_vendors(self) -> None:
        ctx = self.ctx
        rng = ctx.rng(self.name, "vendors")
        selling: dict[str, list[Service]] = {}
        for svc in [*self.markets, *self.platforms, *self.shops]:
            for vendor in svc.vendors:
                if vendor.identity:
                    selling.setdefault(vendor.identity, []).append(svc)
        people = {p.id: p for p in ctx.identities}
        on_markets = sorted(
            i for i, svcs in selling.items() if any(s.kind in MARKET_KINDS for s in svcs)
        )
        rng.shuffle(on_markets)
        count = self.n(VENDORS_PER_SCALE, 2)
        chosen = [people[i] for i in on_markets if i in people]
        chosen += [p for p in ctx.vendors_for(self.name, count) if p.id not in on_markets]
        for person in chosen:
            if len(self.vendors) >= count:
                break
            handle = handle_on(person, self.name, ctx.seed)
            if not self.unique(handle):
                continue
            svcs = selling.get(person.id, [])
            joined = rng.randrange(self.founded_ts, self.start)
            flair = "Vendor" + (" · " + ", ".join(s.title for s in svcs) if svcs else "")
            self.secrets[handle] = person.pgp_secret
            self.users[handle] = User(
                handle=handle,
                role="vendor",
                joined=_date(joined),
                reputation=rng.randrange(150, 2500),
                lang="en",
                pgp=person.pgp,
                contacts=person.contacts,
                wallets=person.wallets,
                identity=person.id,
                flair=flair,
                markets=tuple(s.name for s in svcs),
                signature=f"Official {handle}. Verify our key before you order.",
                sig_fpr=True,
            )
            self.vendors.append(handle)

    def identity(self, handle: str) -> Identity:
        ident = self.users[handle].identity
        return next(p for p in self.ctx.identities if p.id == ident)

    # -- threads --

    def add(
        self,
        rng: random.Random,
        board: str,
        title: str,
        drafts: list[_Draft],
        *,
        tag: str = "",
        pinned: bool = False,
        start: int | None = None,
        lang: str = "en",
    ) -> None:
        """Add a thread: ``drafts`` are its opening posts; quotes and times are drawn here."""
        if start is None:
            start = rng.randrange(self.start, self.now - 3 * _DAY)
        posts: list[Post] = []
        ts = start
        for number, draft in enumerate(drafts, 1):
            if number > 1:
                ts = min(self.now, ts + rng.randrange(600, 2 * _DAY))
            signed = signer = ""
            if draft.sign:
                secret, key, text = draft.sign
                signed, signer = clearsign(secret, key, text, ts), key.fingerprint
            quote = None
            plain = [p for p in posts if not (p.signed or p.found or p.decoys)]
            if number > 2 and plain and not draft.sign and rng.random() < 0.2:
                quoted = rng.choice(plain)
                text = quoted.paragraphs[0]
                if len(text) > 200:
                    text = text[:200].rsplit(" ", 1)[0] + " …"
                quote = Quote(quoted.number, quoted.author, text)
            posts.append(
                Post(
                    number=number,
                    author=draft.author,
                    created=ts,
                    paragraphs=tuple(draft.paragraphs),
                    quote=quote,
                    signed=signed,
                    signer=signer,
                    found=tuple(draft.found),
                    decoys=tuple(draft.decoys),
                )
            )
        views = len(posts) * rng.randrange(15, 90) + rng.randrange(0, 400)
        self.threads.append(
            Thread(
                tid=self.tid(rng),
                board=board,
                title=title,
                tag=tag,
                author=drafts[0].author,
                views=views,
                pinned=pinned,
                posts=tuple(posts),
            )
        )

    def chatter(
        self, rng: random.Random, lang: str, count: int, extra: tuple[str, ...] = ()
    ) -> list[_Draft]:
        """``count`` generic replies by members (and ``extra`` people) of ``lang``."""
        people = [*(self.ru if lang == "ru" else self.en), *extra]
        return [_Draft(rng.choice(people), self.reply(rng, lang)) for _ in range(count)]

    def length(self, rng: random.Random, low: int, high: int) -> int:
        """A reply count, skewed to short threads with a long tail."""
        return min(high, low + int(rng.expovariate(1 / max(1, (high - low) / 2))))


# --- thread families -------------------------------------------------------------------------


def _announcements(b: _Builder, onion: str) -> None:
    rng = b.ctx.rng(b.name, "announcements")
    admin = b.users[b.admin]
    secret = b.secrets[b.admin]
    assert admin.pgp is not None
    key = admin.pgp
    # 1. Official links, signed: the forum's own address and the markets the staff verified.
    lines = [f"{b.title} — official links", "", "Our only address:", f"  http://{onion}/", ""]
    found: list[tuple[str, str]] = [("onion", _bare(onion))]
    if b.markets or b.platforms:
        lines.append("Markets verified by the staff (always check their signed mirrors.txt):")
        for svc in [*b.markets, *b.platforms]:
            for address in (svc.onion, *svc.mirrors):
                lines.append(f"  {svc.title}: http://{address}/")
                found.append(("onion", _bare(address)))
        lines.append("")
    lines.append("Anything not on this list is not endorsed by us.")
    b.add(
        rng,
        "announcements",
        "Official links and PGP key — read before anything else",
        [
            _Draft(
                b.admin,
                [
                    "Bookmark this. The block below is signed with the admin key "
                    f"(see {PGP_PATH} and the admin's profile)."
                ],
                sign=(secret, key, "\n".join(lines)),
                found=found,
            ),
            *b.chatter(rng, "en", b.length(rng, 4, 14), tuple(b.mods)),
        ],
        tag="OFFICIAL",
        pinned=True,
        start=b.now - 300 * _DAY,
    )
    # 2. Rules, signed.
    rules = (
        f"{b.title} rules\n\n1. No selling outside the vendor board.\n2. No doxxing.\n"
        "3. Scam reports need evidence: order IDs, screenshots, signed messages.\n"
        "4. No fentanyl or nitazene sales threads.\n5. Do not post personal information.\n\n"
        "Breaking a rule gets you banned without warning."
    )
    b.add(
        rng,
        "announcements",
        "Forum rules (updated)",
        [
            _Draft(b.admin, ["Updated rules, signed as usual."], sign=(secret, key, rules)),
            *b.chatter(rng, "en", b.length(rng, 2, 10)),
        ],
        tag="OFFICIAL",
        pinned=True,
        start=b.now - 500 * _DAY,
    )
    # 3. Canaries: one signed statement every few months.
    for k in range(b.n(3, 2)):
        when = b.now - (k * 60 + 5) * _DAY
        block = (
            "00000000000000000002"
            + hashlib.sha256(f"{b.ctx.seed}/{when}".encode()).hexdigest()[:44]
        )
        text = (
            f"Warrant canary — {_date(when)}\n\nAs of this date the {b.title} staff have not "
            "been served any warrant, subpoena or gag order,\nand we remain in control of our "
            f"keys and servers.\n\nLatest Bitcoin block hash: {block}"
        )
        b.add(
            rng,
            "announcements",
            f"Warrant canary {_date(when)}",
            [
                _Draft(b.admin, ["Canary refreshed."], sign=(secret, key, text)),
                *b.chatter(rng, "en", b.length(rng, 0, 5)),
            ],
            tag="OFFICIAL",
            start=when,
        )
    # 4. The admin's phishing PSA about the market clone.
    for clone in b.clones:
        original = next((m for m in b.markets if m.name == clone.clone_of), None)
        if original is None:
            continue
        text = (
            f"PHISHING WARNING — {original.title}\n\n"
            f"The address http://{clone.onion}/ is NOT {original.title}.\n"
            f"It copies the real site at http://{original.onion}/ page for page, but shows other "
            "vendor keys\nand its own deposit addresses. Everything you send there is gone.\n\n"
            "Check the first AND the last characters of every address."
        )
        b.add(
            rng,
            "announcements",
            f"Phishing clone of {original.title} in the wild",
            [
                _Draft(
                    b.admin,
                    ["Several users lost funds this week. Signed PSA below."],
                    sign=(secret, key, text),
                    found=[("onion", _bare(clone.onion)), ("onion", _bare(original.onion))],
                ),
                *b.chatter(rng, "en", b.length(rng, 5, 20), tuple(b.mods)),
            ],
            tag="PSA",
            pinned=True,
            start=b.now - 40 * _DAY,
        )


def _vendor_threads(b: _Builder) -> None:
    rng = b.ctx.rng(b.name, "vendor-threads")
    by_name = {s.name: s for s in [*b.markets, *b.platforms, *b.shops]}
    for handle in b.vendors:
        user = b.users[handle]
        person = b.identity(handle)
        start = rng.randrange(b.start, b.now - 60 * _DAY)
        lines = [f"{handle} — official vendor thread", f"Date: {_date(start)}", ""]
        found: list[tuple[str, str]] = []
        if user.markets:
            lines.append("Where we sell:")
            for svc_name in user.markets:
                svc = by_name[svc_name]
                there = next(v.handle for v in svc.vendors if v.identity == person.id)
                lines.append(f"  {svc.title} (as {there}): http://{svc.onion}/")
                found.append(("onion", _bare(svc.onion)))
            lines.append("")
        lines.append("Contact (PGP only):")
        labels = {
            "telegram": "Telegram",
            "jabber": "Jabber",
            "session": "Session",
            "email": "E-mail",
        }
        for kind, value in person.contacts:
            shown = f"t.me/{value}" if kind == "telegram" else value
            lines.append(f"  {labels.get(kind, kind)}: {shown}")
            found += expand(kind, value)
        btc = person.wallet("btc")
        if btc:
            lines += ["", f"Direct deals with regulars only, BTC: {btc[0]}"]
            found.append(("btc", btc[0]))
        lines += [
            "",
            "Anyone else using our name is an impersonator.",
            "Verify this message with the key on our profile.",
        ]
        sub = rng.choice(b.subs)
        drafts = [
            _Draft(
                handle,
                [
                    f"Welcome to our official thread. Menu: {', '.join(sub.en[:2])} and "
                    "more, see our market pages. Signed announcement below."
                ],
                sign=(b.secrets[handle], person.pgp, "\n".join(lines)),
                found=found,
            ),
        ]
        for _ in range(b.length(rng, 3, 40)):
            roll = rng.random()
            if roll < 0.3:
                drafts.append(_Draft(handle, [rng.choice(VENDOR_REPLIES)]))
            elif roll < 0.36:
                vacation = (
                    f"{handle}: vacation notice\n\nWe are away from "
                    f"{_date(start + 200 * _DAY)} for two weeks. No orders will be "
                    "accepted.\nOpen orders ship before we leave."
                )
                drafts.append(
                    _Draft(
                        handle,
                        ["Vacation notice, signed."],
                        sign=(b.secrets[handle], person.pgp, vacation),
                    )
                )
            else:
                asker = rng.choice(b.en)
                drafts.append(_Draft(asker, [b.fill(rng, rng.choice(VENDOR_ASKS))]))
        b.add(
            rng,
            "vendors",
            f"{handle} official thread — menu, links, PGP",
            drafts,
            tag="OFFICIAL",
            start=start,
        )
    for _ in range(b.n(4)):
        asker = rng.choice(b.en)
        sub = rng.choice(b.subs)
        drafts = [
            _Draft(
                asker,
                [
                    f"Looking for a reliable {sub.en[0]} vendor shipping to "
                    "Europe. Who do you trust?"
                ],
            )
        ]
        for _ in range(b.length(rng, 2, 20)):
            who = rng.choice([*b.en, *b.vendors])
            drafts.append(_Draft(who, b.reply(rng, "en")))
        b.add(rng, "vendors", f"Best {sub.en[0]} vendor right now?", drafts)


def _reviews(b: _Builder) -> None:
    rng = b.ctx.rng(b.name, "reviews")
    stealth = (
        "excellent, vacuum sealed and MBB",
        "decent",
        "basic but fine",
        "professional, looked like a normal letter",
    )
    quality = ("great", "fire", "average", "clean, reagent test matched", "a bit weak")
    for _ in range(b.n(30)):
        if not b.vendors:
            break
        vendor = rng.choice(b.vendors)
        user = b.users[vendor]
        sub = rng.choice(b.subs)
        name = rng.choice(sub.en)
        weight = rng.choice(sub.weights)
        unit = "g" if sub.unit == "g" else " pcs"
        market = rng.choice(
            [s.title for s in b.markets if s.name in user.markets] or b.market_names()
        )
        author = rng.choice(b.en)
        body = [
            f"Ordered {weight}{unit} of {name} from {vendor} on {market}.",
            f"Stealth: {rng.choice(stealth)}. Arrived in {rng.randrange(2, 12)} days.",
            f"Quality: {rng.choice(quality)}. {rng.choice(VERDICTS)}",
        ]
        drafts = [_Draft(author, body)]
        for _ in range(b.length(rng, 1, 14)):
            if rng.random() < 0.15:
                drafts.append(_Draft(vendor, ["Thanks for the review!"]))
            else:
                drafts.append(_Draft(rng.choice(b.en), b.reply(rng, "en")))
        b.add(rng, "reviews", f"{vendor} — {weight}{unit} {name}", drafts, tag="REVIEW")


def _scams(b: _Builder) -> list[DeadMarket]:
    ctx = b.ctx
    rng = ctx.rng(b.name, "scams")
    # The phishing clone, reported by a member with the fingerprints to compare.
    for clone in b.clones:
        original = next((m for m in b.markets if m.name == clone.clone_of), None)
        if original is None:
            continue
        author = rng.choice(b.en)
        body = [
            f"Heads up: there is a clone of {original.title} at http://{clone.onion}/ — "
            f"the real one is http://{original.onion}/. The first characters match, the rest "
            "does not.",
        ]
        found = [("onion", _bare(clone.onion)), ("onion", _bare(original.onion))]
        pairs = [
            (v, c)
            for v, c in zip(original.vendors, clone.vendors, strict=False)
            if v.handle == c.handle
        ]
        if pairs:
            real, fake = rng.choice(pairs)
            body.append(
                f"Vendor {real.handle} shows key {fake.pgp.fingerprint} on the clone, but their "
                f"real key is {real.pgp.fingerprint}. Compare before you deposit."
            )
            found += [
                ("pgp_fingerprint", fake.pgp.fingerprint),
                ("pgp_fingerprint", real.pgp.fingerprint),
            ]
            if fake.btc:
                body.append(f"The clone also swaps deposit addresses, mine was {fake.btc[0]}.")
                found.append(("btc", fake.btc[0]))
        drafts = [_Draft(author, body, found=found)]
        drafts += b.chatter(rng, "en", b.length(rng, 6, 30), tuple(b.mods))
        b.add(
            rng,
            "scams",
            f"Phishing clone of {original.title} — check the address!",
            drafts,
            tag="SCAM",
            start=b.now - 45 * _DAY,
        )
    # The exit scam of a market that is gone for good.
    dead = DeadMarket(
        name=rng.choice(DEAD_NAMES),
        onion=ctx.onion(f"{b.name}#dead-market"),
        died=_date(b.now - 150 * _DAY),
        fate="exit scam",
    )
    died = b.now - 150 * _DAY
    thief = identifiers.make("btc", ctx.secret(b.name, "exit-scam", "btc"), "p2wpkh")
    typo = identifiers.decoy("btc", ctx.secret(b.name, "exit-scam", "typo"), "p2pkh")
    recovery = contacts.telegram(ctx.rng(b.name, "exit-scam", "recovery"))
    en = b.en
    drafts = [
        _Draft(
            rng.choice(en),
            [
                f"{dead.name} (http://{dead.onion}/) has had withdrawals disabled since "
                f"{_date(died - 9 * _DAY)}. Support tickets unanswered, vendors locked out.",
                "Today the site is gone. This is an exit scam. Do not deposit anything anywhere "
                "that claims to be their new mirror.",
            ],
            found=[("onion", _bare(dead.onion))],
        ),
        _Draft(rng.choice(en), ["Lost 0.4 BTC. Lesson learned, never keep a balance."]),
        _Draft(
            rng.choice(en),
            [
                f"Their hot wallet was swept into {thief} the night before they vanished.",
            ],
            found=[("btc", thief)],
        ),
        _Draft(
            rng.choice(en),
            [
                f"People are reposting that address as {typo} — that one is mistyped, the "
                "checksum fails. Use the one above.",
            ],
            decoys=[("btc", typo)],
        ),
        _Draft(
            rng.choice(b.mods or en),
            [
                f"PSA: the 'fund recovery service' at t . me / {recovery} is a second scam. "
                "Nobody can get your coins back.",
            ],
            found=[("telegram", recovery)],
        ),
    ]
    drafts += b.chatter(rng, "en", b.length(rng, 8, 40), tuple(b.vendors[:3]))
    b.add(
        rng,
        "scams",
        f"{dead.name} exit scammed — withdrawals disabled, site gone",
        drafts,
        tag="SCAM",
        start=died,
    )
    # Impersonators and fake escrow services with obfuscated contacts.
    for k in range(b.n(6, 2)):
        author = rng.choice(en)
        c_rng = ctx.rng(b.name, "scam-contact", str(k))
        if k % 2 == 0 and b.vendors:
            victim = rng.choice(b.vendors)
            fake_tg = contacts.telegram(c_rng)
            body = [
                f"Someone is impersonating {victim} on Telegram as t . me / {fake_tg} — "
                "took my money and blocked me.",
                f"The real {victim} only sells through the markets listed in their signed thread.",
            ]
            drafts = [_Draft(author, body, found=[("telegram", fake_tg)])]
            title = f"{victim} impersonator on Telegram"
        else:
            local = contacts.email(c_rng, rng.choice(("escrow", "safetrade", "trustpay")))
            user, domain = local.split("@")
            shown = f"{user} [at] {domain.replace('.', ' [dot] ')}"
            body = [
                f"Fake 'escrow service' contacting people by mail: {shown}. They ask you to "
                "send BTC first and then disappear.",
            ]
            drafts = [_Draft(author, body, found=[("email", local)])]
            title = "Fake escrow service by e-mail"
        drafts += b.chatter(rng, "en", b.length(rng, 2, 16))
        b.add(rng, "scams", title, drafts, tag="SCAM")
    return [dead]


def _boards_misc(b: _Builder) -> None:
    ctx = b.ctx
    rng = ctx.rng(b.name, "markets-board")
    topics = (
        "Is {market} down for anyone else?",
        "{market}: withdrawal delays?",
        "Which market has the best escrow right now?",
        "Best market for {sub}?",
        "{market} new captcha is unbearable",
        "Thoughts on multisig vs centralized escrow",
        "{market} vendor bond raised again",
    )
    for _ in range(b.n(18)):
        title = b.fill(rng, rng.choice(topics))
        drafts = [_Draft(rng.choice(b.en), b.reply(rng, "en"))]
        drafts += b.chatter(rng, "en", b.length(rng, 1, 30))
        b.add(rng, "markets", title, drafts)
    for market in b.markets:
        if not market.mirrors:
            continue
        lines = [f"Current {market.title} addresses (copied from their signed mirrors.txt):"]
        found = []
        for address in (market.onion, *market.mirrors):
            lines.append(f"http://{address}/")
            found.append(("onion", _bare(address)))
        drafts = [
            _Draft(
                rng.choice(b.en), ["\n".join(lines), "Verify the signature yourself."], found=found
            )
        ]
        drafts += b.chatter(rng, "en", b.length(rng, 2, 12))
        b.add(rng, "markets", f"{market.title} mirror list", drafts, tag="PSA")

    rng = ctx.rng(b.name, "harm-reduction")
    for _ in range(b.n(16)):
        sub = rng.choice(b.subs)
        names = ", ".join(sub.en[:3])
        dose = rng.choice(("a low dose", "a small test dose", "a moderate dose"))
        body = [
            f"Trip report: {sub.en[0]} ({names}). Took {dose} after a reagent test.",
            rng.choice(
                (
                    "Come-up took about forty minutes, then a clean plateau for three hours.",
                    "Nausea at first, then very pleasant. Hydrate, don't overheat.",
                    "Too strong for me, I would halve it next time.",
                    "Sleep was bad afterwards. Would not combine with alcohol again.",
                )
            ),
        ]
        drafts = [_Draft(rng.choice(b.en), body)]
        drafts += b.chatter(rng, "en", b.length(rng, 1, 18))
        b.add(rng, "harm-reduction", f"Trip report: {sub.en[0]}", drafts, tag="REVIEW")

    rng = ctx.rng(b.name, "opsec")
    opsec = (
        "Tails with persistent storage for PGP keys?",
        "How do you verify a signed mirror list?",
        "Whonix or Tails for a daily driver?",
        "Is it safe to reuse a drop address?",
        "Monero vs Bitcoin for market deposits",
        "How to spot a fake vendor key",
    )
    for _ in range(b.n(12)):
        drafts = [
            _Draft(
                rng.choice(b.en),
                [
                    rng.choice(
                        (
                            "Genuine question, I'm new here.",
                            "Asking before I make a mistake.",
                            "Curious what the regulars do.",
                        )
                    )
                ],
            )
        ]
        drafts += b.chatter(rng, "en", b.length(rng, 2, 25), tuple(b.mods))
        b.add(rng, "opsec", rng.choice(opsec), drafts)
    # A checksum tutorial: look-alike addresses that fail validation.
    secret = ctx.secret(b.name, "tutorial")
    fakes = [
        ("btc", identifiers.decoy("btc", secret, "p2pkh")),
        ("ltc", identifiers.decoy("ltc", secret, "p2wpkh")),
        ("xmr", identifiers.decoy("xmr", secret, "standard")),
        ("eth", identifiers.decoy("eth", secret)),
        ("trx", identifiers.decoy("trx", secret)),
        ("onion", identifiers.onion_decoy(secret)),
    ]
    good = identifiers.make("btc", ctx.secret(b.name, "tutorial", "good"), "p2pkh")
    body = [
        "Every address type has a checksum. Paste these into a validator and watch them fail:",
        "\n".join(f"{kind.upper()}: {value}" for kind, value in fakes),
        f"For comparison, a valid BTC address (donations to the harm-reduction fund): {good}",
    ]
    drafts = [_Draft(b.mods[0] if b.mods else b.admin, body, found=[("btc", good)], decoys=fakes)]
    drafts += b.chatter(rng, "en", b.length(rng, 3, 15))
    b.add(rng, "opsec", "Checksums 101: spotting fake addresses", drafts, tag="PSA", pinned=True)

    rng = ctx.rng(b.name, "offtopic")
    chat = (
        "What music do you listen to while lurking?",
        "Post your setup",
        "Coffee or tea?",
        "Favourite harm reduction resources?",
        "Unpopular opinions thread",
        "What got you into privacy tech?",
        "Books thread",
    )
    for _ in range(b.n(14)):
        drafts = [_Draft(rng.choice(b.en), ["Let's hear it."])]
        drafts += b.chatter(rng, "en", b.length(rng, 2, 30))
        b.add(rng, "offtopic", rng.choice(chat), drafts)


def _russian(b: _Builder, city_slugs: dict[str, City]) -> None:
    ctx = b.ctx
    rng = ctx.rng(b.name, "ru")
    platform = b.platforms[0] if b.platforms else None
    shop_names = [s for p in b.platforms for s in _platform_shops(p)] or ["Белый Кролик"]
    for slug, city in city_slugs.items():
        for _ in range(b.n(3.5)):
            sub = rng.choice(b.subs)
            name = rng.choice(_sub_names(sub, "ru"))
            shop = rng.choice(shop_names)
            weight = rng.choice(sub.weights)
            unit = "г" if sub.unit == "g" else "шт"
            stash = rng.choice(("магнит", "прикоп", "тайник"))
            district = rng.choice(city.districts)
            author = rng.choice(b.ru)
            roll = rng.random()
            if roll < 0.55:
                title = f"{shop} — {name} {weight} {unit}, {city.name_ru}"
                tag = "REVIEW"
                body = [
                    f"Брал {name} {weight} {unit} у магазина «{shop}», район «{district}», "
                    f"{stash}. {rng.choice(VERDICTS_RU)}"
                ]
            elif roll < 0.75:
                title = f"Чайки в районе «{district}»"
                tag = "PSA"
                body = [
                    f"В районе «{district}» ({city.name_ru}) снимают клады, будьте "
                    "осторожны, берите на магнит подальше от остановок."
                ]
            else:
                title = f"Где взять {name} в городе {city.name_ru}?"
                tag = ""
                body = [f"Подскажите нормальный магазин, {name} нужен, {city.name_ru}."]
            drafts = [_Draft(author, body)]
            drafts += b.chatter(rng, "ru", b.length(rng, 1, 20))
            b.add(rng, f"ru/{slug}", title, drafts, tag=tag, lang="ru")
    # Общий раздел: platform talk; the platform's address in a signed-looking repost.
    for k in range(b.n(9)):
        author = rng.choice(b.ru)
        if k == 0 and platform is not None:
            body = [
                f"Актуальная ссылка на {platform.title}: http://{platform.onion}/ — "
                "проверяйте подпись на самой площадке, фишинга полно."
            ]
            drafts = [_Draft(author, body, found=[("onion", _bare(platform.onion))])]
            title = f"Рабочая ссылка {platform.title}"
        else:
            title = rng.choice(
                (
                    "Какая площадка сейчас надёжнее?",
                    "Обменник BTC на карту — кто пользуется?",
                    "Перезаклад: сколько ждать?",
                    "Как не попасться чайкам",
                    "Новички, читаем тут",
                )
            )
            drafts = [_Draft(author, b.reply(rng, "ru"))]
        drafts += b.chatter(rng, "ru", b.length(rng, 2, 25))
        b.add(rng, "ru/general", title, drafts, lang="ru")
    # Работа: recruitment threads with operators' Telegram bots, written obfuscated.
    roles = (
        ("закладчик", (400, 1200)),
        ("курьер", (500, 1500)),
        ("склад", (60000, 150000)),
        ("трафаретчик", (300, 800)),
        ("водитель", (80000, 200000)),
    )
    for k in range(b.n(10)):
        role, (low, high) = rng.choice(roles)
        city = rng.choice(b.cities)
        sub = rng.choice(b.subs)
        pay = rng.randrange(low, high, 50 if high < 5000 else 5000)
        per = "за клад" if high < 5000 else "в месяц"
        bot = contacts.telegram(ctx.rng(b.name, "rabota", str(k)), bot=True)
        forms = (f"t . me / {bot}", f"t[.]me/{bot}", f"телега: @ {bot}")
        shown = forms[k % len(forms)]
        body = [
            f"Требуется {role} в г. {city.name_ru}. Оплата {pay} ₽ {per}, выплаты каждую "
            f"неделю. Товар: {rng.choice(_sub_names(sub, 'ru'))}.",
            f"Залог или фото паспорта. Пиши оператору: {shown}",
        ]
        found = [("telegram", bot)]
        if rng.random() < 0.4:
            jid = contacts.jabber(ctx.rng(b.name, "rabota-jabber", str(k)))
            body.append(f"Jabber: {jid}")
            found += expand("jabber", jid)
        drafts = [_Draft(rng.choice(b.ru), body, found=found)]
        drafts += b.chatter(rng, "ru", b.length(rng, 0, 12))
        b.add(rng, "ru/rabota", f"Работа: {role}, {city.name_ru}", drafts, lang="ru")


def _platform_shops(platform: Service) -> list[str]:
    shops = getattr(platform.content, "shops", ())
    names = [getattr(shop, "name", "") for shop in shops]
    return [n for n in names if n]


# --- build -----------------------------------------------------------------------------------


def _boards(city_slugs: dict[str, City]) -> list[Board]:
    boards = [
        Board("announcements", "Announcements", "Official news, signed by the staff."),
        Board("markets", "Markets", "Market news, uptime, mirrors and escrow talk."),
        Board("vendors", "Vendors", "Official vendor threads and vendor questions."),
        Board("reviews", "Reviews", "Order reviews. Tag them [REVIEW]."),
        Board("scams", "Scams", "Scam reports with evidence. Phishing, exit scams, rippers."),
        Board("harm-reduction", "Harm Reduction", "Trip reports, dosing, testing."),
        Board("opsec", "OpSec", "Privacy, PGP, Tails, cryptocurrency hygiene."),
        Board("offtopic", "Off-topic", "Everything else."),
        Board(
            "ru",
            "Русский раздел",
            "Русскоязычный раздел: площадки, города, работа.",
            lang="ru",
            sections=True,
        ),
        Board(
            "ru/general",
            "Общий раздел",
            "Площадки, обменники, вопросы новичков.",
            lang="ru",
            parent="ru",
        ),
        Board(
            "ru/rabota",
            "Работа",
            "Вакансии магазинов: курьеры, склад, трафарет.",
            lang="ru",
            parent="ru",
        ),
    ]
    for slug, city in city_slugs.items():
        boards.append(
            Board(
                f"ru/{slug}",
                city.name_ru,
                f"Отзывы и магазины: {city.name_ru}.",
                lang="ru",
                parent="ru",
            )
        )
    return boards


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The forum: staff, vendors and members, boards, threads and signed announcements."""
    b = _Builder(ctx, spec)
    onion = ctx.onion(spec.name)
    b.make_users()
    city_rng = ctx.rng(spec.name, "cities")
    all_cities = list(cities())
    picked = city_rng.sample(all_cities, min(len(all_cities), max(3, round(8 * ctx.scale))))
    picked.sort(key=all_cities.index)
    city_slugs = {_slug(c.name_en): c for c in picked}
    _announcements(b, onion)
    _vendor_threads(b)
    _reviews(b)
    dead = _scams(b)
    _boards_misc(b)
    _russian(b, city_slugs)

    posted = user_posts_from(b.threads)
    users = tuple(
        sorted((u for u in b.users.values() if u.handle in posted), key=lambda u: u.handle.lower())
    )
    admin = b.users[b.admin]
    assert admin.pgp is not None
    notice = clearsign(
        b.secrets[b.admin],
        admin.pgp,
        f"{b.title} is reachable ONLY at:\n\nhttp://{onion}/\n\nAny other address claiming to "
        f"be {b.title} is a phishing site.\nSigning key: {admin.pgp.fingerprint}",
        b.now - 10 * _DAY,
    )
    content = ForumContent(
        boards=tuple(_boards(city_slugs)),
        users=users,
        threads=tuple(b.threads),
        admin=b.admin,
        admin_key=admin.pgp,
        pgp_notice=notice,
        dead_markets=tuple(dead),
        founded=b.founded,
    )
    return Service(
        name=spec.name,
        kind="forum",
        title=b.title,
        onion=onion,
        tagline=b.tagline,
        mirrors=ctx.mirrors(spec),
        content=content,
    )


def user_posts_from(threads: list[Thread] | tuple[Thread, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for thread in threads:
        for post in thread.posts:
            counts[post.author] = counts.get(post.author, 0) + 1
    return counts


# --- truth -----------------------------------------------------------------------------------


def pages(service: Service) -> list[Page]:
    content = content_of(service)
    found = [Page("/", "home"), Page(PGP_PATH, "pgp")]
    for board in content.boards:
        if board.sections:
            found.append(Page(board_path(board.slug), "sections", board.slug))
            continue
        for n in range(1, board_page_count(content, board.slug) + 1):
            found.append(Page(board_path(board.slug, n), "board", board.slug, n))
    for thread in content.threads:
        for n in range(1, thread_page_count(content, thread) + 1):
            found.append(Page(thread_path(thread.tid, n), "thread", thread.tid, n))
    found += [Page(user_path(u.handle), "user", u.handle) for u in content.users]
    return found


def _page_items(service: Service) -> tuple[list[Occurrence], list[Occurrence]]:
    content = content_of(service)
    users = {u.handle: u for u in content.users}
    valid: set[Occurrence] = {Occurrence("onion", _bare(service.onion), "/")}
    bad: set[Occurrence] = set()
    valid.add(Occurrence("onion", _bare(service.onion), PGP_PATH))
    valid.add(Occurrence("pgp_fingerprint", content.admin_key.fingerprint, PGP_PATH))
    for thread in content.threads:
        for post in thread.posts:
            path = thread_path(thread.tid, post_page(content, post.number))
            author = users[post.author]
            for kind, value in post.found:
                valid.update(Occurrence(k, v, path) for k, v in expand(kind, value))
            bad.update(Occurrence(k, v, path) for k, v in post.decoys)
            if author.sig_fpr and author.pgp is not None:
                valid.add(Occurrence("pgp_fingerprint", author.pgp.fingerprint, path))
            if author.sig_tip is not None:
                valid.add(Occurrence(*author.sig_tip, path))
    for user in content.users:
        path = user_path(user.handle)
        if user.pgp is not None:
            valid.add(Occurrence("pgp_fingerprint", user.pgp.fingerprint, path))
        for kind, value in (*user.contacts, *user.wallets):
            valid.update(Occurrence(k, v, path) for k, v in expand(kind, value))
    order = lambda o: (o.path, o.type, o.value)  # noqa: E731
    return sorted(valid, key=order), sorted(bad, key=order)


def occurrences(service: Service) -> list[Occurrence]:
    return _page_items(service)[0]


def decoys(service: Service) -> list[Occurrence]:
    return _page_items(service)[1]


def truth_listings(service: Service) -> list[dict[str, Any]]:
    return []


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    content = content_of(service)
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "handle": u.handle,
            "identity": u.identity,
            "url": base + user_path(u.handle),
            "pgp_fingerprint": u.pgp.fingerprint if u.pgp else "",
            "btc": sorted(v for k, v in u.wallets if k == "btc"),
            "wallets": [{"type": k, "value": v} for k, v in u.wallets],
            "contacts": [{"type": k, "value": v} for k, v in u.contacts],
            "markets": list(u.markets),
        }
        for u in content.users
        if u.role == "vendor"
    ]
