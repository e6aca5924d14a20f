"""The platform-wide pages of the Russian-language shop platform: shops, cities, money, rules.

``PlatformPages`` renders the home page (every shop), a city's shops, the balance and exchange
pages, the rules and the jobs index, each through the ``Frame`` chrome.
Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

from decimal import Decimal

from onionlab.lab.sites.ru_platform.frame import COIN_LABELS, COUNTRY_NAMES, Frame, L, esc
from onionlab.lab.world.kinds.ru_platform import City, RuLayout


class PlatformPages(Frame):
    """The pages of the platform itself (not of one shop)."""

    def home(self) -> bytes:
        plat, svc = self.plat, self.svc
        onion_decoys = [v for k, v, path in plat.decoys if k == "onion" and path == "/"]
        mirrors = "".join(
            f'<li><code class="onion mirror">{esc(m)}</code></li>' for m in svc.mirrors
        )
        rows = []
        for s in sorted(plat.shops, key=lambda s: (-Decimal(s.rating), s.slug)):
            cities = ", ".join(
                f'<a href="{L.shop_city_path(s.slug, c)}">{esc(self.cities[c].name_ru)}</a>'
                for c in s.cities
            )
            rows.append(
                f'<tr class="shop-row" data-shop="{s.slug}">'
                f'<td class="shop-name"><a href="{L.shop_path(s.slug)}">{esc(s.name)}</a></td>'
                f'<td class="shop-rating"><span class="stars">★</span> {s.rating}</td>'
                f'<td class="shop-reviews">{len(s.reviews)}</td>'
                f'<td class="shop-sales">{s.sales}</td>'
                f'<td class="shop-cities">{cities}</td></tr>'
            )
        phishing = "".join(
            f'<li><code class="phishing-onion">{esc(v)}.onion</code></li>' for v in onion_decoys
        )
        body = (
            '<section class="note official"><b>Официальный адрес площадки:</b> '
            f'<code class="onion">{esc(svc.onion)}</code>'
            + (f'<ul class="plain mirrors">{mirrors}</ul>' if mirrors else "")
            + "</section>"
            f"<h1>Магазины площадки {esc(plat.name)}</h1>"
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
                f'<a href="{L.district_path(s.slug, c, d)}">{esc(city.district(d).name)}</a>'
                for c, d in s.districts
                if c == city.slug
            )
            count = len(L.shop_products(self.plat, s.slug, city.slug))
            rows.append(
                f'<tr class="shop-row" data-shop="{s.slug}">'
                f'<td class="shop-name"><a href="{L.shop_city_path(s.slug, city.slug)}">'
                f"{esc(s.name)}</a></td>"
                f'<td class="shop-rating"><span class="stars">★</span> {s.rating}</td>'
                f'<td class="shop-goods">{count}</td>'
                f'<td class="shop-districts">{districts}</td></tr>'
            )
        body = (
            self.crumbs(("", city.name_ru)) + f'<h1 class="city-name">{esc(city.name_ru)}</h1>'
            f'<p class="city-info"><span class="country">{esc(COUNTRY_NAMES[city.country])}</span>'
            f' · валюта: <span class="currency">{esc(city.currency)}</span></p>'
            '<table class="grid shops"><thead><tr><th>Магазин</th><th>Рейтинг</th>'
            "<th>Товаров</th><th>Районы</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        return self.page(city.name_ru, body)

    def balance(self) -> bytes:
        plat = self.plat
        wallets = "".join(
            f'<li class="wallet" data-coin="{k}"><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="addr addr-{k}">{esc(v)}</code></li>'
            for k, v in plat.wallets
        )
        old = "".join(
            f'<li class="old-wallet"><span class="coin">{COIN_LABELS[k]}</span>: '
            f'<code class="old-addr">{esc(v)}</code></li>'
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
            f'<td class="usd-per-unit">{esc(plat.btc_usd)}</td></tr>'
        ]
        rows += [
            f'<tr class="rate-row" data-currency="{cur}"><td class="cur">{cur}</td>'
            f'<td class="usd-per-unit">{usd}</td></tr>'
            for cur, usd in plat.usd_rates
        ]
        old = "".join(
            f'<li><code class="old-addr">{esc(v)}</code></li>'
            for _, v, path in plat.decoys
            if path == RuLayout.EXCHANGE
        )
        body = (
            "<h1>Обменник</h1>"
            "<p>Покупка BTC и USDT за рубли, тенге и сомы: перевод на карту, зачисление на баланс "
            "за 10–30 минут. Заявки принимает бот: "
            f'<span class="tg">@{esc(plat.exchanger_bot)}</span>.</p>'
            f"<h2>Курсы на {esc(plat.rates_date)} (USD за 1 единицу)</h2>"
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
                    f'<td class="job-role">{esc(j.role)}</td>'
                    f'<td class="job-city">{esc(self.cities[j.city].name_ru)}</td>'
                    f'<td class="job-pay">{esc(j.pay)}</td>'
                    f'<td class="job-shop"><a href="{L.jobs_path(s.slug)}">{esc(s.name)}</a></td>'
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
