"""HTML of the market: server-rendered, no JavaScript, root-relative links, UTF-8.

``render_pages(world, service)`` returns ``{"/path?query": html_bytes}`` for every page the
layout declares (plus the ``?page=1`` alias of each category) and the 404 page. Field markup
(CSS classes) is the site's public face that extractors are written against; keep it stable.
Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

from html import escape

from onionlab.lab.sites.pagination import Pager
from onionlab.lab.world.kinds.market.paths import MarketLayout
from onionlab.lab.world.model import Listing, Service, Vendor, World

L = MarketLayout()
# The market's pagination markup (the forum's is the same but for its arrows).
PAGER = Pager(
    prev='<a class="prev" rel="prev" href="{href}">&laquo; Prev</a>',
    current='<span class="page-num current">{n}</span>',
    link='<a class="page-num" href="{href}">{n}</a>',
    next='<a class="next" rel="next" href="{href}">Next &raquo;</a>',
)

_CSS = """
body{background:#14161a;color:#d6d6d6;font:14px/1.45 Verdana,Arial,sans-serif;margin:0}
a{color:#e0a84e;text-decoration:none}a:hover{text-decoration:underline}
#wrap{max-width:1080px;margin:0 auto;padding:0 14px}
header.top{display:flex;align-items:baseline;gap:14px;padding:14px 0;
  border-bottom:2px solid #e0a84e}
.brand{font-size:26px;font-weight:bold;color:#fff}.tagline{color:#8b8f96;font-style:italic}
.userbar{margin-left:auto;color:#8b8f96}
.layout{display:flex;gap:18px;margin-top:14px}
nav.catnav{width:210px;flex:none;background:#1d2026;border:1px solid #2b2f36;padding:8px}
nav.catnav h3{margin:4px 0 8px;font-size:13px;text-transform:uppercase;color:#8b8f96}
nav.catnav ul{list-style:none;margin:0;padding:0}nav.catnav li{padding:3px 0}
.count{color:#6f737a;font-size:12px}
main{flex:1;min-width:0}
table.listings{width:100%;border-collapse:collapse}
table.listings th{text-align:left;background:#22262d;padding:6px;font-size:12px}
table.listings td{padding:6px;border-bottom:1px solid #2b2f36;vertical-align:top}
.usd{color:#9fd38a;font-weight:bold}.btc{color:#8b8f96;font-size:12px}
.pagination{margin:14px 0;display:flex;gap:8px;align-items:center}
.pagination a,.pagination span{padding:3px 8px;border:1px solid #2b2f36}
.pagination .current{background:#e0a84e;color:#14161a}
table.listing-info,table.vendor-info{border-collapse:collapse;margin:10px 0}
table.listing-info th,table.vendor-info th{text-align:left;color:#8b8f96;padding:4px 16px 4px 0}
pre.pgp-key{background:#0d0e11;border:1px solid #2b2f36;padding:10px;font-size:12px;overflow:auto}
.mirror-box{border:1px dashed #e0a84e;padding:8px 12px;margin-bottom:14px}
footer{margin:30px 0 16px;padding-top:10px;border-top:1px solid #2b2f36;color:#6f737a;
  font-size:12px}
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def group_fingerprint(fingerprint: str) -> str:
    """The fingerprint as gpg prints it: ten groups of four, two spaces in the middle."""
    groups = [fingerprint[i : i + 4] for i in range(0, 40, 4)]
    return " ".join(groups[:5]) + "  " + " ".join(groups[5:])


class _Renderer:
    def __init__(self, world: World, service: Service) -> None:
        self.world = world
        self.svc = service
        self.cat_names = {c.slug: c.name for c in service.categories}
        self.vendors = {v.handle: v for v in service.vendors}
        counts: dict[str, int] = {}
        for lst in service.listings:
            counts[lst.category] = counts.get(lst.category, 0) + 1
        nav = "".join(
            f'<li><a href="{L.category_path(c.slug)}">{_e(c.name)}</a> '
            f'<span class="count">({counts.get(c.slug, 0)})</span></li>'
            for c in service.categories
        )
        self.nav = f'<nav class="catnav"><h3>Categories</h3><ul>{nav}</ul></nav>'

    def page(self, title: str, body: str) -> bytes:
        svc = self.svc
        html = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)} | {_e(svc.title)}</title>"
            f'<style>{_CSS}</style></head><body><div id="wrap">'
            f'<header class="top"><a class="brand" href="/">{_e(svc.title)}</a>'
            f'<span class="tagline">{_e(svc.tagline)}</span>'
            '<span class="userbar">Welcome, guest · 1 BTC = '
            f'<span class="rate">{self.world.btc_usd}</span> USD</span></header>'
            f'<div class="layout">{self.nav}<main>{body}</main></div>'
            f"<footer>&copy; {_e(svc.title)} · Escrow protected · Never finalize early "
            "unless you trust the vendor · No JavaScript required</footer>"
            "</div></body></html>\n"
        )
        return html.encode("utf-8")

    def rows(self, listings: list[Listing], *, with_vendor: bool = True) -> str:
        head = (
            "<thead><tr><th>Item</th>"
            + ("<th>Vendor</th>" if with_vendor else "")
            + "<th>Ships from</th><th>Price</th></tr></thead>"
        )
        body = []
        for lst in listings:
            vendor = (
                f'<td class="l-vendor"><a href="{L.vendor_path(lst.vendor)}">'
                f"{_e(lst.vendor)}</a></td>"
                if with_vendor
                else ""
            )
            body.append(
                f'<tr class="listing-row" data-id="{_e(lst.listing_id)}">'
                f'<td class="l-title"><a href="{L.listing_path(lst.listing_id)}">'
                f"{_e(lst.title)}</a></td>{vendor}"
                f'<td class="l-ships">{_e(lst.ships_from)}</td>'
                f'<td class="l-price"><span class="usd">${lst.price_usd}</span><br>'
                f'<span class="btc">{lst.price_btc} BTC</span></td></tr>'
            )
        return f'<table class="listings">{head}<tbody>{"".join(body)}</tbody></table>'

    def home(self) -> bytes:
        svc = self.svc
        by_id = {lst.listing_id: lst for lst in svc.listings}
        featured = [by_id[i] for i in svc.featured]
        body = (
            '<section class="mirror-box"><h3>Official address</h3>'
            "<p>Phishing sites copy us. Bookmark and always verify our only address:<br>"
            f'<code class="onion">http://{_e(svc.onion)}/</code></p></section>'
            f'<section class="welcome"><h1>Welcome to {_e(svc.title)}</h1>'
            f"<p>{len(svc.listings)} listings from {len(svc.vendors)} vendors in "
            f"{len(svc.categories)} categories.</p></section>"
            '<section class="featured"><h2>Featured listings</h2>'
            f"{self.rows(featured)}</section>"
        )
        return self.page("Home", body)

    def category(self, slug: str, number: int) -> bytes:
        listings = L.category_listings(self.svc, slug)
        pages = L.category_page_count(self.svc, slug)
        per = self.svc.per_page
        chunk = listings[(number - 1) * per : number * per]
        name = self.cat_names[slug]
        nav = PAGER.links(pages, number, lambda n: L.category_path(slug, n))
        first = (number - 1) * per + 1 if chunk else 0
        body = (
            f'<div class="crumbs"><a href="/">Home</a> &rsaquo; {_e(name)}</div>'
            f'<h1 class="cat-title">{_e(name)}</h1>'
            f'<p class="cat-info">Showing {first}&ndash;{first + len(chunk) - 1 if chunk else 0}'
            f" of {len(listings)} listings · page {number} of {pages}</p>"
            f"{self.rows(chunk)}"
            f'<div class="pagination">{"".join(nav)}</div>'
        )
        title = name if number == 1 else f"{name} - page {number}"
        return self.page(title, body)

    def listing(self, lst: Listing) -> bytes:
        vendor = self.vendors[lst.vendor]
        cat = self.cat_names[lst.category]
        body = (
            f'<div class="crumbs"><a href="/">Home</a> &rsaquo; '
            f'<a href="{L.category_path(lst.category)}">{_e(cat)}</a></div>'
            f'<div class="listing" id="listing-{_e(lst.listing_id)}">'
            f'<h1 class="listing-title">{_e(lst.title)}</h1>'
            '<table class="listing-info"><tbody>'
            f'<tr><th>Listing</th><td class="listing-id">#{_e(lst.listing_id)}</td></tr>'
            f'<tr><th>Sold by</th><td class="vendor"><a href="{L.vendor_path(vendor.handle)}">'
            f'{_e(vendor.handle)}</a> <span class="vendor-rating">({vendor.rating}%, '
            f"{vendor.sales} sales)</span></td></tr>"
            f'<tr><th>Category</th><td class="category"><a href="{L.category_path(lst.category)}">'
            f"{_e(cat)}</a></td></tr>"
            f'<tr><th>Product</th><td class="substance">{_e(lst.substance)}</td></tr>'
            f'<tr><th>Quantity</th><td class="weight">{lst.weight_g} g</td></tr>'
            f'<tr><th>Price</th><td class="price"><span class="usd">${lst.price_usd}</span>'
            f' &asymp; <span class="btc">{lst.price_btc} BTC</span></td></tr>'
            f'<tr><th>Ships from</th><td class="ships-from">{_e(lst.ships_from)}</td></tr>'
            f'<tr><th>Ships to</th><td class="ships-to">{_e(lst.ships_to)}</td></tr>'
            f'<tr><th>Listed</th><td class="posted">{lst.posted}</td></tr>'
            f'<tr><th>Sold</th><td class="sold">{lst.sold}</td></tr>'
            "</tbody></table>"
            '<div class="order"><p>Escrow protected · '
            "<em>Buying is disabled in guest mode. Please log in.</em></p></div>"
            f'<div class="description"><h2>Description</h2><p>{_e(lst.description)}</p></div>'
            "</div>"
        )
        return self.page(lst.title, body)

    def vendor(self, vendor: Vendor) -> bytes:
        addresses = "".join(f'<li><code class="btc-address">{a}</code></li>' for a in vendor.btc)
        body = (
            f'<div class="vendor-profile" id="vendor-{_e(vendor.handle)}">'
            f'<h1 class="vendor-handle">{_e(vendor.handle)}</h1>'
            '<table class="vendor-info"><tbody>'
            f'<tr><th>Ships from</th><td class="country">{_e(vendor.country)}</td></tr>'
            f'<tr><th>Member since</th><td class="joined">{vendor.joined}</td></tr>'
            f'<tr><th>Rating</th><td class="rating">{vendor.rating}%</td></tr>'
            f'<tr><th>Sales</th><td class="sales">{vendor.sales}</td></tr>'
            "</tbody></table>"
            f'<div class="vendor-bio"><h2>About</h2><p>{_e(vendor.bio)}</p></div>'
            '<div class="pgp"><h2>PGP public key</h2>'
            f'<p class="fingerprint">Fingerprint: <code class="fpr">'
            f"{group_fingerprint(vendor.pgp.fingerprint)}</code></p>"
            f'<pre class="pgp-key">{_e(vendor.pgp.armored.rstrip())}</pre></div>'
            '<div class="payment"><h2>Direct payment (FE only)</h2>'
            f'<ul class="btc-addresses">{addresses}</ul></div>'
            f"<h2>Listings by {_e(vendor.handle)}</h2>"
            f"{self.rows(L.vendor_listings(self.svc, vendor.handle), with_vendor=False)}"
            "</div>"
        )
        return self.page(f"Vendor {vendor.handle}", body)

    def not_found(self) -> bytes:
        body = (
            '<div class="error"><h1>404 &mdash; Page not found</h1>'
            "<p>The page you requested does not exist or the listing was removed.</p>"
            '<p><a href="/">Back to the market</a></p></div>'
        )
        return self.page("Not found", body)


def render_pages(world: World, service: Service) -> tuple[dict[str, bytes], bytes]:
    """Render every page of ``service``: ``({path_qs: html}, not_found_html)``."""
    r = _Renderer(world, service)
    listings = {lst.listing_id: lst for lst in service.listings}
    out: dict[str, bytes] = {}
    for page in L.pages(service):
        if page.kind == "home":
            out[page.path] = r.home()
        elif page.kind == "category":
            out[page.path] = r.category(page.key, page.number)
            if page.number == 1:
                out[L.category_path(page.key) + "?page=1"] = out[page.path]
        elif page.kind == "listing":
            out[page.path] = r.listing(listings[page.key])
        elif page.kind == "vendor":
            out[page.path] = r.vendor(r.vendors[page.key])
        else:  # pragma: no cover - a layout page kind without a renderer is a bug
            raise ValueError(f"no renderer for page kind {page.kind!r}")
    return out, r.not_found()
