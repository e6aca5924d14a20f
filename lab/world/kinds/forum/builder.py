"""The forum's builder: its staff, vendors and members, and how a thread is added.

Depends on ``onionlab.lab.world`` and the forum's content and words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.kinds.forum.content import (
    DAY,
    MARKET_KINDS,
    MEMBERS_EN_PER_SCALE,
    MEMBERS_RU_PER_SCALE,
    VENDORS_PER_SCALE,
    Post,
    Quote,
    Thread,
    User,
    date_of,
)
from onionlab.lab.world.kinds.forum.words import (
    ADMIN_HANDLES,
    EN_A,
    EN_B,
    EN_REPLIES,
    FORUM_NAMES,
    FORUM_SLOGANS,
    FREE_MAIL,
    MOD_HANDLES,
    RU_A,
    RU_B,
    RU_REPLIES,
    SIGNATURES_EN,
    SIGNATURES_RU,
)
from onionlab.lab.world.model import Identity, PgpKey, Service
from onionlab.lab.world.pgp import clearsign, make_key
from onionlab.lab.world.vocab import Substance, cities, rates, substances

# Member handle styles (``contacts.NameStyle``), drawn after the two words.
_MEMBER_STYLES: tuple[contacts.NameStyle, ...] = (
    lambda rng, first, second: f"{first}_{second}",
    lambda rng, first, second: f"{first.capitalize()}{second.capitalize()}",
    lambda rng, first, second: f"{first}{second}{rng.randrange(10, 1000)}",
    lambda rng, first, second: f"{second}_{rng.randrange(1970, 2006)}",
    lambda rng, first, second: f"throwaway_{rng.randrange(1000, 10000)}",
)


@dataclass
class Draft:
    author: str
    paragraphs: list[str]
    sign: tuple[bytes, PgpKey, str] | None = None  # (secret, key, text) to clearsign
    found: list[tuple[str, str]] = field(default_factory=list)
    decoys: list[tuple[str, str]] = field(default_factory=list)


def sub_names(sub: Substance, lang: str) -> tuple[str, ...]:
    return (sub.ru or sub.en) if lang == "ru" else sub.en


def slug_of(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class Builder:
    def __init__(self, ctx: WorldContext, spec: ServiceSpec) -> None:
        self.ctx = ctx
        self.name = spec.name
        self.scale = ctx.scale
        today = datetime.strptime(rates().date, "%Y-%m-%d").replace(tzinfo=UTC)
        self.now = int(today.timestamp()) - 3600  # the story's "now": the evening before
        self.start = self.now - 620 * DAY
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
            sub=rng.choice(sub_names(sub, lang)),
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
        created = self.founded_ts - rng.randrange(10, 200) * DAY
        key = make_key(secret, f"{self.title} Admin <{self.admin.lower()}@{FREE_MAIL[0]}>", created)
        self.secrets[self.admin] = secret
        self.users[self.admin] = User(
            handle=self.admin,
            role="admin",
            joined=date_of(self.founded_ts),
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
                joined=date_of(joined),
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
                (rng.choice(RU_A), rng.choice(RU_B))
                if lang == "ru"
                else (rng.choice(EN_A), rng.choice(EN_B))
            )
            style = rng.randrange(5)
            handle = _MEMBER_STYLES[style](rng, first, second)
            if self.unique(handle):
                break
        else:  # pragma: no cover
            raise RuntimeError("ran out of member handles")
        joined = rng.randrange(self.founded_ts, self.start)  # before any thread
        pgp = None
        if rng.random() < 0.3:
            secret = self.ctx.secret(self.name, "user", handle, "pgp")
            pgp = make_key(secret, handle, joined - rng.randrange(0, 300) * DAY)
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
            joined=date_of(joined),
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
                joined=date_of(joined),
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
        drafts: list[Draft],
        *,
        tag: str = "",
        pinned: bool = False,
        start: int | None = None,
        lang: str = "en",
    ) -> None:
        """Add a thread: ``drafts`` are its opening posts; quotes and times are drawn here."""
        if start is None:
            start = rng.randrange(self.start, self.now - 3 * DAY)
        posts: list[Post] = []
        ts = start
        for number, draft in enumerate(drafts, 1):
            if number > 1:
                ts = min(self.now, ts + rng.randrange(600, 2 * DAY))
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
    ) -> list[Draft]:
        """``count`` generic replies by members (and ``extra`` people) of ``lang``."""
        people = [*(self.ru if lang == "ru" else self.en), *extra]
        return [Draft(rng.choice(people), self.reply(rng, lang)) for _ in range(count)]

    def length(self, rng: random.Random, low: int, high: int) -> int:
        """A reply count, skewed to short threads with a long tail."""
        return min(high, low + int(rng.expovariate(1 / max(1, (high - low) / 2))))
