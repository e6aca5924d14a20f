"""The forum's scam board: the phishing clone, an exit scam, impersonators.

Depends on ``onionlab.lab.world`` and the forum's builder.
"""

from __future__ import annotations

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.kinds.forum.builder import Builder, Draft
from onionlab.lab.world.kinds.forum.content import DAY, DeadMarket, bare, date_of
from onionlab.lab.world.kinds.forum.words import DEAD_NAMES


def scams(b: Builder) -> list[DeadMarket]:
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
        found = [("onion", bare(clone.onion)), ("onion", bare(original.onion))]
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
        drafts = [Draft(author, body, found=found)]
        drafts += b.chatter(rng, "en", b.length(rng, 6, 30), tuple(b.mods))
        b.add(
            rng,
            "scams",
            f"Phishing clone of {original.title} — check the address!",
            drafts,
            tag="SCAM",
            start=b.now - 45 * DAY,
        )
    # The exit scam of a market that is gone for good.
    dead = DeadMarket(
        name=rng.choice(DEAD_NAMES),
        onion=ctx.onion(f"{b.name}#dead-market"),
        died=date_of(b.now - 150 * DAY),
        fate="exit scam",
    )
    died = b.now - 150 * DAY
    thief = identifiers.make("btc", ctx.secret(b.name, "exit-scam", "btc"), "p2wpkh")
    typo = identifiers.decoy("btc", ctx.secret(b.name, "exit-scam", "typo"), "p2pkh")
    recovery = contacts.telegram(ctx.rng(b.name, "exit-scam", "recovery"))
    en = b.en
    drafts = [
        Draft(
            rng.choice(en),
            [
                f"{dead.name} (http://{dead.onion}/) has had withdrawals disabled since "
                f"{date_of(died - 9 * DAY)}. Support tickets unanswered, vendors locked out.",
                "Today the site is gone. This is an exit scam. Do not deposit anything anywhere "
                "that claims to be their new mirror.",
            ],
            found=[("onion", bare(dead.onion))],
        ),
        Draft(rng.choice(en), ["Lost 0.4 BTC. Lesson learned, never keep a balance."]),
        Draft(
            rng.choice(en),
            [
                f"Their hot wallet was swept into {thief} the night before they vanished.",
            ],
            found=[("btc", thief)],
        ),
        Draft(
            rng.choice(en),
            [
                f"People are reposting that address as {typo} — that one is mistyped, the "
                "checksum fails. Use the one above.",
            ],
            decoys=[("btc", typo)],
        ),
        Draft(
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
            drafts = [Draft(author, body, found=[("telegram", fake_tg)])]
            title = f"{victim} impersonator on Telegram"
        else:
            local = contacts.email(c_rng, rng.choice(("escrow", "safetrade", "trustpay")))
            user, domain = local.split("@")
            shown = f"{user} [at] {domain.replace('.', ' [dot] ')}"
            body = [
                f"Fake 'escrow service' contacting people by mail: {shown}. They ask you to "
                "send BTC first and then disappear.",
            ]
            drafts = [Draft(author, body, found=[("email", local)])]
            title = "Fake escrow service by e-mail"
        drafts += b.chatter(rng, "en", b.length(rng, 2, 16))
        b.add(rng, "scams", title, drafts, tag="SCAM")
    return [dead]
