"""Site kind ``paste``: an anonymous paste site, with one PrivateBin-style encrypted paste.

Index pages (newest first) → paste pages ``/p/<id>`` (title, author, created/expiry as fixed
strings, syntax, body) and their ``/raw/<id>`` text views. Bodies are what gets pasted in
the wild: English and Russian price lists, vendors' PGP keys, mirror lists (the onions of
the services built so far, the phishing clone among them, plus bad-checksum decoys),
contact lists, wallet lists (valid addresses and checksum-failing decoys) and chatter.
Price-list pastes are NOT listings in the ground truth.

One paste is end-to-end encrypted (AES-256-GCM, key from the seed): its page holds only
ciphertext and a script that decrypts with the key in the URL fragment, which never reaches
the server. Truth lists its page but none of the identifiers inside it. The index links it
without the fragment; another paste quotes the full link. Depends on ``onionlab.lab.world`` and
pycryptodome.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from Crypto.Cipher import AES

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.kinds.vendor_shop_a import jabber_onions, shop_price, story_day, timestamp
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Identity, Service
from onionlab.lab.world.vocab import cities, rates, substances

PASTES_PER_SCALE = 140
PER_PAGE = 15
MIN_PASTES = 12

HOME = "/"
ABOUT = "/about"


def index_path(number: int = 1) -> str:
    return "/" if number == 1 else f"/archive/{number}"


def paste_path(paste_id: str) -> str:
    return f"/p/{paste_id}"


def raw_path(paste_id: str) -> str:
    return f"/raw/{paste_id}"


@dataclass(frozen=True)
class Paste:
    """One paste. ``found``/``decoys`` are the ``(type, value)`` identifiers in ``body``."""

    paste_id: str
    title: str
    author: str
    created: str  # "2026-09-14 13:22:07 UTC"
    expires: str  # "Never" or a time like ``created``
    syntax: str
    kind: str  # prices_en, prices_ru, pgp, mirrors, contacts, crypto, chatter, link, encrypted
    body: str  # "" for the encrypted paste
    views: int
    found: tuple[tuple[str, str], ...] = ()
    decoys: tuple[tuple[str, str], ...] = ()
    cipher: str = ""  # the encrypted paste's JSON envelope (v, adata, iv, ct)

    @property
    def encrypted(self) -> bool:
        return bool(self.cipher)


@dataclass(frozen=True)
class PasteBin:
    pastes: tuple[Paste, ...]  # newest first
    encrypted_id: str
    fragment: str  # the key (base64url) that only the full link carries
    link_id: str  # the paste quoting the full link

    def paste(self, paste_id: str) -> Paste:
        for p in self.pastes:
            if p.paste_id == paste_id:
                return p
        raise KeyError(paste_id)


_KINDS = ("prices_en", "prices_ru", "pgp", "mirrors", "contacts", "crypto", "chatter")
_WEIGHTS = (15, 12, 12, 10, 12, 14, 25)
_CHATTER = (
    "anyone know if the old market is coming back? mirrors dead since tuesday",
    "reminder: never finalize early, no matter what the vendor says",
    "my package has been stuck for 9 days, is that normal for domestic?",
    "tails + tor browser on safest, nothing else. stop using your phone",
    "the forum is slow again, probably another ddos",
    "test paste please ignore",
    "if you have to ask whether a vendor is legit, check the forum scam section first",
    "lost my notes, reposting my reading list: opsec basics, pgp for beginners, tails docs",
    "who else got the phishing link in their inbox today? check the fingerprint, people",
    "reagent test kits are cheap, use them",
    "exit scam soon? withdrawals slow since the weekend",
    "new here. how do I import a pgp key in kleopatra?",
)
_TITLES = {
    "prices_en": ("price list {date}", "{handle} menu", "updated prices", "{handle} - prices"),
    "prices_ru": ("прайс {date}", "актуальный прайс", "прайс-лист {city}", "наличие и цены"),
    "pgp": ("{handle} pgp key", "new key for {handle}", "my public key", "pgp"),
    "mirrors": ("working mirrors {date}", "onion links (verified)", "mirror list", "links"),
    "contacts": ("contacts", "verified contacts list", "how to reach us", "vendor contacts"),
    "crypto": ("payment addresses", "{handle} wallets", "donations", "addresses DO NOT USE"),
    "chatter": ("untitled", "question", "rant", "notes", "read this", "psa"),
}
_EXPIRY = ((None, 5), (timedelta(days=7), 2), (timedelta(days=30), 2), (timedelta(days=365), 1))


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")


def _gpg_fingerprint(fpr: str) -> str:
    groups = [fpr[i : i + 4] for i in range(0, 40, 4)]
    return " ".join(groups[:5]) + "  " + " ".join(groups[5:])


class _Writer:
    """Writes paste bodies and records every identifier it writes."""

    def __init__(self, ctx: WorldContext, rng: random.Random, pid: str) -> None:
        self.ctx, self.rng, self.pid = ctx, rng, pid
        self.found: list[tuple[str, str]] = []
        self.decoys: list[tuple[str, str]] = []

    def put(self, kind: str, value: str) -> str:
        self.found.append((kind, value))
        if kind == "jabber":
            self.found += [("onion", host) for host in jabber_onions(value)]
        return value

    def bad(self, kind: str, value: str) -> str:
        self.decoys.append((kind, value))
        return value

    def _items(self, count: int) -> list[tuple[Any, str, Decimal]]:
        pool = [s for s in substances() if s.unit == "g"]
        out = []
        for sub in self.rng.sample(pool, count):
            weight = self.rng.choice(sub.weights)
            out.append((sub, weight, shop_price(self.rng, sub, Decimal(weight))))
        return out

    def contact_line(self, person: Identity) -> str:
        if person.contact("telegram") and self.rng.random() < 0.7:
            return f"Telegram: @{self.put('telegram', person.contact('telegram')[0])}"
        return f"E-mail: {self.put('email', person.contact('email')[0])}"

    def prices_en(self, person: Identity, handle: str, day: str) -> str:
        lines = [f"{handle} - PRICE LIST ({day})", "=" * 40]
        for sub, weight, usd in self._items(self.rng.randrange(5, 10)):
            name = self.rng.choice(sub.names or sub.en)
            lines.append(f"{name:<28} {weight:>5}g  ${usd}")
        lines += ["-" * 40, f"Ships from {person.country}. Stealth included.",
                  self.contact_line(person)]  # fmt: skip
        if self.rng.random() < 0.5:
            lines.append(f"PGP: {self.put('pgp_fingerprint', person.pgp.fingerprint)}")
        return "\n".join(lines)

    def prices_ru(self, person: Identity, city: str, day: str) -> str:
        lines = [f"ПРАЙС {day} | {city}", ""]
        for sub, weight, usd in self._items(self.rng.randrange(5, 10)):
            rub = (rates().convert(usd * Decimal("1.3"), "RUB") / 100).quantize(
                Decimal(1), ROUND_HALF_UP
            ) * 100
            label = sub.ru[0] if self.rng.random() < 0.6 else self.rng.choice(sub.ru)
            lines.append(f"{label} {weight} г — {rub} ₽")
        kind = self.rng.choice(("магнит", "прикоп", "тайник"))
        lines += ["", f"Клады: {kind}. Ненаход — перезаклад по фото.", "Оплата: BTC, USDT TRC20"]
        if person.wallet("trx"):
            lines.append(f"USDT (TRC20): {self.put('trx', person.wallet('trx')[0])}")
        if person.contact("telegram") and self.rng.random() < 0.5:
            lines.append(f"Оператор: @{self.put('telegram', person.contact('telegram')[0])}")
        else:
            bot = contacts.telegram(self.rng, bot=True)
            lines.append(f"Бот для заказа: @{self.put('telegram', bot)}")
        return "\n".join(lines)

    def pgp(self, person: Identity) -> str:
        key = person.pgp
        created = datetime.fromtimestamp(key.created, UTC).strftime("%Y-%m-%d")
        self.put("pgp_fingerprint", key.fingerprint)
        self.put("email", person.contact("email")[0])
        return (
            f"pub   ed25519 {created} [SC]\n      {_gpg_fingerprint(key.fingerprint)}\n"
            f"uid           {key.uid}\n\n{key.armored.rstrip()}"
        )

    def mirrors(self, built: list[Service], day: str) -> str:
        lines = [f"Working onion links, checked {day}", ""]
        chosen = self.rng.sample(built, min(len(built), self.rng.randrange(3, 7)))
        for svc in chosen:
            label = svc.title if not svc.clone_of else f"{svc.title} (new mirror!)"
            lines.append(f"{label}:")
            for host in (svc.onion, *svc.mirrors):
                lines.append(f"  http://{self.put('onion', host.removesuffix('.onion'))}.onion")
        for n in range(self.rng.randrange(1, 3)):
            fake = identifiers.onion_decoy(self.ctx.secret("paste", self.pid, "onion", str(n)))
            lines.append(f"Backup (new): http://{self.bad('onion', fake)}.onion")
        lines += ["", "Always check the PGP-signed mirror list on the site itself."]
        return "\n".join(lines)

    def contacts(self, people: list[Identity], handles: dict[str, str]) -> str:
        lines = ["Verified contacts (double check before you write):", ""]
        for person in people:
            parts = [f"tg @{self.put('telegram', v)}" for v in person.contact("telegram")]
            parts += [f"xmpp {self.put('jabber', v)}" for v in person.contact("jabber")]
            parts += [f"session {self.put('session', v)}" for v in person.contact("session")]
            if not parts or self.rng.random() < 0.4:
                parts.append(f"mail {self.put('email', person.contact('email')[0])}")
            lines.append(f"{handles[person.id]}: " + " | ".join(parts))
        return "\n".join(lines)

    def crypto(self, person: Identity, handle: str) -> str:
        labels = {"btc": "BTC", "ltc": "LTC", "xmr": "XMR", "eth": "ETH/USDT-ERC20",
                  "trx": "USDT-TRC20"}  # fmt: skip
        lines = [f"{handle} - payment addresses", ""]
        for kind, value in person.wallets:
            lines.append(f"{labels[kind]}: {self.put(kind, value)}")
        for n in range(self.rng.randrange(1, 3)):
            kind = self.rng.choice(tuple(identifiers.VARIANTS))
            variant = self.rng.choice(identifiers.VARIANTS[kind])
            fake = identifiers.decoy(
                kind, self.ctx.secret("paste", self.pid, kind, str(n)), variant
            )
            lines.append(f"{labels[kind]} (copied from chat, unverified): {self.bad(kind, fake)}")
        lines += ["", "Addresses not in this list are not mine."]
        return "\n".join(lines)

    def chatter(self) -> str:
        return "\n\n".join(self.rng.sample(_CHATTER, self.rng.randrange(1, 4)))


def _paste_ids(rng: random.Random, count: int) -> list[str]:
    alphabet = string.ascii_letters + string.digits
    taken: list[str] = []
    while len(taken) < count:
        pid = "".join(rng.choice(alphabet) for _ in range(8))
        if pid not in taken and not pid.isdigit():
            taken.append(pid)
    return taken


def _key(ctx: WorldContext, name: str) -> bytes:
    return ctx.secret(name, "privatebin", "key")


def _fragment(key: bytes) -> str:
    """The key as PrivateBin-style links carry it after ``#`` (base64url, no padding)."""
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def _encrypt(ctx: WorldContext, name: str, pid: str, plaintext: str) -> tuple[str, str]:
    """``(envelope JSON, base64url key)`` of a PrivateBin-style AES-256-GCM paste."""
    key = _key(ctx, name)
    iv = ctx.secret(name, "privatebin", "iv")[:12]
    adata = json.dumps({"v": 2, "id": pid, "formatter": "plaintext"}, separators=(",", ":"))
    cipher = AES.new(key, AES.MODE_GCM, nonce=iv)
    cipher.update(adata.encode())
    ct, tag = cipher.encrypt_and_digest(plaintext.encode("utf-8"))
    envelope = {
        "v": 2,
        "adata": adata,
        "iv": base64.b64encode(iv).decode(),
        "ct": base64.b64encode(ct + tag).decode(),
    }
    return json.dumps(envelope, separators=(",", ":")), _fragment(key)


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The paste site: pastes drawn from the world's people and services."""
    name = spec.name
    onion = ctx.onion(name)
    rng = ctx.rng(name, "plan")
    count = max(MIN_PASTES, round(PASTES_PER_SCALE * ctx.scale))
    kinds = [*_KINDS, "encrypted", "link"]
    kinds += rng.choices(_KINDS, _WEIGHTS, k=count - len(kinds))
    rng.shuffle(kinds)
    ids = _paste_ids(ctx.rng(name, "ids"), count)
    now = datetime.fromtimestamp(timestamp(story_day()), UTC)
    created = sorted(
        (now - timedelta(seconds=rng.randrange(3600, 86400 * 200)) for _ in range(count)),
        reverse=True,
    )
    # People: the single-vendor shops' owners first (so pastes link to them), then others.
    shops = [s.content.identity for s in ctx.built.values() if s.kind.startswith("vendor_shop")]
    by_id = {p.id: p for p in ctx.identities}
    people = [by_id[i] for i in shops if i in by_id]
    people += [p for p in ctx.vendors_for(name, min(16, len(ctx.identities))) if p not in people]
    handles = {p.id: handle_on(p, name, ctx.seed) for p in people}
    built = list(ctx.built.values())
    city_names = [c.name_ru for c in cities()]

    enc_id = ids[kinds.index("encrypted")]
    pastes: list[Paste] = []
    fragment = _fragment(_key(ctx, name))
    for n, (pid, kind, when) in enumerate(zip(ids, kinds, created, strict=True)):
        prng = ctx.rng(name, "paste", pid)
        w = _Writer(ctx, prng, pid)
        person = people[n % len(people)]
        handle = handles[person.id]
        day = when.strftime("%Y-%m-%d")
        city = prng.choice(city_names)
        author = handle if kind in ("prices_en", "pgp", "crypto") and prng.random() < 0.7 else ""
        syntax = "text"
        cipher = ""
        if kind == "prices_en":
            body = w.prices_en(person, handle, day)
        elif kind == "prices_ru":
            body = w.prices_ru(person, city, day)
        elif kind == "pgp":
            body, syntax = w.pgp(person), "pgp"
        elif kind == "mirrors":
            body = w.mirrors(built, day)
        elif kind == "contacts":
            body = w.contacts(prng.sample(people, min(len(people), prng.randrange(2, 5))), handles)
        elif kind == "crypto":
            body = w.crypto(person, handle)
        elif kind == "chatter":
            body, syntax = w.chatter(), prng.choice(("text", "markdown"))
        elif kind == "link":
            link = f"http://{onion}{paste_path(enc_id)}#{fragment}"
            w.put("onion", onion.removesuffix(".onion"))
            body = (
                "the real list is in the encrypted paste, open the FULL link in tor browser "
                f"(js needed, the key is after the #):\n\n{link}\n\nno key, no list."
            )
        else:  # encrypted: whatever it says stays out of the ground truth
            secret = _Writer(ctx, prng, pid)
            plaintext = (
                secret.contacts(people[:3], handles) + "\n\n" + secret.crypto(person, handle)
            )
            cipher = _encrypt(ctx, name, pid, plaintext)[0]
            body, syntax = "", "plaintext"
        titles = _TITLES.get(kind, ("private list",))
        title = prng.choice(titles).format(handle=handle, date=day, city=city)
        if kind == "encrypted":
            title = "Encrypted paste"
        elif kind == "link":
            title = "private list (key inside)"
        delta = prng.choices([d for d, _ in _EXPIRY], [wt for _, wt in _EXPIRY])[0]
        pastes.append(
            Paste(
                paste_id=pid,
                title=title,
                author=author or "Anonymous",
                created=_fmt(when),
                expires="Never" if delta is None else _fmt(when + delta),
                syntax=syntax,
                kind=kind,
                body=body,
                views=prng.randrange(2, 4000),
                found=tuple(dict.fromkeys(w.found)) if not cipher else (),
                decoys=tuple(dict.fromkeys(w.decoys)) if not cipher else (),
                cipher=cipher,
            )
        )
    link_id = ids[kinds.index("link")]
    return Service(
        name=name,
        kind="paste",
        title="ZeroPaste",
        onion=onion,
        tagline="paste anything. no accounts, no logs.",
        per_page=PER_PAGE,
        mirrors=ctx.mirrors(spec),
        content=PasteBin(tuple(pastes), enc_id, fragment, link_id),
    )


