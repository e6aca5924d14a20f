"""The forum's boards and their everyday threads (markets, harm reduction, OpSec, Russian).

Depends on ``onionlab.lab.world`` and the forum's builder.
"""

from __future__ import annotations

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.kinds.forum.builder import Builder, Draft, sub_names
from onionlab.lab.world.kinds.forum.content import Board, bare, expand
from onionlab.lab.world.kinds.forum.words import MARKET_TOPICS, OFFTOPIC_TITLES, VERDICTS_RU
from onionlab.lab.world.model import Service
from onionlab.lab.world.vocab import City


def boards_misc(b: Builder) -> None:
    ctx = b.ctx
    rng = ctx.rng(b.name, "markets-board")
    for _ in range(b.n(18)):
        title = b.fill(rng, rng.choice(MARKET_TOPICS))
        drafts = [Draft(rng.choice(b.en), b.reply(rng, "en"))]
        drafts += b.chatter(rng, "en", b.length(rng, 1, 30))
        b.add(rng, "markets", title, drafts)
    for market in b.markets:
        if not market.mirrors:
            continue
        lines = [f"Current {market.title} addresses (copied from their signed mirrors.txt):"]
        found = []
        for address in (market.onion, *market.mirrors):
            lines.append(f"http://{address}/")
            found.append(("onion", bare(address)))
        drafts = [
            Draft(
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
        drafts = [Draft(rng.choice(b.en), body)]
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
            Draft(
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
    drafts = [Draft(b.mods[0] if b.mods else b.admin, body, found=[("btc", good)], decoys=fakes)]
    drafts += b.chatter(rng, "en", b.length(rng, 3, 15))
    b.add(rng, "opsec", "Checksums 101: spotting fake addresses", drafts, tag="PSA", pinned=True)

    rng = ctx.rng(b.name, "offtopic")
    for _ in range(b.n(14)):
        drafts = [Draft(rng.choice(b.en), ["Let's hear it."])]
        drafts += b.chatter(rng, "en", b.length(rng, 2, 30))
        b.add(rng, "offtopic", rng.choice(OFFTOPIC_TITLES), drafts)


def russian(b: Builder, city_slugs: dict[str, City]) -> None:
    ctx = b.ctx
    rng = ctx.rng(b.name, "ru")
    platform = b.platforms[0] if b.platforms else None
    shop_names = [s for p in b.platforms for s in platform_shops(p)] or ["Белый Кролик"]
    for slug, city in city_slugs.items():
        for _ in range(b.n(3.5)):
            sub = rng.choice(b.subs)
            name = rng.choice(sub_names(sub, "ru"))
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
            drafts = [Draft(author, body)]
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
            drafts = [Draft(author, body, found=[("onion", bare(platform.onion))])]
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
            drafts = [Draft(author, b.reply(rng, "ru"))]
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
            f"неделю. Товар: {rng.choice(sub_names(sub, 'ru'))}.",
            f"Залог или фото паспорта. Пиши оператору: {shown}",
        ]
        found = [("telegram", bot)]
        if rng.random() < 0.4:
            jid = contacts.jabber(ctx.rng(b.name, "rabota-jabber", str(k)))
            body.append(f"Jabber: {jid}")
            found += expand("jabber", jid)
        drafts = [Draft(rng.choice(b.ru), body, found=found)]
        drafts += b.chatter(rng, "ru", b.length(rng, 0, 12))
        b.add(rng, "ru/rabota", f"Работа: {role}, {city.name_ru}", drafts, lang="ru")


def platform_shops(platform: Service) -> list[str]:
    shops = getattr(platform.content, "shops", ())
    names = [getattr(shop, "name", "") for shop in shops]
    return [n for n in names if n]


def boards(city_slugs: dict[str, City]) -> list[Board]:
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
