"""Fuzzing every built-in plugin with hostile pages and items (issue #10, build item 3).

Hypothesis draws pages an attacker could serve — long tokens, one-character lines,
unterminated armor/scripts/styles/tags, deep markup, homoglyph floods, huge numbers, floods
of the Base58/hex/Bech32/Base32 alphabets, mixed scripts, JSON-escaped text, random bytes in
several encodings — alone, mixed, and inside the lab's own layouts so the layout plugins read
them too. Every built-in plugin's ``onionlab_extract`` and ``onionlab_normalize_item`` (and
the gate and link hooks) must return onionlab items or nothing, raise nothing, and stay
within a CPU budget that grows with the page's size. Deterministic (``derandomize``, no
example database) and bounded in time, so CI runs the same examples every time.
"""

from __future__ import annotations

import functools
import json
import time
from datetime import timedelta
from importlib import import_module
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onionlab.crawler.extraction.offline import response_from_bytes
from onionlab.crawler.items import Item, Listing, Vendor
from tests.support.timeouts import hard_timeout

URL = "http://" + "a" * 56 + ".onion/page/1"
HARD_LIMIT = 30.0  # seconds: a hang fails the example instead of the CI run
# Per page: a fixed part, then per character of body (the linear cost of every plugin over it).
BUDGET_BASE, BUDGET_PER_CHAR = 0.5, 20e-6
FUZZ = settings(
    max_examples=300,
    deadline=timedelta(seconds=10),  # wall time, generous on a shared machine; CPU is below
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def builtin_plugins() -> list[ModuleType]:
    """The plugins registered by this package's ``onionlab`` entry points (not the lab's)."""
    names = sorted(
        ep.value
        for ep in entry_points(group="onionlab")
        if ep.value.startswith("onionlab.plugins.")
    )
    return [import_module(name) for name in names]


PLUGINS = builtin_plugins()


def test_every_builtin_plugin_is_fuzzed() -> None:
    names = {plugin.__name__.removeprefix("onionlab.plugins.") for plugin in PLUGINS}
    assert {"crypto_addresses", "pgp_keys", "contacts", "substances", "bazaar"} <= names
    assert len(names) >= 13


def hooks(name: str) -> list[Any]:
    return [getattr(plugin, name) for plugin in PLUGINS if hasattr(plugin, name)]


# --- hostile text ----------------------------------------------------------------------------

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdefABCDEF"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
HOMOGLYPHS = "АВЕКМНОРСТУХаеорсухѕіјԁһӏ" + "ABEKMHOPCTYXaeopcyxsijdhl"
SEPARATORS = ["", "\n", " ", "<br>", "</span><span>", "\t\n ", "-", ".", "\u200b"]
sizes = st.integers(min_value=1, max_value=20_000)


def flood(alphabet: str) -> st.SearchStrategy[str]:
    """Characters of ``alphabet``, optionally one per line or element."""
    return st.tuples(
        st.text(alphabet, min_size=1, max_size=200), sizes, st.sampled_from(SEPARATORS)
    ).map(lambda t: t[2].join((t[0] * (t[1] // len(t[0]) + 1))[: t[1]]) if t[2] else t[0] * t[1])


long_token = st.tuples(st.sampled_from("a0Zя9f"), sizes).map(lambda t: t[0] * t[1] + "\nb")
one_char_lines = st.tuples(st.text(B58, min_size=1, max_size=128), sizes).map(
    lambda t: "\n".join((t[0] * (t[1] // len(t[0]) + 1))[: t[1]])
)
unterminated = st.tuples(
    st.sampled_from(
        [
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
            "-----BEGIN PGP SIGNATURE-----\n",
            "-----BEGIN PGP MESSAGE-----\n-----END PGP SIGNATURE-----\n",
            "<script>",
            "<style ",
            "<SCRIPT",
            "<",
            "<a ",
            "<span x='",
            "<!--",
            "<![CDATA[",
            "&#",
            "&amp",
        ]
    ),
    st.integers(1, 5_000),
).map(lambda t: t[0] * t[1])
armor_labels = st.integers(1, 3_000).map(
    lambda n: "".join(f"-----BEGIN PGP K{i}-----\n" for i in range(n))
)
deep_markup = st.tuples(
    st.sampled_from(["div", "span", "p", "td", "li", "a", "b", "article", "section"]),
    st.integers(1, 2_000),
    st.text(max_size=40),
).map(lambda t: f"<{t[0]}>" * t[1] + t[2] + f"</{t[0]}>" * t[1])
huge_numbers = st.one_of(
    st.integers(1, 50_000).map(lambda n: "9" * n),
    st.integers(1, 5_000).map(lambda n: "1" + ",000" * n + ".5"),
    st.integers(1, 5_000).map(lambda n: "1 " * n + "г"),
    st.sampled_from(["1e999999", "-1e-999999", "NaN", "Infinity", "sNaN", "0." + "0" * 5000 + "1"]),
    st.integers(1, 3_000).map(lambda n: "0.5g " * n),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
telegram_bait = st.tuples(
    st.sampled_from(["телег", "телеграм", "tg", "telegram", "Jabber", "t.me/", "@", "[at]"]),
    st.integers(1, 5_000),
    st.sampled_from(["", " ", ": ", " @ ", "\n"]),
).map(lambda t: t[0] * t[1] + t[2] * min(t[1], 2_000) + "@ name")
captcha_bait = st.tuples(
    st.sampled_from(["how many letters ", "what is ", "word '", "backwards ", "twenty-"]),
    st.integers(1, 4_000),
).map(lambda t: t[0] * t[1])
json_escaped = st.text(max_size=2_000).map(lambda s: json.dumps(s)[1:-1])
mixed_scripts = st.text(max_size=3_000)

hostile_text = st.one_of(
    long_token,
    one_char_lines,
    unterminated,
    armor_labels,
    deep_markup,
    flood(HOMOGLYPHS),
    huge_numbers,
    flood(B58),
    flood(HEX),
    flood(BECH32),
    flood(BASE32),
    telegram_bait,
    captcha_bait,
    json_escaped,
    mixed_scripts,
)

# The lab's layouts, with a slot the hostile text goes into: the layout plugins then parse it.
LAYOUTS = [
    "<html><body>{}</body></html>",
    "{}",
    '<html><body class="bz"><article class="bz-item"><h1 class="bz-item-title">{0}</h1>'
    '<dl class="bz-facts"><dd class="f-id">#{0}</dd><dd class="f-stock">{0}</dd></dl>'
    '<table class="bz-tiers"><tr class="tier" data-qty="{0}"><td class="t-qty">{0} g</td>'
    '<td class="t-usd">{0}</td><td class="t-btc">{0}</td></tr></table></article></body></html>',
    '<html><body class="bz"><section class="bz-store"><h1 class="bz-store-name">{0}</h1>'
    '<table class="bz-addr"><tr class="addr" data-chain="btc"><td class="addr-value">{0}</td>'
    '</tr></table><dd class="s-orders">{0}</dd></section></body></html>',
    '<div class="ratebar"><span class="rate rate-btc">1 BTC = {0} $</span>'
    '<span class="rate rate-rub">1 $ = {0} ₽</span></div><div class="tovar">'
    '<h1 class="tovar-name">{0}</h1><table><tr><td class="tovar-id">{0}</td>'
    '<td class="tovar-fasovka">{0} г</td><td class="tovar-price"><span class="price-local">'
    '{0} ₽</span><span class="price-crypto"><span class="crypto-amount">{0}</span>'
    '<span class="crypto-currency">BTC</span></span></td></tr></table></div>',
    '<div class="listing"><h1 class="listing-title">{0}</h1><table><tr><td class="listing-id">'
    '{0}</td><td class="weight">{0}</td><td class="price"><span class="usd">{0}</span></td>'
    "</tr></table></div>",
    '<div class="product-page"><h2 class="p-title">{0}</h2><table class="p-info"><tr>'
    '<td class="p-code">{0}</td><td class="p-weight">{0}</td></tr></table></div>',
    '<main><h1 data-field="handle">{0}</h1><p data-field="fingerprint">{0}</p></main>',
    '<div class="profile" data-handle="v"><table class="profile-info"><tr><td class="role">'
    'Vendor</td></tr></table><section class="pgp"><code class="fpr">{0}</code></section></div>',
    '<html><head><title>Please Wait</title></head><body><span class="queue-seconds">{0}'
    '</span><form class="captcha-form"><p class="captcha-question">{0}</p>'
    '<input name="answer"></form><form class="login-form"><input name="u"></form></body></html>',
]
ENCODINGS = ["utf-8", "utf-16", "cp1251", "latin-1", "gb18030", "koi8-r", "shift_jis"]


@st.composite
def pages(draw: st.DrawFn) -> tuple[bytes, bool]:
    """``(body, is_html)``: hostile text in a layout, or random bytes, in some encoding."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=20_000)), draw(st.booleans())
    text = "".join(draw(st.lists(hostile_text, min_size=1, max_size=3)))
    layout = draw(st.sampled_from(LAYOUTS))
    page = layout.format(text) if layout != "{}" else text
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding != "utf-8":
        page = f'<meta charset="{encoding}">' + page
    return page.encode(encoding, "replace"), layout != "{}" or draw(st.booleans())


def run_plugins(response: Any) -> list[Item]:
    """Every built-in hook on one page, called directly so that any exception escapes."""
    items: list[Item] = []
    for extract in hooks("onionlab_extract"):
        result = extract(response=response)
        found = list(result or [])
        assert all(isinstance(item, Item) for item in found), (extract.__module__, found)
        items.extend(found)
    for normalize in hooks("onionlab_normalize_item"):
        for item in items:
            assert normalize(item=item) is None
            assert isinstance(item, Item)
    for page_state in hooks("onionlab_page_state"):
        state = page_state(response=response)
        for gate in hooks("onionlab_gate_request"):
            if state is not None:
                gate(response=response, state=state, credentials=None)
    for link in hooks("onionlab_link_items"):
        linked = list(link(items=items) or [])
        assert all(isinstance(item, Item) for item in linked)
    return items


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    """Load what plugins load on first use (vocabulary, pymorphy3), outside the budget."""
    run_plugins(response_from_bytes(LAYOUTS[0].format("Мефедрон 1 г").encode(), URL, html=True))


@FUZZ
@given(pages())
def test_plugins_survive_hostile_pages(page: tuple[bytes, bool]) -> None:
    body, is_html = page
    with hard_timeout(HARD_LIMIT):
        started = time.process_time()
        response = response_from_bytes(body, URL, html=is_html)
        run_plugins(response)
        cpu = time.process_time() - started
    budget = BUDGET_BASE + BUDGET_PER_CHAR * len(body)
    assert cpu < budget, f"{cpu:.2f} s of CPU for a page of {len(body)} bytes"


hostile_value = st.one_of(st.none(), hostile_text.map(lambda s: s[:5_000]), huge_numbers)
any_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_value),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
extras = st.dictionaries(
    st.sampled_from(
        [
            "quantity",
            "unit",
            "price_local",
            "currency",
            "price_eur",
            "price_xmr",
            "tiers",
            "price_btc",
            "substance_raw",
            "x",
        ]
    ),
    st.one_of(
        any_value,
        st.lists(
            st.dictionaries(st.sampled_from(["quantity", "price_usd"]), hostile_value), max_size=3
        ),
    ),
    max_size=6,
)


@st.composite
def listings(draw: st.DrawFn) -> Item:
    fields = {
        name: draw(hostile_value)
        for name in ("vendor", "category", "substance", "weight_g", "price_usd", "price_btc")
    }
    title = draw(hostile_value) or ""
    if draw(st.booleans()):
        return Vendor(site="s", handle=title or "h", url=URL, pgp_fingerprint=fields["price_usd"])
    return Listing(site="s", listing_id="1", url=URL, title=title, extra=draw(extras), **fields)


@functools.cache
def _warmed_up() -> bool:
    """Each normalizer and linker once on a plain listing: what they load on their first
    call (0.19 s of CPU here) is no cost of an item, and had put one example at 0.51 s on a
    busy machine."""
    plain = Listing(site="s", listing_id="0", url=URL, title="4-MMC 5 g", price_usd="40")
    for normalize in hooks("onionlab_normalize_item"):
        normalize(item=plain)
    for link in hooks("onionlab_link_items"):
        link(items=[plain])
    return True


@FUZZ
@given(listings())
def test_normalizers_survive_hostile_items(item: Item) -> None:
    assert _warmed_up()
    with hard_timeout(HARD_LIMIT):
        started = time.process_time()
        for normalize in hooks("onionlab_normalize_item"):
            assert normalize(item=item) is None
        for link in hooks("onionlab_link_items"):
            assert all(isinstance(i, Item) for i in link(items=[item]) or [])
        cpu = time.process_time() - started
    assert cpu < BUDGET_BASE
