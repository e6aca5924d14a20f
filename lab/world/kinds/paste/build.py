"""Builds the paste site: pastes of every kind, one of them end-to-end encrypted.

Depends on ``onionlab.lab.world``, ``vendor_shop_a``'s helpers and pycryptodome.
"""

from __future__ import annotations

import base64
import json
import random
import string
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from Crypto.Cipher import AES

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.data_files import load_words
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.kinds.paste.content import (
    MIN_PASTES,
    PASTES_PER_SCALE,
    PER_PAGE,
    Paste,
    PasteBin,
)
from onionlab.lab.world.kinds.paste.paths import paste_path
from onionlab.lab.world.kinds.vendor_shop_a import jabber_onions, shop_price, story_day, timestamp
from onionlab.lab.world.model import Identity, Service
from onionlab.lab.world.vocab import cities, rates, substances

_KINDS = ("prices_en", "prices_ru", "pgp", "mirrors", "contacts", "crypto", "chatter")
_WEIGHTS = (15, 12, 12, 10, 12, 14, 25)
_WORDS = load_words("onionlab.lab.world.kinds.paste")
_CHATTER = _WORDS["chatter"]
_TITLES = _WORDS["titles"]
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