# --- ground truth ----------------------------------------------------------------------------


def index_pages(service: Service) -> int:
    return max(1, -(-len(service.content.pastes) // service.per_page))


def pages(service: Service) -> list[Page]:
    bin_: PasteBin = service.content
    found = [Page(index_path(n), "index", "", n) for n in range(1, index_pages(service) + 1)]
    for p in bin_.pastes:
        found.append(Page(paste_path(p.paste_id), "paste", p.paste_id))
        if not p.encrypted:
            found.append(Page(raw_path(p.paste_id), "raw", p.paste_id))
    found.append(Page(ABOUT, "about"))
    return found


def _per_page(service: Service, attr: str) -> list[Occurrence]:
    out = []
    for p in service.content.pastes:
        for kind, value in getattr(p, attr):
            out.append(Occurrence(kind, value, paste_path(p.paste_id)))
            out.append(Occurrence(kind, value, raw_path(p.paste_id)))
    return out


def occurrences(service: Service) -> list[Occurrence]:
    own = Occurrence("onion", service.onion.removesuffix(".onion"), ABOUT)
    return [own, *_per_page(service, "found")]


def decoys(service: Service) -> list[Occurrence]:
    return _per_page(service, "decoys")


def truth_listings(service: Service) -> list[dict[str, Any]]:
    return []  # price-list pastes are not listings


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    return []
