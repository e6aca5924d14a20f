"""HTML of the bazaar: server-rendered card grid, no JavaScript, root-relative links, UTF-8.

``render_site(world, service)`` returns ``({"/path": (body, content_type)}, not_found)`` for
every page ``onionlab.lab.world.kinds.bazaar.pages`` declares, including the signed text files;
the chrome and shared pieces are in ``frame``. The markup (element classes listed in each
renderer) is what extractors are written against: keep it stable.
Depends only on the standard library, ``onionlab.lab.world`` and
``onionlab.lab.sites.signed_files``.
"""

from __future__ import annotations

from decimal import Decimal

from onionlab.lab.sites import signed_files as sf
from onionlab.lab.sites.bazaar.frame import CHAIN_LABELS, CONTACT_LABELS, PAGER, Frame, esc
from onionlab.lab.world.kinds import bazaar as K
from onionlab.lab.world.model import Listing, Service, Vendor, World

HTML = "text/html"
TEXT = "text/plain"


class _Renderer(Frame):
    """Every page of one bazaar service."""

    def home(self) -> bytes:
        svc = self.svc
        featured = [self.listings[i] for i in svc.featured]
        stores = "".join(
            f'<li><a href="{K.store_path(s.handle)}">{esc(s.handle)}</a> '
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
        nav = PAGER.links(total, number, lambda n: K.dept_path(slug, n))
        main = (
            f'<h1 class="bz-dept-title">{esc(name)}</h1>'
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
            f'<li><span class="ship-name">{esc(option)}</span> '
            f'<span class="ship-usd">+{usd} USD</span></li>'
            for option, usd in item.shipping
        )
        payment = "Escrow" if item.escrow == "Escrow" else "Finalize early (FE)"
        main = (
            f'<article class="bz-item" data-item="{esc(lst.listing_id)}">'
            f'<p class="bz-crumbs"><a href="/">Market</a> &rsaquo; '
            f'<a href="{K.dept_path(lst.category)}">{esc(dept)}</a></p>'
            f'<h1 class="bz-item-title">{esc(lst.title)}</h1>'
            '<dl class="bz-facts">'
            f'<dt>Item #</dt><dd class="f-id">{esc(lst.listing_id)}</dd>'
            f'<dt>Seller</dt><dd class="f-seller"><a href="{K.store_path(vendor.handle)}">'
            f'{esc(vendor.handle)}</a> <span class="f-seller-lvl">Level {store.level}</span> '
            f'<span class="f-seller-score">{vendor.rating}%</span></dd>'
            f'<dt>Department</dt><dd class="f-dept"><a href="{K.dept_path(lst.category)}">'
            f"{esc(dept)}</a></dd>"
            f'<dt>Product</dt><dd class="f-product">{esc(lst.substance)}</dd>'
            f'<dt>Ships from</dt><dd class="f-from">{esc(lst.ships_from)}</dd>'
            f'<dt>Ships to</dt><dd class="f-to">{esc(lst.ships_to)}</dd>'
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
            f'<div class="bz-desc"><h2>Details</h2><p>{esc(lst.description)}</p></div>'
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
            label = CHAIN_LABELS[chain]
            if old:
                rows.append(
                    f'<tr class="addr addr-old" data-chain="{chain}"><th>{label} (old)</th>'
                    f'<td><s class="addr-value">{esc(value)}</s> '
                    "<em>old address &mdash; do not use</em></td></tr>"
                )
            else:
                rows.append(
                    f'<tr class="addr" data-chain="{chain}"><th>{label}</th>'
                    f'<td><code class="addr-value">{esc(value)}</code></td></tr>'
                )
        contacts = "".join(
            f'<li data-type="{kind}"><span class="ct-label">{CONTACT_LABELS[kind]}</span> '
            f'<span class="ct-value">{"@" if kind == "telegram" else ""}{esc(value)}</span></li>'
            for kind, value in store.contacts
        )
        elsewhere = "".join(
            f'<li class="ext"><span class="ext-market">{esc(market)}</span>: '
            f'<span class="ext-score">{rating}%</span>, '
            f'<span class="ext-sales">{sales}</span> sales</li>'
            for market, rating, sales in store.elsewhere
        )
        main = (
            f'<section class="bz-store" data-store="{esc(vendor.handle)}">'
            f'<h1 class="bz-store-name">{esc(vendor.handle)}</h1>'
            f'<p class="bz-lvl">Level {store.level}</p>'
            '<dl class="bz-stats">'
            f'<dt>Location</dt><dd class="s-country">{esc(vendor.country)}</dd>'
            f'<dt>Member since</dt><dd class="s-since">{vendor.joined}</dd>'
            f'<dt>Last seen</dt><dd class="s-seen">{store.last_seen}</dd>'
            f'<dt>Score</dt><dd class="s-score">{vendor.rating}%</dd>'
            f'<dt>Orders</dt><dd class="s-orders">{vendor.sales}</dd>'
            f'<dt>Feedback</dt><dd class="s-feedback"><span class="fb-pos">+{store.positive}</span>'
            f' <span class="fb-neu">{store.neutral}</span>'
            f' <span class="fb-neg">-{store.negative}</span></dd>'
            f'<dt>Disputes</dt><dd class="s-disputes">{store.disputes}</dd>'
            f'<dt>Vendor bond</dt><dd class="s-bond">{store.bond_usd} USD</dd></dl>'
            f'<div class="bz-about"><h2>About</h2><p>{esc(vendor.bio)}</p></div>'
            + (
                '<div class="bz-elsewhere"><h2>Verified reputation elsewhere</h2>'
                f"<ul>{elsewhere}</ul></div>"
                if elsewhere
                else ""
            )
            + '<div class="bz-pgp"><h2>PGP</h2>'
            f'<p>Fingerprint: <code class="bz-fpr">{vendor.pgp.fingerprint}</code></p>'
            f'<pre class="bz-armor">{esc(vendor.pgp.armored.rstrip())}</pre></div>'
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
            f'<tr class="rv" data-item="{esc(r.listing_id)}">'
            f'<td class="rv-stars" data-stars="{r.stars}">'
            f"{'&#9733;' * r.stars}{'&#9734;' * (5 - r.stars)}</td>"
            f'<td class="rv-buyer">{esc(r.buyer)}</td>'
            f'<td class="rv-item"><a href="{K.item_path(r.listing_id)}">'
            f"{esc(self.listings[r.listing_id].title)}</a></td>"
            f'<td class="rv-text">{esc(r.text)}</td><td class="rv-date">{r.posted}</td></tr>'
            for r in store.reviews
        )
        main = (
            f'<h1 class="bz-rv-title">Feedback for '
            f'<a href="{K.store_path(vendor.handle)}">{esc(vendor.handle)}</a></h1>'
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
            f'<pre class="bz-armor">{esc(key.armored.rstrip())}</pre>'
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
            f'<article class="bz-post"><h2 class="post-title">{esc(p.title)}</h2>'
            f'<time class="post-date">{p.posted}</time><p class="post-body">{esc(p.body)}</p>'
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
