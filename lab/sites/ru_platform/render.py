"""HTML of the Russian-language shop platform: server-rendered, Russian, no JavaScript.

``render_pages(world, service)`` returns ``{"/path?query": html_bytes}`` for every page of
``onionlab.lab.world.kinds.ru_platform.pages`` (plus the ``?page=1`` alias of each shop's reviews)
and the branded 404 page. The CSS classes are what extractors are written against; keep them
stable. Contacts are plain text (no external links): every link is root-relative.
Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from html import escape

from onionlab.lab.world.kinds.ru_platform import (
    CURRENCY_SIGN,
    LAYOUT,
    REVIEWS_PER_PAGE,
    City,
    Job,
    Platform,
    Product,
    Review,
    RuLayout,
    Shop,
    fmt_amount,
    money,
)
from onionlab.lab.world.model import Service, World

L = LAYOUT

COIN_LABELS = {"btc": "BTC", "trx": "USDT (TRC-20)", "xmr": "XMR (Monero)", "ltc": "LTC"}
COUNTRY_NAMES = {"RU": "Россия", "KZ": "Казахстан", "KG": "Кыргызстан", "BY": "Беларусь"}

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#efecf4;color:#231a33;font:14px/1.5 Tahoma,"PT Sans",sans-serif}
a{color:#6b2fb3}a:hover{color:#b0306b}
.topbar{background:#2b1747;color:#efe6ff;padding:10px 24px;display:flex;align-items:center;gap:22px}
.logo{font:bold 28px/1 Georgia,serif;letter-spacing:4px;color:#ffd54a;text-decoration:none}
.slogan{font-size:12px;color:#b9a6d8;max-width:260px}
.mainnav{margin-left:auto;display:flex;gap:4px}
.mainnav a{color:#efe6ff;text-decoration:none;padding:6px 12px;border-radius:14px;
  background:#3d2463}
.mainnav a:hover{background:#5a3590}
.ratebar{background:#ffd54a;color:#2b1747;font-size:12px;padding:4px 24px}
.ratebar .rate{margin-right:14px;white-space:nowrap}
.container{display:grid;grid-template-columns:190px 1fr;gap:20px;padding:18px 24px}
aside.cities{background:#fff;border-radius:8px;padding:10px 14px;align-self:start}
aside.cities h4{margin:0 0 6px;color:#7c6a96;font-size:12px;text-transform:uppercase}
aside.cities ul{list-style:none;margin:0;padding:0}aside.cities li{padding:3px 0}
main{background:#fff;border-radius:8px;padding:16px 22px;min-width:0}
h1{font-size:22px;margin:4px 0 12px}h2{font-size:17px;margin:20px 0 8px;color:#4a2a7a}
.crumbs{font-size:12px;color:#7c6a96;margin-bottom:6px}
table.grid{width:100%;border-collapse:collapse}
table.grid th{background:#f4effb;text-align:left;font-size:12px;color:#5d4a7a;padding:6px 8px}
table.grid td{padding:7px 8px;border-bottom:1px solid #ece6f5;vertical-align:top}
.stars{color:#f0a500;letter-spacing:1px}
.badge{display:inline-block;font-size:11px;padding:1px 7px;border-radius:9px;background:#e3f6e8;
  color:#1f7a3a}.badge.pre{background:#fdf0dc;color:#9a5b00}
.price-local{font-weight:bold;color:#1f7a3a;font-size:15px}.price-crypto{color:#7c6a96}
dl.kv{display:grid;grid-template-columns:140px 1fr;gap:4px 12px;margin:8px 0}
dl.kv dt{color:#7c6a96}dl.kv dd{margin:0}
ul.plain{list-style:none;padding:0;margin:0}ul.plain li{padding:4px 0}
code{font:12px/1.4 "DejaVu Sans Mono",Consolas,monospace;background:#f6f3fa;padding:2px 5px;
  border-radius:4px;word-break:break-all}
.warn{border-left:4px solid #d8345f;background:#fff1f4;padding:8px 12px;margin:14px 0}
.note{border-left:4px solid #6b2fb3;background:#f6f1fd;padding:8px 12px;margin:14px 0}
.review{border-bottom:1px dashed #ddd3ea;padding:8px 0}
.review .review-meta{font-size:12px;color:#7c6a96}
.pager{margin:14px 0;display:flex;gap:6px}.pager a,.pager span{padding:2px 9px;
  border:1px solid #d8cce9;border-radius:4px}.pager .current{background:#2b1747;color:#fff}
.job{border:1px solid #e4dcef;border-radius:8px;padding:10px 14px;margin:10px 0}
.job h3{margin:0 0 4px;font-size:15px}.job-pay{font-weight:bold;color:#1f7a3a}
footer{text-align:center;font-size:12px;color:#7c6a96;padding:10px 24px 24px}
"""


