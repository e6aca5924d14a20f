"""HTML of the minimalist store: lower-case, white space, product cards, data attributes.

``render_pages(world, service)`` returns ``({"/path": html}, not_found)``. Extractors read
fields from ``data-field`` attributes (``title``, ``substance``, ``weight``, ``price-xmr``,
…) and items from ``data-sku``; keep them stable. Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

from html import escape

from onionlab.lab.sites.pagination import Pager
from onionlab.lab.sites.shop_pages import common_pages
from onionlab.lab.world.kinds import vendor_shop_b as k
from onionlab.lab.world.model import Listing, Service, World

_PAGER = Pager(
    prev="",  # the catalog has no "previous" link
    current="<b>{n}</b>",
    link='<a href="{href}">{n}</a>',
    next='<a class="next" rel="next" href="{href}">next</a>',
)

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#fff;color:#111;font:16px/1.6 -apple-system,'Helvetica Neue',Arial,
  sans-serif}
.wrap{max-width:760px;margin:0 auto;padding:24px}
header{display:flex;justify-content:space-between;align-items:baseline;margin-bottom:28px}
.logo{font-weight:700;letter-spacing:-0.5px;color:#111;text-decoration:none;font-size:20px}
nav a{color:#777;text-decoration:none;margin-left:14px;font-size:14px}
a{color:#111}
.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:14px}
.card{border:1px solid #eee;border-radius:10px;padding:14px}
.card h3{font-size:15px;margin:0 0 6px}.card a{text-decoration:none}
.muted{color:#888;font-size:13px}
dl.specs{display:grid;grid-template-columns:140px 1fr;row-gap:4px}
dl.specs dt{color:#888}dl.specs dd{margin:0}
.addr{font-family:Menlo,Consolas,monospace;font-size:13px;word-break:break-all;
  background:#f6f6f6;padding:8px;border-radius:6px;display:block}
pre{background:#f6f6f6;padding:12px;border-radius:6px;font-size:12px;overflow:auto}
.pages a,.pages b{margin-right:10px}
footer{margin-top:40px;color:#aaa;font-size:12px}
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def _grouped(fingerprint: str) -> str:
    """``ABCD EF01 …`` in ten groups of four (how gpg prints it, single spaces)."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, 40, 4))


