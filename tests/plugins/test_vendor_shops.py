"""Tests of the ``vendor_shops`` plugin: the two single-vendor shop layouts.

Focused tests feed one hand-written page of each layout (product and vendor page of the
price-list shop and of the minimalist store) to the plugin; the scoring tests render both
shops of two worlds in-process and score every installed plugin against the ground truth;
the market's pages must get nothing from this plugin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from onionlab.crawler.items import Listing, Vendor
from onionlab.plugins import vendor_shops
from tests.support.site_pages import assert_adds_nothing_on_market, score_site

HOST = "a" * 55 + "d.onion"
FPR = "9185 05BF 2CE9 49B7 7BD7 8094 094F 243C E5D7 56DB"
BTC = "1rD12c5DkL8zeQh9hPtVNm1NipJmt71Hx"
XMR = "89Qz6b6FUkWccKZUo8f1gEHhtNvkQzSPMeznVStV64cz3GZ54NBSaE7Rj19a1RQZTMHz"


def page(path: str, body: str) -> HtmlResponse:
    html = f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"
    return HtmlResponse(f"http://{HOST}{path}", body=html.encode(), encoding="utf-8")


def items(path: str, body: str) -> list[Listing | Vendor]:
    result = vendor_shops.onionlab_extract(page(path, body))
    assert result is not None, "the plugin did not recognise the page"
    return list(result)


# --- focused: one page of each layout --------------------------------------------------------


def test_price_list_shop_product_page() -> None:
    [listing] = items(
        "/product/P007",
        '<table id="frame"><tr><td id="content"><div class="product-page" id="product-P007">'
        '<h2 class="p-title">Premium Blue Dream flower - 3.5 g</h2><table class="p-info">'
        '<tr><th>Code</th><td class="p-code">P007</td></tr>'
        '<tr><th>Substance</th><td class="p-substance">cannabis</td></tr>'
        '<tr><th>Category</th><td class="p-category"><a href="/prices/cannabis">Cannabis'
        "</a></td></tr>"
        '<tr><th>Weight</th><td class="p-weight">3.5 g</td></tr>'
        '<tr><th>Price</th><td><span class="p-usd">$1,024.00</span> = '
        '<span class="p-btc">0.01234567</span> BTC</td></tr>'
        '<tr><th>Ships from</th><td class="p-ships-from">Netherlands</td></tr>'
        '<tr><th>Ships to</th><td class="p-ships-to">EU + UK</td></tr>'
        '<tr><th>Vendor</th><td class="p-vendor"><a href="/about">DutchDirect</a></td></tr>'
        '</table><p class="p-desc">Weighed on a 0.001 g scale.</p></div></td></tr></table>',
    )
    assert listing == Listing(
        site=HOST,
        listing_id="P007",
        url=f"http://{HOST}/product/P007",
        title="Premium Blue Dream flower - 3.5 g",
        vendor="DutchDirect",
        category="Cannabis",
        substance="cannabis",
        weight_g="3.5",
        price_usd="1024.00",
        price_btc="0.01234567",
        ships_from="Netherlands",
        extra={"ships_to": "EU + UK", "description": "Weighed on a 0.001 g scale."},
    )


def test_price_list_shop_about_page_is_the_vendor() -> None:
    [vendor] = items(
        "/about",
        '<h2 class="vendor-handle">Dutch&amp;Direct</h2><p class="v-bio">Direct shop.</p>'
        '<table class="vendor-info"><tr><th>Ships from</th><td class="v-country">Netherlands'
        '</td></tr><tr><th>Since</th><td class="v-since">2022</td></tr>'
        f'<tr><th>PGP</th><td><code class="fingerprint">{FPR.replace(" ", "")}</code></td></tr>'
        f'<tr><th>Payment</th><td><code class="btc-address">{BTC}</code></td></tr></table>'
        '<h3>Also selling on</h3><ul class="also-on"><li><span class="site-title">Velvet</span>'
        ' as <span class="site-handle">dutchd</span>: <code class="onion">x.onion</code></li></ul>',
    )
    assert vendor == Vendor(
        site=HOST,
        handle="Dutch&Direct",
        url=f"http://{HOST}/about",
        pgp_fingerprint=FPR.replace(" ", ""),
        btc=[BTC],
        extra={
            "bio": "Direct shop.",
            "country": "Netherlands",
            "since": "2022",
            "also_on": [{"site": "Velvet", "handle": "dutchd", "onion": "x.onion"}],
        },
    )


# The listing fields a minimalist store's item page gives in words, with their data-field.
WORDS = {"vendor": "vendor", "category": "category", "substance": "substance",
         "ships_from": "ships-from"}  # fmt: skip


def test_minimalist_store_item_page() -> None:
    specs = {
        "substance": "mdma",
        "category": "Empathogens",
        "weight": "10 g",
        "price-xmr": "0.4321",
        "price-usd": "$120.00",
        "price-btc": "0.00123456",
        "ships-from": "Germany",
        "ships-to": "Europe",
        "vendor": "SilentMagic",
    }
    rows = "".join(f'<dt>{k}</dt><dd data-field="{k}">{v}</dd>' for k, v in specs.items())
    [listing] = items(
        "/item/k3x9qa",
        '<main><article class="item" data-sku="k3x9qa"><h1 data-field="title">mdma '
        f'(crystal) 10g</h1><dl class="specs">{rows}</dl><p data-field="description">Tested.'
        "</p></article></main>",
    )
    assert listing == Listing(
        site=HOST,
        listing_id="k3x9qa",
        url=f"http://{HOST}/item/k3x9qa",
        title="mdma (crystal) 10g",
        **{field: specs[key] for field, key in WORDS.items()},  # the page's words, as they stand
        weight_g="10",
        price_usd="120.00",
        price_btc="0.00123456",
        extra={"price_xmr": "0.4321", "ships_to": "Europe", "description": "Tested."},
    )


def test_minimalist_store_contact_page_is_the_vendor() -> None:
    [vendor] = items(
        "/contact",
        '<main><h1 data-field="handle">SilentMagic</h1><dl class="specs">'
        '<dt>session</dt><dd><code class="addr" data-field="session">05ab</code></dd>'
        '<dt>order bot</dt><dd>telegram <span data-field="telegram-bot">@quiet_bot</span></dd>'
        '<dt>operator</dt><dd>telegram <span data-field="telegram">@silent_op</span></dd>'
        f'<dt>pgp</dt><dd><span data-field="fingerprint">{FPR}</span></dd>'
        f'<dt>xmr</dt><dd><code class="addr" data-field="xmr-address">{XMR}</code></dd>'
        f'<dt>btc</dt><dd><code class="addr" data-field="btc-address">{BTC}</code></dd>'
        "</dl></main>",
    )
    assert vendor == Vendor(
        site=HOST,
        handle="SilentMagic",
        url=f"http://{HOST}/contact",
        pgp_fingerprint=FPR.replace(" ", ""),
        btc=[BTC],
        extra={"xmr": [XMR], "session": ["05ab"], "telegram": ["quiet_bot", "silent_op"]},
    )


@pytest.mark.parametrize(
    "body",
    [
        '<div class="listing"><h1 class="listing-title">x</h1></div>',
        '<div class="vendor-profile"><h1 class="vendor-handle">x</h1></div>',
        '<div class="profile" data-handle="x"><table class="profile-info"></table></div>',
        '<main><h1>pay</h1><code class="addr" data-field="btc-address">1abc</code></main>',
    ],
)
def test_other_layouts_are_not_recognised(body: str) -> None:
    assert vendor_shops.onionlab_extract(page("/x", body)) is None


# --- scored on the rendered shops ------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", ["vendor-a", "vendor-b"])
def test_listings_are_all_found_and_right(seed: int, name: str, tmp_path: Path) -> None:
    listings = score_site(seed, name, tmp_path)["listings"]
    assert listings["expected"] > 0
    assert (listings["precision"], listings["recall"]) == (1.0, 1.0), listings


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", ["vendor-a", "vendor-b"])
def test_vendor_is_found_and_right(seed: int, name: str, tmp_path: Path) -> None:
    vendors = score_site(seed, name, tmp_path)["vendors"]
    assert vendors["expected"] == 1
    # vendor-b: the truth's vendor page is /contact, which must show the BTC address.
    assert (vendors["precision"], vendors["recall"]) == (1.0, 1.0), vendors


def test_installed_and_nothing_from_the_market(monkeypatch: pytest.MonkeyPatch) -> None:
    assert_adds_nothing_on_market(vendor_shops, monkeypatch)
