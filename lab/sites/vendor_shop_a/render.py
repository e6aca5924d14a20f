"""HTML of the price-list shop: a table-framed, old-fashioned English vendor site.

``render_pages(world, service)`` returns ``({"/path?query": html}, not_found, received)``.
Field markup (classes ``p-*`` on products, ``fingerprint``, ``btc-address``, …) is what
extractors are written against; keep it stable. Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

from html import escape

from onionlab.lab.sites.pagination import Pager
from onionlab.lab.sites.shop_pages import common_pages
from onionlab.lab.world.kinds import vendor_shop_a as k
from onionlab.lab.world.model import Listing, Service, World

_PAGER = Pager(
    prev='<a class="prev" rel="prev" href="{href}">&laquo; newer</a>',
    current='<span class="current">{n}</span>',
    link='<a href="{href}">{n}</a>',
    next='<a class="next" rel="next" href="{href}">older &raquo;</a>',
)

_CSS = """
body{background:#f4efe1;color:#222;font:15px/1.5 Georgia,'Times New Roman',serif;margin:0}
table#frame{width:880px;margin:12px auto;border:2px solid #5b4636;background:#fffdf6;
  border-collapse:collapse}
td#masthead{background:#5b4636;color:#f4efe1;padding:14px 18px}
td#masthead a{color:#f4efe1;text-decoration:none}
h1.shop-name{margin:0;font-size:30px;letter-spacing:1px}.motto{margin:2px 0 0;font-style:italic}
td#menu{background:#e8dcc0;padding:6px 18px;font-size:14px}
td#menu a{color:#5b4636;margin-right:12px}
td#content{padding:16px 22px;vertical-align:top}
td#foot{border-top:1px solid #c9b99a;padding:8px 18px;font-size:12px;color:#6b5a48}
a{color:#8a3b12}
table.pricelist{width:100%;border-collapse:collapse;font-size:14px}
table.pricelist th,table.pricelist td{border:1px solid #d6c7a5;padding:4px 8px;text-align:left}
tr.cat-head th{background:#efe5cc;font-size:15px}
td.p-usd,td.p-btc,td.p-weight{text-align:right;white-space:nowrap}
table.p-info th{text-align:left;padding:3px 18px 3px 0;color:#6b5a48}
code,pre{font-family:'Courier New',monospace}
pre{background:#f8f4e8;border:1px solid #d6c7a5;padding:10px;font-size:13px;overflow:auto}
.verify{border:1px dashed #8a3b12;padding:8px 10px;background:#fff6e6}
div.review{border-bottom:1px dotted #c9b99a;padding:6px 0}.r-stars{color:#b8860b}
p.pager a,p.pager span{margin-right:8px}p.pager .current{font-weight:bold}
dl.faq dt{font-weight:bold;margin-top:12px}
textarea{width:100%;height:160px;font-family:'Courier New',monospace}
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


class _Shop:
    def __init__(self, world: World, service: Service) -> None:
        self.svc = service
        self.shop: k.ShopA = service.content
        self.vendor = service.vendors[0]
        self.onion = service.onion.removesuffix(".onion")
        self.cat_names = {c.slug: c.name for c in service.categories}

    def page(self, title: str, body: str) -> bytes:
        menu = " ".join(
            f'<a href="{href}">{label}</a>'
            for href, label in (
                (k.HOME, "Home"), (k.PRICES, "Price list"), (k.ORDER, "How to order"),
                (k.reviews_path(), "Reviews"), (k.FAQ, "FAQ"), (k.PGP, "PGP key"),
                (k.MIRRORS, "Mirrors"), (k.CONTACT, "Contact"), (k.ABOUT, "About"),
            )
        )  # fmt: skip
        html = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)} - {_e(self.svc.title)}</title><style>{_CSS}</style></head>"
            '<body><table id="frame">'
            f'<tr><td id="masthead"><h1 class="shop-name"><a href="{k.HOME}">'
            f'{_e(self.svc.title)}</a></h1><p class="motto">{_e(self.svc.tagline)}</p></td></tr>'
            f'<tr><td id="menu">{menu}</td></tr>'
            f'<tr><td id="content">{body}</td></tr>'
            f'<tr><td id="foot"><a href="{k.SHIPPING}">Shipping &amp; refunds</a> · '
            f'<a href="{k.CANARY}">Warrant canary</a> · {_e(self.shop.handle)} '
            f"since {_e(self.shop.since)} · no JavaScript, ever</td></tr>"
            "</table></body></html>\n"
        )
        return html.encode("utf-8")

    # --- product tables ---------------------------------------------------------------------

    def row(self, x: Listing) -> str:
        return (
            f'<tr class="product" id="{x.listing_id}" data-id="{x.listing_id}">'
            f'<td class="p-code">{x.listing_id}</td>'
            f'<td class="p-name"><a href="{k.product_path(x.listing_id)}">{_e(x.title)}</a></td>'
            f'<td class="p-weight">{x.weight_g} g</td>'
            f'<td class="p-usd">${x.price_usd}</td>'
            f'<td class="p-btc">{x.price_btc}</td></tr>'
        )

    def table(self, slugs: list[str]) -> str:
        parts = [
            '<table class="pricelist" id="pricelist"><thead><tr><th>Code</th><th>Product</th>'
            "<th>Weight</th><th>USD</th><th>BTC</th></tr></thead>"
        ]
        for slug in slugs:
            rows = "".join(self.row(x) for x in self.svc.listings if x.category == slug)
            parts.append(
                f'<tbody class="cat" data-category="{slug}"><tr class="cat-head">'
                f'<th colspan="5"><a href="{k.category_path(slug)}">'
                f"{_e(self.cat_names[slug])}</a></th></tr>{rows}</tbody>"
            )
        parts.append("</table>")
        return "".join(parts)

    # --- pages ------------------------------------------------------------------------------

    def home(self) -> bytes:
        best = sorted(self.svc.listings, key=lambda x: (-x.sold, x.listing_id))[:5]
        cats = "".join(
            f'<li><a href="{k.category_path(c.slug)}">{_e(c.name)}</a></li>'
            for c in self.svc.categories
        )
        top = "".join(
            f'<li><a href="{k.product_path(x.listing_id)}">{_e(x.title)}</a> - ${x.price_usd}</li>'
            for x in best
        )
        body = (
            f'<p class="intro">{_e(self.shop.intro)}</p>'
            f'<p class="verify">Bookmark and verify our address: '
            f'<code class="onion">{self.onion}.onion</code>. Mirrors are listed, signed, on '
            f'the <a href="{k.MIRRORS}">mirror page</a>.</p>'
            f'<h2>What we sell</h2><ul class="cats">{cats}</ul>'
            f'<p>Full <a href="{k.PRICES}">price list</a> (updated '
            f'<span class="updated">{self.shop.updated}</span>).</p>'
            f'<h2>Bestsellers</h2><ol class="bestsellers">{top}</ol>'
        )
        return self.page("Home", body)

    def prices(self) -> bytes:
        body = (
            f'<h2>Price list</h2><p>Updated <span class="updated">{self.shop.updated}</span>. '
            "Prices include shipping. BTC prices are at today's rate; pay the BTC amount shown "
            f'on the day you order. See <a href="{k.ORDER}">how to order</a>.</p>'
            + self.table([c.slug for c in self.svc.categories])
        )
        return self.page("Price list", body)

    def category(self, slug: str) -> bytes:
        body = (
            f'<h2 class="cat-title">{_e(self.cat_names[slug])}</h2>'
            f'<p><a href="{k.PRICES}">&larr; full price list</a></p>' + self.table([slug])
        )
        return self.page(self.cat_names[slug], body)

    def product(self, x: Listing) -> bytes:
        body = (
            f'<div class="product-page" id="product-{x.listing_id}">'
            f'<h2 class="p-title">{_e(x.title)}</h2><table class="p-info">'
            f'<tr><th>Code</th><td class="p-code">{x.listing_id}</td></tr>'
            f'<tr><th>Substance</th><td class="p-substance">{_e(x.substance)}</td></tr>'
            f'<tr><th>Category</th><td class="p-category"><a href="{k.category_path(x.category)}">'
            f"{_e(self.cat_names[x.category])}</a></td></tr>"
            f'<tr><th>Weight</th><td class="p-weight">{x.weight_g} g</td></tr>'
            f'<tr><th>Price</th><td><span class="p-usd">${x.price_usd}</span> = '
            f'<span class="p-btc">{x.price_btc}</span> BTC</td></tr>'
            f'<tr><th>Ships from</th><td class="p-ships-from">{_e(x.ships_from)}</td></tr>'
            f'<tr><th>Ships to</th><td class="p-ships-to">{_e(x.ships_to)}</td></tr>'
            f'<tr><th>Vendor</th><td class="p-vendor"><a href="{k.ABOUT}">'
            f"{_e(x.vendor)}</a></td></tr></table>"
            f'<p class="p-desc">{_e(x.description)}</p>'
            f'<p><a href="{k.ORDER}">Order this product</a> · quote code '
            f"<b>{x.listing_id}</b> in your message.</p></div>"
        )
        return self.page(x.title, body)

    def reviews(self, number: int, total: int) -> bytes:
        per = k.REVIEWS_PER_PAGE
        chunk = self.shop.reviews[(number - 1) * per : number * per]
        titles = {x.listing_id: x.title for x in self.svc.listings}
        items = "".join(
            f'<div class="review" data-product="{r.listing_id}">'
            f'<span class="r-stars" title="{r.stars}/5">{"★" * r.stars}{"☆" * (5 - r.stars)}'
            f'</span> <span class="r-buyer">{_e(r.buyer)}</span> '
            f'<span class="r-date">{r.date}</span> on <a class="r-product" '
            f'href="{k.product_path(r.listing_id)}">{_e(titles[r.listing_id])}</a>'
            f'<p class="r-text">{_e(r.text)}</p></div>'
            for r in chunk
        )
        pager = _PAGER.links(total, number, k.reviews_path)
        body = (
            f"<h2>Reviews</h2><p>{len(self.shop.reviews)} reviews from buyers who pasted "
            "them in their order follow-ups (names masked).</p>"
            f'{items}<p class="pager">{"".join(pager)}</p>'
        )
        return self.page(f"Reviews (page {number})", body)

    def order(self) -> bytes:
        fpr, btc = self.vendor.pgp.fingerprint, self.shop.payment_btc
        body = (
            '<h2>How to order</h2><ol class="steps">'
            f'<li>Pick products from the <a href="{k.PRICES}">price list</a> and note their '
            "codes.</li>"
            "<li>Write your order: codes, quantities, the BTC amount and your full shipping "
            "address.</li>"
            "<li><b>Encrypt your address to our PGP key</b> (fingerprint "
            f'<code class="fingerprint">{fpr}</code>, full key on the '
            f'<a href="{k.PGP}">PGP page</a>). Unencrypted orders are deleted unread.</li>'
            "<li>Send the exact BTC total to our address "
            f'<code class="btc-address">{btc}</code>. This address is static: it never '
            "changes. There is no escrow.</li>"
            "<li>Paste the encrypted block and your transaction ID below.</li></ol>"
            f'<form method="post" action="{k.ORDER}" class="order-form">'
            "<p><label>Encrypted order (PGP message)<br>"
            '<textarea name="message" placeholder="-----BEGIN PGP MESSAGE-----"></textarea>'
            "</label></p>"
            '<p><label>Transaction ID <input type="text" name="txid" size="70"></label></p>'
            '<p><label>Shipping <select name="shipping"><option>Standard (free)</option>'
            "<option>Tracked (+$15)</option></select></label></p>"
            '<p><button type="submit">Send order</button></p></form>'
        )
        return self.page("How to order", body)

    def faq(self) -> bytes:
        items = "".join(
            f'<dt class="q">{_e(q)}</dt><dd class="a">{_e(a)}</dd>' for q, a in self.shop.faq
        )
        return self.page("FAQ", f'<h2>Frequently asked questions</h2><dl class="faq">{items}</dl>')

    def pgp(self) -> bytes:
        key = self.vendor.pgp
        body = (
            "<h2>Our PGP key</h2>"
            f'<p>Fingerprint: <code class="fingerprint">{key.fingerprint}</code></p>'
            f'<p>User ID: <span class="uid">{_e(key.uid)}</span></p>'
            f'<pre class="pgp-key">{_e(key.armored.rstrip())}</pre>'
            "<p>Check the fingerprint on the markets we sell on before you trust this page.</p>"
        )
        return self.page("PGP key", body)

    def mirrors(self) -> bytes:
        body = (
            "<h2>Mirrors</h2><p>Our official addresses, signed with our key "
            f'<code class="fingerprint">{self.vendor.pgp.fingerprint}</code>. Verify the '
            "signature before using any of them; backups go online only when the primary is "
            "down.</p>"
            f'<pre class="signed-mirrors">{_e(self.shop.mirrors_signed.rstrip())}</pre>'
        )
        return self.page("Mirrors", body)

    def contact(self) -> bytes:
        rows = [f'<li>E-mail: <code class="email">{_e(self.shop.email)}</code></li>']
        if self.shop.jabber:
            rows.append(f'<li>Jabber/XMPP: <code class="jabber">{_e(self.shop.jabber)}</code></li>')
        body = (
            "<h2>Contact</h2><p>We answer encrypted messages only, within 24 hours. Encrypt "
            f'to <code class="fingerprint">{self.vendor.pgp.fingerprint}</code>.</p>'
            f'<ul class="contacts">{"".join(rows)}</ul>'
            "<p>We never contact you first and we have no Telegram. Anyone who says otherwise "
            "is a scammer.</p>"
        )
        return self.page("Contact", body)

    def about(self) -> bytes:
        also = "".join(
            f'<li><span class="site-title">{_e(title)}</span> as '
            f'<span class="site-handle">{_e(handle)}</span>: '
            f'<code class="onion">{host}.onion</code></li>'
            for title, host, handle in self.shop.also_on
        )
        markets = (
            f'<h3>Also selling on</h3><ul class="also-on">{also}</ul>'
            if also
            else "<p>We sell only here.</p>"
        )
        body = (
            f'<h2 class="vendor-handle">{_e(self.shop.handle)}</h2>'
            f'<p class="v-bio">{_e(self.vendor.bio)}</p><table class="vendor-info">'
            f'<tr><th>Ships from</th><td class="v-country">{_e(self.vendor.country)}</td></tr>'
            f'<tr><th>Ships to</th><td class="v-ships-to">{_e(self.shop.ships_to)}</td></tr>'
            f'<tr><th>Since</th><td class="v-since">{_e(self.shop.since)}</td></tr>'
            f'<tr><th>PGP</th><td><code class="fingerprint">{self.vendor.pgp.fingerprint}'
            "</code></td></tr>"
            f'<tr><th>Payment</th><td><code class="btc-address">{self.shop.payment_btc}</code>'
            "</td></tr></table>" + markets
        )
        return self.page(f"About {self.shop.handle}", body)

    def shipping(self) -> bytes:
        body = (
            "<h2>Shipping &amp; refunds</h2><ul>"
            "<li>Orders paid before 14:00 UTC ship the same working day.</li>"
            "<li>Vacuum sealed twice, moisture barrier bag, ordinary-looking envelope.</li>"
            f"<li>We ship to: {_e(self.shop.ships_to)}.</li>"
            "<li>One reship on proven non-arrival for orders over $100; no refunds for "
            "wrong addresses.</li></ul>"
        )
        return self.page("Shipping", body)

    def canary(self) -> bytes:
        body = (
            "<h2>Warrant canary</h2>"
            f'<pre class="canary">{_e(self.shop.canary_signed.rstrip())}</pre>'
        )
        return self.page("Warrant canary", body)


def render_pages(world: World, service: Service) -> tuple[dict[str, bytes], bytes, bytes]:
    """Every page of the shop by ``path?query``, the 404 page and the order-received page."""
    r = _Shop(world, service)
    total = k.review_pages(service)
    pages = common_pages(r)
    pages |= {k.PRICES: r.prices(), k.ORDER: r.order(), k.ABOUT: r.about(), k.CANARY: r.canary()}
    for cat in service.categories:
        pages[k.category_path(cat.slug)] = r.category(cat.slug)
    for x in service.listings:
        pages[k.product_path(x.listing_id)] = r.product(x)
    for n in range(1, total + 1):
        pages[k.reviews_path(n)] = r.reviews(n, total)
    not_found = r.page(
        "Page not found",
        '<h2>Page not found</h2><p>Nothing here. Go back to the <a href="/">price list</a>.</p>',
    )
    received = r.page(
        "Order received",
        "<h2>Order received</h2><p>Thank you. We reply to the contact inside your encrypted "
        "message once the payment has one confirmation.</p>",
    )
    return pages, not_found, received
