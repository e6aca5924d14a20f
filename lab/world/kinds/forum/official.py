"""The forum's official threads: signed announcements, vendor threads and reviews.

Depends on ``onionlab.lab.world`` and the forum's builder.
"""

from __future__ import annotations

import hashlib

from onionlab.lab.world.kinds.forum.builder import Builder, Draft
from onionlab.lab.world.kinds.forum.content import DAY, bare, date_of, expand
from onionlab.lab.world.kinds.forum.paths import PGP_PATH
from onionlab.lab.world.kinds.forum.words import VENDOR_ASKS, VENDOR_REPLIES, VERDICTS


def announcements(b: Builder, onion: str) -> None:
    rng = b.ctx.rng(b.name, "announcements")
    admin = b.users[b.admin]
    secret = b.secrets[b.admin]
    assert admin.pgp is not None
    key = admin.pgp
    # 1. Official links, signed: the forum's own address and the markets the staff verified.
    lines = [f"{b.title} — official links", "", "Our only address:", f"  http://{onion}/", ""]
    found: list[tuple[str, str]] = [("onion", bare(onion))]
    if b.markets or b.platforms:
        lines.append("Markets verified by the staff (always check their signed mirrors.txt):")
        for svc in [*b.markets, *b.platforms]:
            for address in (svc.onion, *svc.mirrors):
                lines.append(f"  {svc.title}: http://{address}/")
                found.append(("onion", bare(address)))
        lines.append("")
    lines.append("Anything not on this list is not endorsed by us.")
    b.add(
        rng,
        "announcements",
        "Official links and PGP key — read before anything else",
        [
            Draft(
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
        start=b.now - 300 * DAY,
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
            Draft(b.admin, ["Updated rules, signed as usual."], sign=(secret, key, rules)),
            *b.chatter(rng, "en", b.length(rng, 2, 10)),
        ],
        tag="OFFICIAL",
        pinned=True,
        start=b.now - 500 * DAY,
    )
    # 3. Canaries: one signed statement every few months.
    for k in range(b.n(3, 2)):
        when = b.now - (k * 60 + 5) * DAY
        block = (
            "00000000000000000002"
            + hashlib.sha256(f"{b.ctx.seed}/{when}".encode()).hexdigest()[:44]
        )
        text = (
            f"Warrant canary — {date_of(when)}\n\nAs of this date the {b.title} staff have not "
            "been served any warrant, subpoena or gag order,\nand we remain in control of our "
            f"keys and servers.\n\nLatest Bitcoin block hash: {block}"
        )
        b.add(
            rng,
            "announcements",
            f"Warrant canary {date_of(when)}",
            [
                Draft(b.admin, ["Canary refreshed."], sign=(secret, key, text)),
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
                Draft(
                    b.admin,
                    ["Several users lost funds this week. Signed PSA below."],
                    sign=(secret, key, text),
                    found=[("onion", bare(clone.onion)), ("onion", bare(original.onion))],
                ),
                *b.chatter(rng, "en", b.length(rng, 5, 20), tuple(b.mods)),
            ],
            tag="PSA",
            pinned=True,
            start=b.now - 40 * DAY,
        )


def vendor_threads(b: Builder) -> None:
    rng = b.ctx.rng(b.name, "vendor-threads")
    by_name = {s.name: s for s in [*b.markets, *b.platforms, *b.shops]}
    for handle in b.vendors:
        user = b.users[handle]
        person = b.identity(handle)
        start = rng.randrange(b.start, b.now - 60 * DAY)
        lines = [f"{handle} — official vendor thread", f"Date: {date_of(start)}", ""]
        found: list[tuple[str, str]] = []
        if user.markets:
            lines.append("Where we sell:")
            for svc_name in user.markets:
                svc = by_name[svc_name]
                there = next(v.handle for v in svc.vendors if v.identity == person.id)
                lines.append(f"  {svc.title} (as {there}): http://{svc.onion}/")
                found.append(("onion", bare(svc.onion)))
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
            Draft(
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
                drafts.append(Draft(handle, [rng.choice(VENDOR_REPLIES)]))
            elif roll < 0.36:
                vacation = (
                    f"{handle}: vacation notice\n\nWe are away from "
                    f"{date_of(start + 200 * DAY)} for two weeks. No orders will be "
                    "accepted.\nOpen orders ship before we leave."
                )
                drafts.append(
                    Draft(
                        handle,
                        ["Vacation notice, signed."],
                        sign=(b.secrets[handle], person.pgp, vacation),
                    )
                )
            else:
                asker = rng.choice(b.en)
                drafts.append(Draft(asker, [b.fill(rng, rng.choice(VENDOR_ASKS))]))
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
            Draft(
                asker,
                [
                    f"Looking for a reliable {sub.en[0]} vendor shipping to "
                    "Europe. Who do you trust?"
                ],
            )
        ]
        for _ in range(b.length(rng, 2, 20)):
            who = rng.choice([*b.en, *b.vendors])
            drafts.append(Draft(who, b.reply(rng, "en")))
        b.add(rng, "vendors", f"Best {sub.en[0]} vendor right now?", drafts)


def reviews(b: Builder) -> None:
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
        drafts = [Draft(author, body)]
        for _ in range(b.length(rng, 1, 14)):
            if rng.random() < 0.15:
                drafts.append(Draft(vendor, ["Thanks for the review!"]))
            else:
                drafts.append(Draft(rng.choice(b.en), b.reply(rng, "en")))
        b.add(rng, "reviews", f"{vendor} — {weight}{unit} {name}", drafts, tag="REVIEW")
