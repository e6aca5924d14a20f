"""The frame of the Russian-language shop platform's pages, and the blocks several pages share.

``Frame`` holds the platform, its lookups (shops, products, cities), the sidebar of cities and
the rate bar; ``page`` wraps a body in the site's chrome; ``crumbs``, ``goods_table``,
``review_block`` and ``job_block`` are the pieces the platform and shop pages reuse. The CSS
classes are what extractors are written against; keep them stable.
Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from html import escape

from onionlab.lab.world.kinds.ru_platform import (
    CURRENCY_SIGN,
    LAYOUT,
    Job,
    Platform,
    Product,
    Review,
    RuLayout,
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


def esc(text: str | int) -> str:
    return escape(str(text), quote=True)


def stars(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


def fasovka(p: Product) -> str:
    """How the card writes the quantity: «0.5 г» or «10 шт.»."""
    return f"{p.amount} г" if p.unit == "g" else f"{p.amount} шт."


class Frame:
    """The shared state and chrome of every page of one platform service."""

    def __init__(self, world: World, service: Service) -> None:
        self.world = world
        self.svc = service
        self.plat: Platform = service.content
        self.shops = {s.slug: s for s in self.plat.shops}
        self.products = {p.listing_id: p for p in self.plat.products}
        self.cities = {c.slug: c for c in self.plat.cities}
        cities = "".join(
            f'<li><a href="{L.city_path(c.slug)}">{esc(c.name_ru)}</a></li>'
            for c in sorted(self.plat.cities, key=lambda c: c.name_ru)
        )
        self.sidebar = f'<aside class="cities"><h4>Город</h4><ul>{cities}</ul></aside>'
        rates = [
            f'<span class="rate rate-btc">1 BTC = {esc(self.plat.btc_usd)} $</span>',
        ]
        for cur, usd in self.plat.usd_rates:
            if cur == "USDT":
                continue
            per_usd = (1 / Decimal(usd)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            rates.append(
                f'<span class="rate rate-{cur.lower()}">1 $ = {per_usd} {CURRENCY_SIGN[cur]}</span>'
            )
        self.ratebar = (
            f'<div class="ratebar">Курсы площадки на {esc(self.plat.rates_date)}: '
            f"{''.join(rates)}</div>"
        )

    # --- frame ---------------------------------------------------------------------------

    def page(self, title: str, body: str) -> bytes:
        plat = self.plat
        html = (
            '<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8">'
            f"<title>{esc(title)} — {esc(plat.name)}</title>"
            f"<style>{_CSS}</style></head><body>"
            f'<div class="topbar"><a class="logo" href="/">{esc(plat.name)}</a>'
            f'<span class="slogan">{esc(self.svc.tagline)}</span>'
            '<nav class="mainnav"><a href="/">Магазины</a>'
            f'<a href="{L.jobs_path()}">Работа</a>'
            f'<a href="{RuLayout.BALANCE}">Баланс</a>'
            f'<a href="{RuLayout.EXCHANGE}">Обменник</a>'
            f'<a href="{RuLayout.RULES}">Правила</a></nav></div>'
            f"{self.ratebar}"
            f'<div class="container">{self.sidebar}<main>{body}</main></div>'
            f"<footer>{esc(plat.name)} © {plat.founded}–{plat.rates_date[:4]} · "
            "Гарантия площадки на каждую сделку · Работаем без JavaScript</footer>"
            "</body></html>\n"
        )
        return html.encode("utf-8")

    def crumbs(self, *parts: tuple[str, str]) -> str:
        items = ['<a href="/">Главная</a>']
        for href, text in parts:
            items.append(f'<a href="{href}">{esc(text)}</a>' if href else esc(text))
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
                f'<td class="good-district">{esc(city.district(p.district).name)}</td>'
                if with_district
                else ""
            )
            badge = "badge" if p.delivery == "моментальный" else "badge pre"
            rows.append(
                f'<tr class="good" data-id="{p.listing_id}">'
                f'<td class="good-name"><a href="{L.product_path(p.listing_id)}">'
                f"{esc(p.title)}</a></td>"
                f'<td class="good-fasovka">{esc(fasovka(p))}</td>{district}'
                f'<td class="good-klad">{esc(p.stash_type)} '
                f'<span class="{badge}">{esc(p.delivery)}</span></td>'
                f'<td class="good-price"><span class="price-local">'
                f"{esc(money(p.price_local, p.currency))}</span></td></tr>"
            )
        return f'<table class="grid goods">{head}<tbody>{"".join(rows)}</tbody></table>'

    def review_block(self, r: Review, *, with_product: bool) -> str:
        product = ""
        if with_product:
            p = self.products[r.product]
            product = (
                f' · <a class="review-product" href="{L.product_path(p.listing_id)}">'
                f"{esc(p.title)}</a>"
            )
        return (
            f'<div class="review"><div class="review-meta">'
            f'<span class="review-date">{r.date}</span> · '
            f'<span class="review-author">{esc(r.author)}</span> · '
            f'<span class="stars review-stars" title="{r.stars} из 5">{stars(r.stars)}</span>'
            f'{product}</div><p class="review-text">{esc(r.text)}</p></div>'
        )

    def job_block(self, j: Job) -> str:
        return (
            f'<div class="job" id="job-{j.job_id}"><h3 class="job-role">{esc(j.role)}</h3>'
            f'<p>Город: <span class="job-city">{esc(self.cities[j.city].name_ru)}</span> · '
            f'Оплата: <span class="job-pay">{esc(j.pay)}</span></p>'
            f'<p class="job-terms">{esc(j.terms)}</p>'
            f'<p>Связь: <span class="tg job-contact">@{esc(j.contact)}</span></p></div>'
        )

    def not_found(self) -> bytes:
        body = (
            '<div class="error"><h1>404 — Страница не найдена</h1>'
            "<p>Товар закончился, магазин переехал или ссылка устарела.</p>"
            '<p><a href="/">Вернуться на главную</a></p></div>'
        )
        return self.page("Страница не найдена", body)
