"""The frame of the bazaar's pages and the pieces several pages share.

``Frame`` holds the service, its bazaar content and lookups (categories, vendors, listings),
the departments sidebar and the rate ticker; ``page`` wraps a main column in the bazaar's
chrome; ``card``, ``grid`` and ``onion_list`` are reused by the pages, ``PAGER`` is its
pagination markup (``onionlab.lab.sites.pagination``). The markup is what extractors are
written against: keep it stable. Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

from html import escape

from onionlab.lab.sites.pagination import Pager
from onionlab.lab.world.kinds import bazaar as K
from onionlab.lab.world.model import Listing, Service, World

PAGER = Pager(
    prev='<a class="pg-prev" rel="prev" href="{href}">&lsaquo; Previous</a>',
    current='<b class="pg pg-on">{n}</b>',
    link='<a class="pg" href="{href}">{n}</a>',
    next='<a class="pg-next" rel="next" href="{href}">Next &rsaquo;</a>',
)

_CSS = """
*{box-sizing:border-box}
body.bz{margin:0;background:#f4f1ea;color:#2b2620;font:15px/1.5 Georgia,'Times New Roman',serif}
a{color:#7a3e12}a:hover{color:#b35a1a}
.bz-bar{background:#2b2620;color:#e9e1d3;font:12px/1.2 monospace;padding:6px 18px}
.bz-rates{list-style:none;margin:0;padding:0;display:flex;gap:22px}
.bz-head{display:flex;flex-wrap:wrap;align-items:center;gap:18px;padding:18px;
  background:#fffaf1;border-bottom:3px double #7a3e12}
.bz-logo{font:bold 30px/1 'Palatino Linotype',Palatino,serif;color:#7a3e12;text-decoration:none}
.bz-motto{color:#8a7f70;font-style:italic}
.bz-menu{margin-left:auto;display:flex;gap:16px}
.bz-body{display:grid;grid-template-columns:200px 1fr;gap:22px;max-width:1180px;margin:0 auto;
  padding:18px}
.bz-side h4{margin:0 0 6px;text-transform:uppercase;letter-spacing:.08em;font-size:12px}
.bz-depts{list-style:none;margin:0;padding:0}
.bz-depts li{padding:4px 0;border-bottom:1px dotted #cbbfae}
.bz-depts small{color:#8a7f70}
.bz-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:14px}
.bz-card{background:#fff;border:1px solid #dcd2c2;border-radius:6px;padding:12px}
.bz-card h3{font-size:15px;margin:0 0 6px}.bz-card p{margin:3px 0;font-size:13px}
.p-usd{font-weight:bold;color:#2e6b2e}.p-eur{color:#49607a}.p-xmr{color:#8a7f70}
.bz-pager{margin:18px 0;display:flex;gap:6px}.bz-pager a,.bz-pager b{padding:2px 9px;
  border:1px solid #cbbfae;border-radius:3px}.bz-pager b{background:#7a3e12;color:#fff}
.bz-facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}
.bz-facts dt,.bz-stats dt{color:#8a7f70}.bz-facts dd,.bz-stats dd{margin:0}
.bz-stats{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}
table.bz-tiers,table.bz-addr,table.bz-reviews{border-collapse:collapse;margin:12px 0;width:100%}
.bz-tiers th,.bz-tiers td,.bz-reviews th,.bz-reviews td,.bz-addr th,.bz-addr td{
  border:1px solid #dcd2c2;padding:5px 8px;text-align:left}
.bz-armor{background:#fffaf1;border:1px dashed #7a3e12;padding:10px;font-size:12px;overflow:auto}
.addr-old{opacity:.6}.bz-onion{font-size:13px}
.bz-official{background:#fff;border:2px solid #2e6b2e;padding:10px 16px;margin-bottom:16px}
.bz-post{border-bottom:1px solid #dcd2c2;padding:8px 0}
.bz-foot{text-align:center;color:#8a7f70;font-size:12px;padding:24px}
"""

CONTACT_LABELS = {"telegram": "Telegram", "jabber": "Jabber", "session": "Session",
                   "email": "E-mail"}  # fmt: skip
CHAIN_LABELS = {"btc": "Bitcoin", "xmr": "Monero"}


def esc(text: str) -> str:
    return escape(text, quote=True)


class Frame:
    """The shared state and chrome of every page of one bazaar service."""

    def __init__(self, world: World, service: Service) -> None:
        self.world = world
        self.svc = service
        self.content = K.content_of(service)
        self.cat_names = {c.slug: c.name for c in service.categories}
        self.vendors = {v.handle: v for v in service.vendors}
        self.listings = {lst.listing_id: lst for lst in service.listings}
        counts: dict[str, int] = {}
        for lst in service.listings:
            counts[lst.category] = counts.get(lst.category, 0) + 1
        self.side = (
            '<aside class="bz-side"><h4>Departments</h4><ul class="bz-depts">'
            + "".join(
                f'<li><a class="bz-dept" href="{K.dept_path(c.slug)}">{esc(c.name)}</a> '
                f"<small>{counts.get(c.slug, 0)}</small></li>"
                for c in service.categories
            )
            + "</ul></aside>"
        )
        c = self.content
        self.ticker = (
            '<div class="bz-bar"><ul class="bz-rates">'
            f'<li data-cur="BTC">BTC/USD <b class="rate-btc">{c.rate("BTC")}</b></li>'
            f'<li data-cur="XMR">XMR/USD <b class="rate-xmr">{c.rate("XMR")}</b></li>'
            f'<li data-cur="EUR">EUR/USD <b class="rate-eur">{c.rate("EUR")}</b></li>'
            f'<li class="rate-date">rates of {c.rates_date}</li></ul></div>'
        )

    # --- frame ---------------------------------------------------------------------------

    def page(self, title: str, main: str) -> bytes:
        svc = self.svc
        html = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(title)} :: {esc(svc.title)}</title>"
            f'<style>{_CSS}</style></head><body class="bz">{self.ticker}'
            f'<header class="bz-head"><a class="bz-logo" href="/">{esc(svc.title)}</a>'
            f'<span class="bz-motto">{esc(svc.tagline)}</span>'
            f'<nav class="bz-menu"><a href="/">Market</a><a href="{K.NEWS_PATH}">News</a>'
            f'<a href="{K.SECURITY_PATH}">Security</a></nav></header>'
            f'<div class="bz-body">{self.side}<main class="bz-main">{main}</main></div>'
            f'<footer class="bz-foot"><p>&copy; {esc(svc.title)} &middot; escrow &amp; vendor '
            "bonds &middot; no JavaScript</p><p>"
            f'<a href="{K.PGP_TXT}">PGP key</a> &middot; '
            f'<a href="{K.MIRRORS_TXT}">Signed mirror list</a> &middot; '
            f'<a href="{K.CANARY_TXT}">Warrant canary</a></p></footer>'
            "</body></html>\n"
        )
        return html.encode("utf-8")

    # --- pieces ---------------------------------------------------------------------------

    def card(self, lst: Listing) -> str:
        first = self.content.item(lst.listing_id).tiers[0]
        return (
            f'<article class="bz-card" data-item="{esc(lst.listing_id)}">'
            f'<h3 class="bz-card-title"><a href="{K.item_path(lst.listing_id)}">'
            f"{esc(lst.title)}</a></h3>"
            f'<p class="bz-card-store">by <a href="{K.store_path(lst.vendor)}">'
            f"{esc(lst.vendor)}</a></p>"
            f'<p class="bz-card-route"><span class="from">{esc(lst.ships_from)}</span> &rarr; '
            f'<span class="to">{esc(lst.ships_to)}</span></p>'
            f'<p class="bz-card-price"><span class="p-usd">${first.price_usd}</span> / '
            f'<span class="p-eur">&euro;{first.price_eur}</span><br>'
            f'<span class="p-xmr">{first.price_xmr} XMR</span></p>'
            f'<p class="bz-card-sold">{lst.sold} sold</p></article>'
        )

    def grid(self, listings: list[Listing]) -> str:
        return f'<div class="bz-grid">{"".join(self.card(lst) for lst in listings)}</div>'

    def onion_list(self) -> str:
        rows = []
        for n, (_, onion) in enumerate(self.svc.addresses):
            badge = "primary" if n == 0 else f"mirror {n}"
            rows.append(
                f'<li><code class="bz-onion">http://{esc(onion)}/</code> '
                f'<span class="bz-badge">{badge}</span></li>'
            )
        return f'<ul class="bz-onions">{"".join(rows)}</ul>'
