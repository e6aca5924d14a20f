"""HTML of the bazaar: server-rendered card grid, no JavaScript, root-relative links, UTF-8.

``render_site(world, service)`` returns ``({"/path": (body, content_type)}, not_found)`` for
every page ``onionlab.lab.world.kinds.bazaar.pages`` declares, including the signed text files. The
markup (element classes listed in each renderer) is what extractors are written against:
keep it stable. Depends only on the standard library, ``onionlab.lab.world`` and
``onionlab.lab.sites.signed_files``.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from onionlab.lab.sites import signed_files as sf
from onionlab.lab.sites.pagination import Pager
from onionlab.lab.world.kinds import bazaar as K
from onionlab.lab.world.model import Listing, Service, Vendor, World

HTML = "text/html"
TEXT = "text/plain"

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

_CONTACT_LABELS = {"telegram": "Telegram", "jabber": "Jabber", "session": "Session",
                   "email": "E-mail"}  # fmt: skip
_CHAIN_LABELS = {"btc": "Bitcoin", "xmr": "Monero"}


def _e(text: str) -> str:
    return escape(text, quote=True)


_PAGER = Pager(
    prev='<a class="pg-prev" rel="prev" href="{href}">&lsaquo; Previous</a>',
    current='<b class="pg pg-on">{n}</b>',
    link='<a class="pg" href="{href}">{n}</a>',
    next='<a class="pg-next" rel="next" href="{href}">Next &rsaquo;</a>',
)


class _Renderer:
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
                f'<li><a class="bz-dept" href="{K.dept_path(c.slug)}">{_e(c.name)}</a> '
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
            f"<title>{_e(title)} :: {_e(svc.title)}</title>"
            f'<style>{_CSS}</style></head><body class="bz">{self.ticker}'
            f'<header class="bz-head"><a class="bz-logo" href="/">{_e(svc.title)}</a>'
            f'<span class="bz-motto">{_e(svc.tagline)}</span>'
            f'<nav class="bz-menu"><a href="/">Market</a><a href="{K.NEWS_PATH}">News</a>'
            f'<a href="{K.SECURITY_PATH}">Security</a></nav></header>'
            f'<div class="bz-body">{self.side}<main class="bz-main">{main}</main></div>'
            f'<footer class="bz-foot"><p>&copy; {_e(svc.title)} &middot; escrow &amp; vendor '
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
            f'<article class="bz-card" data-item="{_e(lst.listing_id)}">'
            f'<h3 class="bz-card-title"><a href="{K.item_path(lst.listing_id)}">'
            f"{_e(lst.title)}</a></h3>"
            f'<p class="bz-card-store">by <a href="{K.store_path(lst.vendor)}">'
            f"{_e(lst.vendor)}</a></p>"
            f'<p class="bz-card-route"><span class="from">{_e(lst.ships_from)}</span> &rarr; '
            f'<span class="to">{_e(lst.ships_to)}</span></p>'
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
                f'<li><code class="bz-onion">http://{_e(onion)}/</code> '
                f'<span class="bz-badge">{badge}</span></li>'
            )
        return f'<ul class="bz-onions">{"".join(rows)}</ul>'

    # --- pages ----------------------------------------------------------------------------

    def home(self) -> bytes:
        svc = self.svc
        featured = [self.listings[i] for i in svc.featured]
        stores = "".join(
            f'<li><a href="{K.store_path(s.handle)}">{_e(s.handle)}</a> '
            f'<span class="bz-lvl">L{s.level}</span></li>'
            for s in self.content.stores
        )
        main = (
            '<section class="bz-official"><h2>Official addresses</h2>'
            "<p>Phishers copy this page. These are our only addresses; the signed list is "
            f'<a href="{K.MIRRORS_TXT}">mirrors.txt</a>.</p>'
            f"{self.onion_list()}</section>"
            f'<p class="bz-summary"><b>{len(svc.listings)}</b> items &middot; '
            f"<b>{len(svc.vendors)}</b> stores &middot; "
            f"<b>{len(svc.categories)}</b> departments</p>"
            f'<section class="bz-featured"><h2>Trending</h2>{self.grid(featured)}</section>'
            f'<section class="bz-stores"><h2>Stores</h2><ul class="bz-storelist">{stores}</ul>'
            "</section>"
        )
        return self.page("Market", main)

    def department(self, slug: str, number: int) -> bytes:
        listings = K.dept_listings(self.svc, slug)
        total = K.dept_page_count(self.svc, slug)
        per = self.svc.per_page
        chunk = listings[(number - 1) * per : number * per]
        name = self.cat_names[slug]
        nav = _PAGER.links(total, number, lambda n: K.dept_path(slug, n))
        main = (
            f'<h1 class="bz-dept-title">{_e(name)}</h1>'
            f'<p class="bz-count">{len(listings)} items &middot; page {number} of {total}</p>'
            f"{self.grid(chunk)}"
            f'<nav class="bz-pager">{"".join(nav)}</nav>'
        )
        return self.page(name if number == 1 else f"{name} ({number})", main)

    def item(self, lst: Listing) -> bytes:
        item = self.content.item(lst.listing_id)
        store = self.content.store(lst.vendor)
        vendor = self.vendors[lst.vendor]
        dept = self.cat_names[lst.category]
        unit = "g" if item.unit == "g" else "pcs"
        rows = []
        for t in item.tiers:
            each = (Decimal(t.price_usd) / Decimal(t.amount)).quantize(Decimal("0.01"))
            rows.append(
                f'<tr class="tier" data-qty="{t.amount}">'
                f'<td class="t-qty">{t.amount} {unit}</td>'
                f'<td class="t-usd">{t.price_usd}</td><td class="t-eur">{t.price_eur}</td>'
                f'<td class="t-btc">{t.price_btc}</td><td class="t-xmr">{t.price_xmr}</td>'
                f'<td class="t-each">{each}</td></tr>'
            )
        shipping = "".join(
            f'<li><span class="ship-name">{_e(option)}</span> '
            f'<span class="ship-usd">+{usd} USD</span></li>'
            for option, usd in item.shipping
        )
        payment = "Escrow" if item.escrow == "Escrow" else "Finalize early (FE)"
        main = (
            f'<article class="bz-item" data-item="{_e(lst.listing_id)}">'
            f'<p class="bz-crumbs"><a href="/">Market</a> &rsaquo; '
            f'<a href="{K.dept_path(lst.category)}">{_e(dept)}</a></p>'
            f'<h1 class="bz-item-title">{_e(lst.title)}</h1>'
            '<dl class="bz-facts">'
            f'<dt>Item #</dt><dd class="f-id">{_e(lst.listing_id)}</dd>'
            f'<dt>Seller</dt><dd class="f-seller"><a href="{K.store_path(vendor.handle)}">'
            f'{_e(vendor.handle)}</a> <span class="f-seller-lvl">Level {store.level}</span> '
            f'<span class="f-seller-score">{vendor.rating}%</span></dd>'
            f'<dt>Department</dt><dd class="f-dept"><a href="{K.dept_path(lst.category)}">'
            f"{_e(dept)}</a></dd>"
            f'<dt>Product</dt><dd class="f-product">{_e(lst.substance)}</dd>'
            f'<dt>Ships from</dt><dd class="f-from">{_e(lst.ships_from)}</dd>'
            f'<dt>Ships to</dt><dd class="f-to">{_e(lst.ships_to)}</dd>'
            f'<dt>Payment</dt><dd class="f-pay" data-escrow="{item.escrow}">{payment}</dd>'
            f'<dt>In stock</dt><dd class="f-stock">{item.stock}</dd>'
            f'<dt>Sold</dt><dd class="f-sold">{lst.sold}</dd>'
            f'<dt>Views</dt><dd class="f-views">{item.views}</dd>'
            f'<dt>Listed</dt><dd class="f-listed">{lst.posted}</dd></dl>'
            '<table class="bz-tiers"><caption>Quantity pricing</caption><thead><tr>'
            f"<th>Quantity</th><th>USD</th><th>EUR</th><th>BTC</th><th>XMR</th>"
            f"<th>USD per {unit[:-1] if unit == 'pcs' else unit}</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<div class="bz-ship"><h2>Shipping</h2><ul class="bz-shipping">{shipping}</ul>'
            "</div>"
            f'<div class="bz-desc"><h2>Details</h2><p>{_e(lst.description)}</p></div>'
            '<p class="bz-note">Log in and fund your wallet to order. Never pay outside '
            "escrow unless the item says FE.</p></article>"
        )
        return self.page(lst.title, main)

    def store(self, vendor: Vendor) -> bytes:
        store = self.content.store(vendor.handle)
        wallets = [("btc", a, False) for a in vendor.btc] + [("xmr", a, False) for a in store.xmr]
        wallets += [(chain, value, True) for chain, value in store.old_wallets]
        rows = []
        for chain, value, old in wallets:
            label = _CHAIN_LABELS[chain]
            if old:
                rows.append(
                    f'<tr class="addr addr-old" data-chain="{chain}"><th>{label} (old)</th>'
                    f'<td><s class="addr-value">{_e(value)}</s> '
                    "<em>old address &mdash; do not use</em></td></tr>"
                )
            else:
                rows.append(
                    f'<tr class="addr" data-chain="{chain}"><th>{label}</th>'
                    f'<td><code class="addr-value">{_e(value)}</code></td></tr>'
                )
        contacts = "".join(
            f'<li data-type="{kind}"><span class="ct-label">{_CONTACT_LABELS[kind]}</span> '
            f'<span class="ct-value">{"@" if kind == "telegram" else ""}{_e(value)}</span></li>'
            for kind, value in store.contacts
        )
        elsewhere = "".join(
            f'<li class="ext"><span class="ext-market">{_e(market)}</span>: '
            f'<span class="ext-score">{rating}%</span>, '
            f'<span class="ext-sales">{sales}</span> sales</li>'
            for market, rating, sales in store.elsewhere
        )
        main = (
            f'<section class="bz-store" data-store="{_e(vendor.handle)}">'
            f'<h1 class="bz-store-name">{_e(vendor.handle)}</h1>'
            f'<p class="bz-lvl">Level {store.level}</p>'
            '<dl class="bz-stats">'
            f'<dt>Location</dt><dd class="s-country">{_e(vendor.country)}</dd>'
            f'<dt>Member since</dt><dd class="s-since">{vendor.joined}</dd>'
            f'<dt>Last seen</dt><dd class="s-seen">{store.last_seen}</dd>'
            f'<dt>Score</dt><dd class="s-score">{vendor.rating}%</dd>'
            f'<dt>Orders</dt><dd class="s-orders">{vendor.sales}</dd>'
            f'<dt>Feedback</dt><dd class="s-feedback"><span class="fb-pos">+{store.positive}</span>'
            f' <span class="fb-neu">{store.neutral}</span>'
            f' <span class="fb-neg">-{store.negative}</span></dd>'
            f'<dt>Disputes</dt><dd class="s-disputes">{store.disputes}</dd>'
            f'<dt>Vendor bond</dt><dd class="s-bond">{store.bond_usd} USD</dd></dl>'
            f'<div class="bz-about"><h2>About</h2><p>{_e(vendor.bio)}</p></div>'
            + (
                '<div class="bz-elsewhere"><h2>Verified reputation elsewhere</h2>'
                f"<ul>{elsewhere}</ul></div>"
                if elsewhere
                else ""
            )
            + '<div class="bz-pgp"><h2>PGP</h2>'
            f'<p>Fingerprint: <code class="bz-fpr">{vendor.pgp.fingerprint}</code></p>'
            f'<pre class="bz-armor">{_e(vendor.pgp.armored.rstrip())}</pre></div>'
            '<div class="bz-wallets"><h2>Direct payment (FE orders only)</h2>'
            f'<table class="bz-addr"><tbody>{"".join(rows)}</tbody></table></div>'
            + (
                f'<div class="bz-contact"><h2>Contact</h2><ul class="bz-contacts">{contacts}</ul>'
                "</div>"
                if contacts
                else ""
            )
            + f'<p class="bz-fb-link"><a href="{K.reviews_path(vendor.handle)}">'
            f"Read feedback ({len(store.reviews)})</a></p>"
            f"<h2>Items</h2>{self.grid(K.store_listings(self.svc, vendor.handle))}"
            "</section>"
        )
        return self.page(f"Store {vendor.handle}", main)

    def reviews(self, vendor: Vendor) -> bytes:
        store = self.content.store(vendor.handle)
        rows = "".join(
            f'<tr class="rv" data-item="{_e(r.listing_id)}">'
            f'<td class="rv-stars" data-stars="{r.stars}">'
            f"{'&#9733;' * r.stars}{'&#9734;' * (5 - r.stars)}</td>"
            f'<td class="rv-buyer">{_e(r.buyer)}</td>'
            f'<td class="rv-item"><a href="{K.item_path(r.listing_id)}">'
            f"{_e(self.listings[r.listing_id].title)}</a></td>"
            f'<td class="rv-text">{_e(r.text)}</td><td class="rv-date">{r.posted}</td></tr>'
            for r in store.reviews
        )
        main = (
            f'<h1 class="bz-rv-title">Feedback for '
            f'<a href="{K.store_path(vendor.handle)}">{_e(vendor.handle)}</a></h1>'
            '<table class="bz-reviews"><thead><tr><th>Rating</th><th>Buyer</th><th>Item</th>'
            f"<th>Comment</th><th>Date</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        return self.page(f"Feedback {vendor.handle}", main)

    def security(self) -> bytes:
        svc, key = self.svc, self.content.admin_key
        day = sf.canary_date(self.world.seed, svc)
        height, block = sf.block_at(self.world.seed, svc, day)
        main = (
            '<h1 class="bz-sec-title">Security &amp; verification</h1>'
            '<section class="bz-sec-mirrors"><h2>Official addresses</h2>'
            f"{self.onion_list()}"
            f'<p>Signed copy: <a href="{K.MIRRORS_TXT}">mirrors.txt</a></p></section>'
            '<section class="bz-sec-key"><h2>Staff PGP key</h2>'
            f'<p>Fingerprint: <code class="bz-fpr">{key.fingerprint}</code></p>'
            f'<pre class="bz-armor">{_e(key.armored.rstrip())}</pre>'
            f'<p>Also at <a href="{K.PGP_TXT}">pgp.txt</a>.</p></section>'
            '<section class="bz-sec-canary"><h2>Warrant canary</h2>'
            f'<p>Last signed <span class="canary-date">{day.isoformat()}</span> at Bitcoin '
            f'block <span class="canary-height">{height}</span> '
            f'(<code class="canary-block">{block}</code>). '
            f"It is renewed every {sf.CANARY_DAYS} days: "
            f'<a href="{K.CANARY_TXT}">canary.txt</a>.</p></section>'
        )
        return self.page("Security", main)

    def news(self) -> bytes:
        posts = "".join(
            f'<article class="bz-post"><h2 class="post-title">{_e(p.title)}</h2>'
            f'<time class="post-date">{p.posted}</time><p class="post-body">{_e(p.body)}</p>'
            "</article>"
            for p in self.content.news
        )
        return self.page("News", f'<h1 class="bz-news-title">News</h1>{posts}')

    def not_found(self) -> bytes:
        main = (
            '<div class="bz-404"><h1>404 &mdash; Page not found</h1>'
            "<p>This stall is empty: the item was sold out, removed, or never existed.</p>"
            '<p><a href="/">Back to the bazaar</a></p></div>'
        )
        return self.page("Not found", main)


def render_site(world: World, service: Service) -> tuple[dict[str, tuple[bytes, str]], bytes]:
    """Every page and text file of ``service``: ``({path: (body, type)}, not_found_html)``."""
    r = _Renderer(world, service)
    key, secret = sf.admin_key(world, service)
    texts = sf.signed_files(world, service, key, secret)
    out: dict[str, tuple[bytes, str]] = {}
    for page in K.pages(service):
        if page.kind == "home":
            out[page.path] = (r.home(), HTML)
        elif page.kind == "category":
            out[page.path] = (r.department(page.key, page.number), HTML)
        elif page.kind == "listing":
            out[page.path] = (r.item(r.listings[page.key]), HTML)
        elif page.kind == "vendor":
            out[page.path] = (r.store(r.vendors[page.key]), HTML)
        elif page.kind == "reviews":
            out[page.path] = (r.reviews(r.vendors[page.key]), HTML)
        elif page.kind == "security":
            out[page.path] = (r.security(), HTML)
        elif page.kind == "news":
            out[page.path] = (r.news(), HTML)
        elif page.kind == "text":
            out[page.path] = (texts[page.path], TEXT)
        else:  # pragma: no cover - a page kind without a renderer is a bug
            raise ValueError(f"no renderer for page kind {page.kind!r}")
    return out, r.not_found()