class _Store:
    def __init__(self, world: World, service: Service) -> None:
        self.svc = service
        self.shop: k.ShopB = service.content
        self.vendor = service.vendors[0]
        self.onion = service.onion.removesuffix(".onion")
        self.cat_names = {c.slug: c.name for c in service.categories}
        self.by_sku = {x.listing_id: x for x in service.listings}

    def page(self, title: str, body: str) -> bytes:
        nav = "".join(
            f'<a href="{href}">{label}</a>'
            for href, label in (
                (k.catalog_path(), "catalog"), (k.UPDATES, "updates"), (k.PAY, "pay"),
                (k.FAQ, "faq"), (k.CONTACT, "contact"), (k.PGP, "pgp"),
                (k.MIRRORS, "mirrors"), (k.SHIPPING, "shipping"),
            )
        )  # fmt: skip
        html = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width">'
            f"<title>{_e(title)} · {_e(self.svc.title)}</title><style>{_CSS}</style></head>"
            f'<body><div class="wrap"><header><a class="logo" href="{k.HOME}">'
            f"{_e(self.svc.title)}</a><nav>{nav}</nav></header><main>{body}</main>"
            f"<footer>{_e(self.svc.tagline)} · since {_e(self.shop.since)}</footer>"
            "</div></body></html>\n"
        )
        return html.encode("utf-8")

    def card(self, x: Listing) -> str:
        return (
            f'<div class="card" data-sku="{x.listing_id}">'
            f'<a href="{k.item_path(x.listing_id)}"><h3 data-field="title">{_e(x.title)}</h3></a>'
            f'<div><span data-field="price-xmr">{self.shop.price_xmr(x.listing_id)}</span> xmr'
            f' <span class="muted">/ <span data-field="price-usd">${x.price_usd}</span></span>'
            "</div></div>"
        )

    def home(self) -> bytes:
        best = sorted(self.svc.listings, key=lambda x: (-x.sold, x.listing_id))[:6]
        body = (
            f"<p>{_e(self.vendor.bio)}</p>"
            f'<p class="muted">this store lives at <span class="onion">{self.onion}.onion'
            "</span> only.</p>"
            f'<h2>popular</h2><div class="grid">{"".join(self.card(x) for x in best)}</div>'
            f'<p><a href="{k.catalog_path()}">all {len(self.svc.listings)} items &rarr;</a></p>'
        )
        return self.page("home", body)

    def catalog(self, number: int, total: int) -> bytes:
        chunk = self.svc.listings[(number - 1) * k.PER_PAGE : number * k.PER_PAGE]
        links = "".join(_PAGER.links(total, number, k.catalog_path))
        body = (
            f'<h1>catalog <span class="muted">page {number} of {total}</span></h1>'
            f'<div class="grid">{"".join(self.card(x) for x in chunk)}</div>'
            f'<p class="pages">{links}</p>'
        )
        return self.page(f"catalog {number}", body)

    def item(self, x: Listing) -> bytes:
        specs = (
            ("substance", _e(x.substance)),
            ("category", _e(self.cat_names[x.category])),
            ("weight", f"{x.weight_g} g"),
            ("price-xmr", f"{self.shop.price_xmr(x.listing_id)}"),
            ("price-usd", f"${x.price_usd}"),
            ("price-btc", x.price_btc),
            ("ships-from", _e(x.ships_from)),
            ("ships-to", _e(x.ships_to)),
            ("vendor", _e(x.vendor)),
        )
        rows = "".join(f'<dt>{name}</dt><dd data-field="{name}">{value}</dd>'
                       for name, value in specs)  # fmt: skip
        body = (
            f'<article class="item" data-sku="{x.listing_id}">'
            f'<h1 data-field="title">{_e(x.title)}</h1><dl class="specs">{rows}</dl>'
            f'<p data-field="description">{_e(x.description)}</p>'
            f'<p>to order: pay on the <a href="{k.PAY}">pay page</a>, then message us with '
            f"sku <code>{x.listing_id}</code>.</p></article>"
        )
        return self.page(x.title, body)

    def pay(self) -> bytes:
        body = (
            "<h1>pay</h1><p>static addresses. they never change. no escrow.</p>"
            "<h2>monero (preferred, 5% off)</h2>"
            f'<code class="addr" data-field="xmr-address">{self.shop.xmr}</code>'
            "<h2>bitcoin</h2>"
            f'<code class="addr" data-field="btc-address">{self.shop.btc}</code>'
            f'<p>then send your sku list and tx id (see <a href="{k.CONTACT}">contact</a>).</p>'
        )
        return self.page("pay", body)

    def contact(self) -> bytes:
        rows = [
            f'<dt>session</dt><dd><code class="addr" data-field="session">{self.shop.session}'
            "</code></dd>",
            f'<dt>order bot</dt><dd>telegram <span data-field="telegram-bot">@{self.shop.bot}'
            "</span></dd>",
        ]
        if self.shop.telegram:
            rows.append(
                '<dt>operator</dt><dd>telegram <span data-field="telegram">'
                f"@{self.shop.telegram}</span></dd>"
            )
        rows.append(
            f'<dt>pgp</dt><dd><span data-field="fingerprint">'
            f"{_grouped(self.vendor.pgp.fingerprint)}</span></dd>"
        )
        rows.append(
            f'<dt>xmr</dt><dd><code class="addr" data-field="xmr-address">{self.shop.xmr}'
            "</code></dd>"
            f'<dt>btc</dt><dd><code class="addr" data-field="btc-address">{self.shop.btc}'
            "</code></dd>"
        )
        body = (
            f'<h1 data-field="handle">{_e(self.shop.handle)}</h1>'
            f'<dl class="specs">{"".join(rows)}</dl>'
            '<p class="muted">session first. telegram only for the order bot and quick '
            "questions. we never write first.</p>"
        )
        return self.page("contact", body)

    def faq(self) -> bytes:
        items = "".join(
            f'<div class="qa"><h3 class="q">{_e(q)}</h3><p class="a">{_e(a)}</p></div>'
            for q, a in self.shop.faq
        )
        return self.page("faq", f"<h1>faq</h1>{items}")

    def pgp(self) -> bytes:
        key = self.vendor.pgp
        body = (
            "<h1>pgp</h1>"
            f'<p><span data-field="fingerprint">{_grouped(key.fingerprint)}</span><br>'
            f'<span class="muted" data-field="uid">{_e(key.uid)}</span></p>'
            f'<pre data-field="pgp-key">{_e(key.armored.rstrip())}</pre>'
        )
        return self.page("pgp", body)

    def mirrors(self) -> bytes:
        body = (
            "<h1>mirrors</h1><p>signed by "
            f'<span data-field="fingerprint">{_grouped(self.vendor.pgp.fingerprint)}</span>.'
            "</p>"
            f'<pre data-field="signed-mirrors">{_e(self.shop.mirrors_signed.rstrip())}</pre>'
        )
        return self.page("mirrors", body)

    def shipping(self) -> bytes:
        body = (
            "<h1>shipping</h1><p>europe only. tracked or untracked, your choice. orders paid "
            "before noon go out the same day. stealth: vacuum sealed, mbb, boring envelope."
            "</p><p>lost parcels: one reship, then 50%.</p>"
        )
        return self.page("shipping", body)

    def updates(self) -> bytes:
        items = "".join(
            f'<li><span class="muted">{u.date}</span> '
            f'<a href="{k.update_path(u.number)}">{_e(u.title)}</a></li>'
            for u in self.shop.updates
        )
        return self.page("updates", f'<h1>updates</h1><ul class="updates">{items}</ul>')

    def update(self, u: k.Update) -> bytes:
        items = "".join(self.card(self.by_sku[sku]) for sku in u.skus)
        body = (
            f'<article class="post" data-post="{u.number}"><h1>{_e(u.title)}</h1>'
            f'<p class="muted">{u.date}</p><p>{_e(u.text)}</p>'
            + (f'<div class="grid">{items}</div>' if items else "")
            + f'<p><a href="{k.UPDATES}">&larr; all updates</a></p></article>'
        )
        return self.page(u.title, body)


def render_pages(world: World, service: Service) -> tuple[dict[str, bytes], bytes]:
    """Every page of the store by path, and the 404 page."""
    r = _Store(world, service)
    total = k.catalog_pages(service)
    pages = common_pages(r) | {k.PAY: r.pay(), k.UPDATES: r.updates()}
    for n in range(1, total + 1):
        pages[k.catalog_path(n)] = r.catalog(n, total)
    for x in service.listings:
        pages[k.item_path(x.listing_id)] = r.item(x)
    for u in service.content.updates:
        pages[k.update_path(u.number)] = r.update(u)
    not_found = r.page("not found", "<h1>404</h1><p>Page not found. nothing here.</p>")
    return pages, not_found