def _e(text: str | int) -> str:
    return escape(str(text), quote=True)


def stars(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


def fasovka(p: Product) -> str:
    """How the card writes the quantity: «0.5 г» or «10 шт.»."""
    return f"{p.amount} г" if p.unit == "g" else f"{p.amount} шт."


class _Renderer:
    def __init__(self, world: World, service: Service) -> None:
        self.world = world
        self.svc = service
        self.plat: Platform = service.content
        self.shops = {s.slug: s for s in self.plat.shops}
        self.products = {p.listing_id: p for p in self.plat.products}
        self.cities = {c.slug: c for c in self.plat.cities}
        cities = "".join(
            f'<li><a href="{L.city_path(c.slug)}">{_e(c.name_ru)}</a></li>'
            for c in sorted(self.plat.cities, key=lambda c: c.name_ru)
        )
        self.sidebar = f'<aside class="cities"><h4>Город</h4><ul>{cities}</ul></aside>'
        rates = [
            f'<span class="rate rate-btc">1 BTC = {_e(self.plat.btc_usd)} $</span>',
        ]
        for cur, usd in self.plat.usd_rates:
            if cur == "USDT":
                continue
            per_usd = (1 / Decimal(usd)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            rates.append(
                f'<span class="rate rate-{cur.lower()}">1 $ = {per_usd} {CURRENCY_SIGN[cur]}</span>'
            )
        self.ratebar = (
            f'<div class="ratebar">Курсы площадки на {_e(self.plat.rates_date)}: '
            f"{''.join(rates)}</div>"
        )

    # --- frame ---------------------------------------------------------------------------

    def page(self, title: str, body: str) -> bytes:
        plat = self.plat
        html = (
            '<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8">'
            f"<title>{_e(title)} — {_e(plat.name)}</title>"
            f"<style>{_CSS}</style></head><body>"
            f'<div class="topbar"><a class="logo" href="/">{_e(plat.name)}</a>'
            f'<span class="slogan">{_e(self.svc.tagline)}</span>'
            '<nav class="mainnav"><a href="/">Магазины</a>'
            f'<a href="{L.jobs_path()}">Работа</a>'
            f'<a href="{RuLayout.BALANCE}">Баланс</a>'
            f'<a href="{RuLayout.EXCHANGE}">Обменник</a>'
            f'<a href="{RuLayout.RULES}">Правила</a></nav></div>'
            f"{self.ratebar}"
            f'<div class="container">{self.sidebar}<main>{body}</main></div>'
            f"<footer>{_e(plat.name)} © {plat.founded}–{plat.rates_date[:4]} · "
            "Гарантия площадки на каждую сделку · Работаем без JavaScript</footer>"
            "</body></html>\n"
        )
        return html.encode("utf-8")

    def crumbs(self, *parts: tuple[str, str]) -> str:
        items = ['<a href="/">Главная</a>']
        for href, text in parts:
            items.append(f'<a href="{href}">{_e(text)}</a>' if href else _e(text))
        return f'<div class="crumbs">{" › ".join(items)}</div>'

    def goods_table(self, products: list[Product], *, with_district: bool) -> str:
        head = (
            "<thead><tr><th>Товар</th><th>Фасовка</th>"
            + ("<th>Район</th>" if with_district else "")
            + "<th>Клад</th><th>Цена</th></tr></thead>"
        )
        rows = []
        for p in products:
            city = self.cities[p.city]
            district = (
                f'<td class="good-district">{_e(city.district(p.district).name)}</td>'
                if with_district
                else ""
            )
            badge = "badge" if p.delivery == "моментальный" else "badge pre"
            rows.append(
                f'<tr class="good" data-id="{p.listing_id}">'
                f'<td class="good-name"><a href="{L.product_path(p.listing_id)}">'
                f"{_e(p.title)}</a></td>"
                f'<td class="good-fasovka">{_e(fasovka(p))}</td>{district}'
                f'<td class="good-klad">{_e(p.stash_type)} '
                f'<span class="{badge}">{_e(p.delivery)}</span></td>'
                f'<td class="good-price"><span class="price-local">'
                f"{_e(money(p.price_local, p.currency))}</span></td></tr>"
            )
        return f'<table class="grid goods">{head}<tbody>{"".join(rows)}</tbody></table>'

    # --- platform pages ------------------------------------------------------------------

    def home(self) -> bytes:
        plat, svc = self.plat, self.svc
        onion_decoys = [v for k, v, path in plat.decoys if k == "onion" and path == "/"]
        mirrors = "".join(
            f'<li><code class="onion mirror">{_e(m)}</code></li>' for m in svc.mirrors
        )
        rows = []
        for s in sorted(plat.shops, key=lambda s: (-Decimal(s.rating), s.slug)):
            cities = ", ".join(
                f'<a href="{L.shop_city_path(s.slug, c)}">{_e(self.cities[c].name_ru)}</a>'
                for c in s.cities
            )
            rows.append(
                f'<tr class="shop-row" data-shop="{s.slug}">'
                f'<td class="shop-name"><a href="{L.shop_path(s.slug)}">{_e(s.name)}</a></td>'
                f'<td class="shop-rating"><span class="stars">★</span> {s.rating}</td>'
                f'<td class="shop-reviews">{len(s.reviews)}</td>'
                f'<td class="shop-sales">{s.sales}</td>'
                f'<td class="shop-cities">{cities}</td></tr>'
            )
        phishing = "".join(
            f'<li><code class="phishing-onion">{_e(v)}.onion</code></li>' for v in onion_decoys
        )
        body = (
            '<section class="note official"><b>Официальный адрес площадки:</b> '
            f'<code class="onion">{_e(svc.onion)}</code>'
            + (f'<ul class="plain mirrors">{mirrors}</ul>' if mirrors else "")
            + "</section>"
            f"<h1>Магазины площадки {_e(plat.name)}</h1>"
            f'<p class="summary">{len(plat.shops)} магазинов · {len(plat.products)} товаров · '
            f"{len(plat.cities)} городов</p>"
            '<table class="grid shops"><thead><tr><th>Магазин</th><th>Рейтинг</th>'
            "<th>Отзывы</th><th>Продажи</th><th>Города</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            + (
                '<section class="warn phishing"><b>Осторожно, фишинг!</b> Мошенники копируют '
                "площадку. Этот адрес — подделка, не вводите там свои данные:"
                f'<ul class="plain">{phishing}</ul></section>'
                if phishing
                else ""
            )
        )
        return self.page("Магазины", body)

    def city(self, city: City) -> bytes:
        rows = []
        for s in self.plat.shops:
            if city.slug not in s.cities:
                continue
            districts = ", ".join(
                f'<a href="{L.district_path(s.slug, c, d)}">{_e(city.district(d).name)}</a>'
                for c, d in s.districts
                if c == city.slug
            )
            count = len(L.shop_products(self.plat, s.slug, city.slug))
            rows.append(
                f'<tr class="shop-row" data-shop="{s.slug}">'
                f'<td class="shop-name"><a href="{L.shop_city_path(s.slug, city.slug)}">'
                f"{_e(s.name)}</a></td>"
                f'<td class="shop-rating"><span class="stars">★</span> {s.rating}</td>'
                f'<td class="shop-goods">{count}</td>'
                f'<td class="shop-districts">{districts}</td></tr>'
            )
        body = (
            self.crumbs(("", city.name_ru)) + f'<h1 class="city-name">{_e(city.name_ru)}</h1>'
            f'<p class="city-info"><span class="country">{_e(COUNTRY_NAMES[city.country])}</span>'
            f' · валюта: <span class="currency">{_e(city.currency)}</span></p>'
            '<table class="grid shops"><thead><tr><th>Магазин</th><th>Рейтинг</th>'
            "<th>Товаров</th><th>Районы</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        return self.page(city.name_ru, body)

    def balance(self) -> bytes:
        plat = self.plat
        wallets = "".join(
            f'<li class="wallet" data-coin="{k}"><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="addr addr-{k}">{_e(v)}</code></li>'
            for k, v in plat.wallets
        )
        old = "".join(
            f'<li class="old-wallet"><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="old-addr">{_e(v)}</code></li>'
            for k, v, path in plat.decoys
            if path == RuLayout.BALANCE
        )
        body = (
            "<h1>Пополнение баланса</h1>"
            "<p>Баланс площадки общий для всех магазинов. Переведите любую сумму на адрес ниже — "
            "зачисление после 1 подтверждения сети (USDT — после 20).</p>"
            f'<ul class="plain wallets">{wallets}</ul>'
            '<section class="warn"><b>Старые адреса — НЕ ПЕРЕВОДИТЬ.</b> Средства, отправленные '
            f'на них, не будут зачислены:<ul class="plain">{old}</ul></section>'
            f'<p>Нет крипты? Воспользуйтесь <a href="{RuLayout.EXCHANGE}">обменником</a>.</p>'
        )
        return self.page("Баланс", body)

    def exchange(self) -> bytes:
        plat = self.plat
        rows = [
            '<tr class="rate-row" data-currency="BTC"><td class="cur">BTC</td>'
            f'<td class="usd-per-unit">{_e(plat.btc_usd)}</td></tr>'
        ]
        rows += [
            f'<tr class="rate-row" data-currency="{cur}"><td class="cur">{cur}</td>'
            f'<td class="usd-per-unit">{usd}</td></tr>'
            for cur, usd in plat.usd_rates
        ]
        old = "".join(
            f'<li><code class="old-addr">{_e(v)}</code></li>'
            for _, v, path in plat.decoys
            if path == RuLayout.EXCHANGE
        )
        body = (
            "<h1>Обменник</h1>"
            "<p>Покупка BTC и USDT за рубли, тенге и сомы: перевод на карту, зачисление на баланс "
            "за 10–30 минут. Заявки принимает бот: "
            f'<span class="tg">@{_e(plat.exchanger_bot)}</span>.</p>'
            f"<h2>Курсы на {_e(plat.rates_date)} (USD за 1 единицу)</h2>"
            '<table class="grid rates"><thead><tr><th>Валюта</th><th>USD</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            '<section class="warn"><b>Адрес старого обменника больше не работает</b> — '
            f'не отправляйте на него средства:<ul class="plain">{old}</ul></section>'
        )
        return self.page("Обменник", body)

    def rules(self) -> bytes:
        body = (
            '<h1>Правила площадки</h1><ol class="rules">'
            "<li>Все сделки проходят через баланс площадки. Прямые переводы магазину — "
            "на ваш страх и риск.</li>"
            "<li><b>Ненаход</b>: в течение 3 часов после покупки откройте спор и приложите фото "
            "с места (не менее 2 ракурсов). Магазин обязан предложить <b>перезаклад</b> или "
            "возврат на баланс.</li>"
            "<li>Тип клада указан в карточке товара: <b>магнит</b>, <b>прикоп</b> или "
            "<b>тайник</b>. «Моментальный» — клад уже сделан, «предзаказ» — клад будет готов "
            "в течение нескольких часов.</li>"
            "<li>Отзывы может оставить только покупатель. Накрутка рейтинга — бан магазина.</li>"
            "<li>Вакансии магазинов публикуются в разделе "
            f'<a href="{L.jobs_path()}">«Работа»</a>. Площадка не отвечает за трудоустройство.'
            "</li></ol>"
        )
        return self.page("Правила", body)

    def jobs_index(self) -> bytes:
        rows = []
        for s in self.plat.shops:
            for j in s.jobs:
                rows.append(
                    f'<tr class="job-row" data-job="{j.job_id}">'
                    f'<td class="job-role">{_e(j.role)}</td>'
                    f'<td class="job-city">{_e(self.cities[j.city].name_ru)}</td>'
                    f'<td class="job-pay">{_e(j.pay)}</td>'
                    f'<td class="job-shop"><a href="{L.jobs_path(s.slug)}">{_e(s.name)}</a></td>'
                    "</tr>"
                )
        body = (
            "<h1>Работа</h1>"
            "<p>Свежие вакансии магазинов площадки. Подробности и контакты — на странице "
            "магазина.</p>"
            '<table class="grid jobs"><thead><tr><th>Вакансия</th><th>Город</th>'
            "<th>Оплата</th><th>Магазин</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        return self.page("Работа", body)

    # --- shop pages ----------------------------------------------------------------------

    def shop(self, s: Shop) -> bytes:
        contacts = [
            f'<li class="contact contact-bot">Бот для покупок: <span class="tg">@{_e(s.bot)}</span>'
            "</li>",
            f'<li class="contact contact-channel">Канал (новости, акции): '
            f'<span class="tg">@{_e(s.channel)}</span></li>',
            f'<li class="contact contact-operator">Оператор 24/7: '
            f'<span class="tg">@{_e(s.operator_telegram)}</span></li>',
            f'<li class="contact contact-jabber">Jabber: <span class="jabber">{_e(s.jabber)}</span>'
            "</li>",
        ]
        if s.session:
            contacts.append(
                f'<li class="contact contact-session">Session: '
                f'<code class="session-id">{_e(s.session)}</code></li>'
            )
        if s.pgp_fingerprint:
            contacts.append(
                f'<li class="contact contact-pgp">PGP оператора: '
                f'<code class="pgp-fp">{_e(s.pgp_fingerprint)}</code></li>'
            )
        wallets = "".join(
            f'<li class="wallet" data-coin="{k}"><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="addr addr-{k}">{_e(v)}</code></li>'
            for k, v in s.wallets
        )
        fakes = "".join(
            f'<li><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="fake-addr">{_e(v)}</code></li>'
            for k, v in s.decoys
        )
        cities = "".join(
            f'<li><a href="{L.shop_city_path(s.slug, c)}">{_e(self.cities[c].name_ru)}</a> '
            f'<span class="count">({len(L.shop_products(self.plat, s.slug, c))})</span></li>'
            for c in s.cities
        )
        body = (
            self.crumbs(("", s.name)) + f'<div class="shop" id="shop-{s.slug}">'
            f'<h1 class="shop-name">{_e(s.name)}</h1>'
            f'<p class="shop-slogan">{_e(s.slogan)}</p>'
            '<dl class="kv shop-stats">'
            f'<dt>Рейтинг</dt><dd class="shop-rating"><span class="stars">★</span> {s.rating}</dd>'
            f'<dt>Отзывы</dt><dd class="shop-reviews"><a href="{L.reviews_path(s.slug)}">'
            f"{len(s.reviews)}</a></dd>"
            f'<dt>Продажи</dt><dd class="shop-sales">{s.sales}</dd>'
            f'<dt>На площадке с</dt><dd class="shop-opened">{s.opened}</dd>'
            f'<dt>Оператор</dt><dd class="operator">{_e(s.operator)}</dd>'
            "</dl>"
            f'<h2>Города</h2><ul class="plain shop-cities">{cities}</ul>'
            f'<h2>Контакты</h2><ul class="plain contacts">{"".join(contacts)}</ul>'
            "<h2>Пополнение баланса магазина</h2>"
            "<p>Можно оплачивать с баланса площадки или напрямую на кошельки магазина:</p>"
            f'<ul class="plain wallets">{wallets}</ul>'
            + (
                '<section class="warn fakes"><b>Внимание!</b> От имени магазина рассылают '
                "поддельные реквизиты. Эти адреса НЕ наши, не переводите на них:"
                f'<ul class="plain">{fakes}</ul></section>'
                if fakes
                else ""
            )
            + f'<p class="shop-links"><a href="{L.reviews_path(s.slug)}">Отзывы покупателей</a> · '
            f'<a href="{L.jobs_path(s.slug)}">Работа в магазине</a></p>'
            "</div>"
        )
        return self.page(f"Магазин {s.name}", body)

    def shop_city(self, s: Shop, city_slug: str) -> bytes:
        city = self.cities[city_slug]
        districts = "".join(
            f'<li><a href="{L.district_path(s.slug, c, d)}">{_e(city.district(d).name)}</a> '
            f'<span class="count">({len(L.shop_products(self.plat, s.slug, c, d))})</span></li>'
            for c, d in s.districts
            if c == city_slug
        )
        body = (
            self.crumbs((L.shop_path(s.slug), s.name), ("", city.name_ru))
            + f'<h1 class="catalog-title">{_e(s.name)} — {_e(city.name_ru)}</h1>'
            f'<h2>Районы</h2><ul class="plain districts">{districts}</ul>'
            "<h2>Все товары города</h2>"
            + self.goods_table(L.shop_products(self.plat, s.slug, city_slug), with_district=True)
        )
        return self.page(f"{s.name} — {city.name_ru}", body)

    def district(self, s: Shop, city_slug: str, district_slug: str) -> bytes:
        city = self.cities[city_slug]
        name = city.district(district_slug).name
        body = (
            self.crumbs(
                (L.shop_path(s.slug), s.name),
                (L.shop_city_path(s.slug, city_slug), city.name_ru),
                ("", name),
            )
            + f'<h1 class="catalog-title">{_e(s.name)} — {_e(city.name_ru)}, '
            f'<span class="district-name">{_e(name)}</span> район</h1>'
            + self.goods_table(
                L.shop_products(self.plat, s.slug, city_slug, district_slug), with_district=False
            )
        )
        return self.page(f"{name} район — {s.name}", body)

    def review_block(self, r: Review, *, with_product: bool) -> str:
        product = ""
        if with_product:
            p = self.products[r.product]
            product = (
                f' · <a class="review-product" href="{L.product_path(p.listing_id)}">'
                f"{_e(p.title)}</a>"
            )
        return (
            f'<div class="review"><div class="review-meta">'
            f'<span class="review-date">{r.date}</span> · '
            f'<span class="review-author">{_e(r.author)}</span> · '
            f'<span class="stars review-stars" title="{r.stars} из 5">{stars(r.stars)}</span>'
            f'{product}</div><p class="review-text">{_e(r.text)}</p></div>'
        )

    def reviews(self, s: Shop, number: int) -> bytes:
        per = REVIEWS_PER_PAGE
        total = L.review_page_count(s)
        chunk = s.reviews[(number - 1) * per : number * per]
        nav = []
        if number > 1:
            nav.append(
                f'<a class="prev" rel="prev" href="{L.reviews_path(s.slug, number - 1)}">‹</a>'
            )
        for n in range(1, total + 1):
            if n == number:
                nav.append(f'<span class="current">{n}</span>')
            else:
                nav.append(f'<a class="page" href="{L.reviews_path(s.slug, n)}">{n}</a>')
        if number < total:
            nav.append(
                f'<a class="next" rel="next" href="{L.reviews_path(s.slug, number + 1)}">›</a>'
            )
        body = (
            self.crumbs((L.shop_path(s.slug), s.name), ("", "Отзывы"))
            + f'<h1>Отзывы о магазине <span class="shop-name">{_e(s.name)}</span></h1>'
            f'<p>Рейтинг <span class="shop-rating">{s.rating}</span> · '
            f"{len(s.reviews)} отзывов · страница {number} из {total}</p>"
            + "".join(self.review_block(r, with_product=True) for r in chunk)
            + f'<div class="pager">{"".join(nav)}</div>'
        )
        title = f"Отзывы {s.name}" if number == 1 else f"Отзывы {s.name} — стр. {number}"
        return self.page(title, body)

    def jobs(self, s: Shop) -> bytes:
        ads = "".join(self.job_block(j) for j in s.jobs)
        body = (
            self.crumbs((L.shop_path(s.slug), s.name), (L.jobs_path(), "Работа"))
            + f'<h1>Работа в магазине <span class="shop-name">{_e(s.name)}</span></h1>'
            "<p>Набираем людей в команду. Пишите только в указанные контакты, остальные — "
            "фейки.</p>"
            f"{ads}"
        )
        return self.page(f"Работа — {s.name}", body)

    def job_block(self, j: Job) -> str:
        return (
            f'<div class="job" id="job-{j.job_id}"><h3 class="job-role">{_e(j.role)}</h3>'
            f'<p>Город: <span class="job-city">{_e(self.cities[j.city].name_ru)}</span> · '
            f'Оплата: <span class="job-pay">{_e(j.pay)}</span></p>'
            f'<p class="job-terms">{_e(j.terms)}</p>'
            f'<p>Связь: <span class="tg job-contact">@{_e(j.contact)}</span></p></div>'
        )

    def product(self, p: Product) -> bytes:
        s = self.shops[p.shop]
        city = self.cities[p.city]
        district = city.district(p.district).name
        mine = [r for r in s.reviews if r.product == p.listing_id]
        reviews = (
            "".join(self.review_block(r, with_product=False) for r in mine)
            if mine
            else '<p class="no-reviews">Отзывов пока нет.</p>'
        )
        crypto_label = "BTC" if p.crypto == "BTC" else "USDT"
        body = (
            self.crumbs(
                (L.shop_path(s.slug), s.name),
                (L.shop_city_path(s.slug, p.city), city.name_ru),
                (L.district_path(s.slug, p.city, p.district), district),
            )
            + f'<div class="tovar" id="tovar-{p.listing_id}">'
            f'<h1 class="tovar-name">{_e(p.title)}</h1>'
            '<table class="grid tovar-props"><tbody>'
            f'<tr><th>Артикул</th><td class="tovar-id">{p.listing_id}</td></tr>'
            f'<tr><th>Магазин</th><td class="tovar-shop"><a href="{L.shop_path(s.slug)}">'
            f"{_e(s.name)}</a></td></tr>"
            f'<tr><th>Оператор</th><td class="tovar-operator">{_e(s.operator)}</td></tr>'
            f'<tr><th>Город</th><td class="tovar-city">{_e(city.name_ru)}</td></tr>'
            f'<tr><th>Район</th><td class="tovar-district">{_e(district)}</td></tr>'
            f'<tr><th>Вещество</th><td class="tovar-substance">{_e(p.substance)}</td></tr>'
            f'<tr><th>Фасовка</th><td class="tovar-fasovka">{_e(fasovka(p))}</td></tr>'
            f'<tr><th>Тип клада</th><td class="tovar-klad">{_e(p.stash_type)}</td></tr>'
            f'<tr><th>Наличие</th><td class="tovar-nalichie">{_e(p.delivery)}</td></tr>'
            '<tr><th>Цена</th><td class="tovar-price">'
            f'<span class="price-local">{_e(money(p.price_local, p.currency))}</span> ≈ '
            f'<span class="price-crypto"><span class="crypto-amount">{p.price_crypto}</span> '
            f'<span class="crypto-currency">{crypto_label}</span></span></td></tr>'
            f'<tr><th>Продано</th><td class="tovar-sold">{p.sold}</td></tr>'
            "</tbody></table>"
            '<p class="note buy-note">Для покупки пополните <a href="/balans">баланс</a>: '
            "после оплаты координаты, фото и описание клада появятся в разделе «Мои покупки».</p>"
            f'<div class="tovar-desc"><h2>Описание</h2><p>{_e(p.description)}</p></div>'
            f'<section class="tovar-reviews"><h2>Отзывы о товаре</h2>{reviews}</section>'
            "</div>"
        )
        return self.page(p.title, body)

    def not_found(self) -> bytes:
        body = (
            '<div class="error"><h1>404 — Страница не найдена</h1>'
            "<p>Товар закончился, магазин переехал или ссылка устарела.</p>"
            '<p><a href="/">Вернуться на главную</a></p></div>'
        )
        return self.page("Страница не найдена", body)


def render_pages(world: World, service: Service) -> tuple[dict[str, bytes], bytes]:
    """Render every page of ``service``: ``({path_qs: html}, not_found_html)``."""
    r = _Renderer(world, service)
    out: dict[str, bytes] = {}
    for page in L.pages(service):
        kind, key = page.kind, page.key
        if kind == "home":
            out[page.path] = r.home()
        elif kind == "balance":
            out[page.path] = r.balance()
        elif kind == "exchange":
            out[page.path] = r.exchange()
        elif kind == "rules":
            out[page.path] = r.rules()
        elif kind == "jobs-index":
            out[page.path] = r.jobs_index()
        elif kind == "city":
            out[page.path] = r.city(r.cities[key])
        elif kind == "shop":
            out[page.path] = r.shop(r.shops[key])
        elif kind == "shop-city":
            shop, city = key.split("/")
            out[page.path] = r.shop_city(r.shops[shop], city)
        elif kind == "district":
            shop, city, district = key.split("/")
            out[page.path] = r.district(r.shops[shop], city, district)
        elif kind == "reviews":
            out[page.path] = r.reviews(r.shops[key], page.number)
            if page.number == 1:
                out[L.reviews_path(key) + "?page=1"] = out[page.path]
        elif kind == "jobs":
            out[page.path] = r.jobs(r.shops[key])
        elif kind == "product":
            out[page.path] = r.product(r.products[key])
        else:  # pragma: no cover - a page kind without a renderer is a bug
            raise ValueError(f"no renderer for page kind {kind!r}")
    return out, r.not_found()


__all__ = ["fasovka", "fmt_amount", "render_pages", "stars"]
