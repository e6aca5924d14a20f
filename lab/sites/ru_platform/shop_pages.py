"""The pages of one shop on the Russian-language platform: profile, catalogues, reviews, jobs.

``ShopPages`` renders a shop's profile, its catalogue per city and per district, its paginated
reviews (``onionlab.lab.sites.pagination``), its job ads and its product cards.
Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

from onionlab.lab.sites.pagination import Pager
from onionlab.lab.sites.ru_platform.frame import COIN_LABELS, Frame, L, esc, fasovka
from onionlab.lab.world.kinds.ru_platform import REVIEWS_PER_PAGE, Product, Shop, money

_PAGER = Pager(
    prev='<a class="prev" rel="prev" href="{href}">‹</a>',
    current='<span class="current">{n}</span>',
    link='<a class="page" href="{href}">{n}</a>',
    next='<a class="next" rel="next" href="{href}">›</a>',
)


class ShopPages(Frame):
    """The pages of the platform's shops and their products."""

    def shop(self, s: Shop) -> bytes:
        contacts = [
            f'<li class="contact contact-bot">Бот для покупок: '
            f'<span class="tg">@{esc(s.bot)}</span></li>',
            f'<li class="contact contact-channel">Канал (новости, акции): '
            f'<span class="tg">@{esc(s.channel)}</span></li>',
            f'<li class="contact contact-operator">Оператор 24/7: '
            f'<span class="tg">@{esc(s.operator_telegram)}</span></li>',
            f'<li class="contact contact-jabber">Jabber: '
            f'<span class="jabber">{esc(s.jabber)}</span></li>',
        ]
        if s.session:
            contacts.append(
                f'<li class="contact contact-session">Session: '
                f'<code class="session-id">{esc(s.session)}</code></li>'
            )
        if s.pgp_fingerprint:
            contacts.append(
                f'<li class="contact contact-pgp">PGP оператора: '
                f'<code class="pgp-fp">{esc(s.pgp_fingerprint)}</code></li>'
            )
        wallets = "".join(
            f'<li class="wallet" data-coin="{k}"><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="addr addr-{k}">{esc(v)}</code></li>'
            for k, v in s.wallets
        )
        fakes = "".join(
            f'<li><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="fake-addr">{esc(v)}</code></li>'
            for k, v in s.decoys
        )
        cities = "".join(
            f'<li><a href="{L.shop_city_path(s.slug, c)}">{esc(self.cities[c].name_ru)}</a> '
            f'<span class="count">({len(L.shop_products(self.plat, s.slug, c))})</span></li>'
            for c in s.cities
        )
        body = (
            self.crumbs(("", s.name)) + f'<div class="shop" id="shop-{s.slug}">'
            f'<h1 class="shop-name">{esc(s.name)}</h1>'
            f'<p class="shop-slogan">{esc(s.slogan)}</p>'
            '<dl class="kv shop-stats">'
            f'<dt>Рейтинг</dt><dd class="shop-rating"><span class="stars">★</span> {s.rating}</dd>'
            f'<dt>Отзывы</dt><dd class="shop-reviews"><a href="{L.reviews_path(s.slug)}">'
            f"{len(s.reviews)}</a></dd>"
            f'<dt>Продажи</dt><dd class="shop-sales">{s.sales}</dd>'
            f'<dt>На площадке с</dt><dd class="shop-opened">{s.opened}</dd>'
            f'<dt>Оператор</dt><dd class="operator">{esc(s.operator)}</dd>'
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
            f'<li><a href="{L.district_path(s.slug, c, d)}">{esc(city.district(d).name)}</a> '
            f'<span class="count">({len(L.shop_products(self.plat, s.slug, c, d))})</span></li>'
            for c, d in s.districts
            if c == city_slug
        )
        body = (
            self.crumbs((L.shop_path(s.slug), s.name), ("", city.name_ru))
            + f'<h1 class="catalog-title">{esc(s.name)} — {esc(city.name_ru)}</h1>'
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
            + f'<h1 class="catalog-title">{esc(s.name)} — {esc(city.name_ru)}, '
            f'<span class="district-name">{esc(name)}</span> район</h1>'
            + self.goods_table(
                L.shop_products(self.plat, s.slug, city_slug, district_slug), with_district=False
            )
        )
        return self.page(f"{name} район — {s.name}", body)

    def reviews(self, s: Shop, number: int) -> bytes:
        per = REVIEWS_PER_PAGE
        total = L.review_page_count(s)
        chunk = s.reviews[(number - 1) * per : number * per]
        nav = _PAGER.links(total, number, lambda n: L.reviews_path(s.slug, n))
        body = (
            self.crumbs((L.shop_path(s.slug), s.name), ("", "Отзывы"))
            + f'<h1>Отзывы о магазине <span class="shop-name">{esc(s.name)}</span></h1>'
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
            + f'<h1>Работа в магазине <span class="shop-name">{esc(s.name)}</span></h1>'
            "<p>Набираем людей в команду. Пишите только в указанные контакты, остальные — "
            "фейки.</p>"
            f"{ads}"
        )
        return self.page(f"Работа — {s.name}", body)

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
            f'<h1 class="tovar-name">{esc(p.title)}</h1>'
            '<table class="grid tovar-props"><tbody>'
            f'<tr><th>Артикул</th><td class="tovar-id">{p.listing_id}</td></tr>'
            f'<tr><th>Магазин</th><td class="tovar-shop"><a href="{L.shop_path(s.slug)}">'
            f"{esc(s.name)}</a></td></tr>"
            f'<tr><th>Оператор</th><td class="tovar-operator">{esc(s.operator)}</td></tr>'
            f'<tr><th>Город</th><td class="tovar-city">{esc(city.name_ru)}</td></tr>'
            f'<tr><th>Район</th><td class="tovar-district">{esc(district)}</td></tr>'
            f'<tr><th>Вещество</th><td class="tovar-substance">{esc(p.substance)}</td></tr>'
            f'<tr><th>Фасовка</th><td class="tovar-fasovka">{esc(fasovka(p))}</td></tr>'
            f'<tr><th>Тип клада</th><td class="tovar-klad">{esc(p.stash_type)}</td></tr>'
            f'<tr><th>Наличие</th><td class="tovar-nalichie">{esc(p.delivery)}</td></tr>'
            '<tr><th>Цена</th><td class="tovar-price">'
            f'<span class="price-local">{esc(money(p.price_local, p.currency))}</span> ≈ '
            f'<span class="price-crypto"><span class="crypto-amount">{p.price_crypto}</span> '
            f'<span class="crypto-currency">{crypto_label}</span></span></td></tr>'
            f'<tr><th>Продано</th><td class="tovar-sold">{p.sold}</td></tr>'
            "</tbody></table>"
            '<p class="note buy-note">Для покупки пополните <a href="/balans">баланс</a>: '
            "после оплаты координаты, фото и описание клада появятся в разделе «Мои покупки».</p>"
            f'<div class="tovar-desc"><h2>Описание</h2><p>{esc(p.description)}</p></div>'
            f'<section class="tovar-reviews"><h2>Отзывы о товаре</h2>{reviews}</section>'
            "</div>"
        )
        return self.page(p.title, body)
