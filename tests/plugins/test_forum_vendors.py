"""Tests of the ``forum_vendors`` plugin: vendor profiles on the lab forum.

Focused tests feed hand-written profile pages (a vendor by role, a vendor by flair only, a
member, a moderator) to the plugin; the scoring tests render the forum of two worlds
in-process and score every installed plugin against the ground truth; the market's pages
must get nothing from this plugin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from onionlab.crawler.items import Vendor
from onionlab.plugins import forum_vendors
from tests.support.site_pages import assert_adds_nothing_on_market, score_site

HOST = "b" * 55 + "d.onion"
FPR = "DFFA ED6F 8364 46A6 6408  F9F5 4A3B 53F8 6E87 F6AC"
BTC = "1CfAAHvz3B7NXEZmiK3XQ4W7Y21uwYyELJ"
LTC = "ltc1qwr0vfvnj8a9yj69wck43qjmnecp2psvkeqc69l"


def profile(handle: str, role: str, flair: str = "", wallets: str = "") -> HtmlResponse:
    rows = f'<tr><th>Role</th><td class="role">{role}</td></tr>'
    rows += '<tr><th>Joined</th><td class="joined">2023-10-07</td></tr>'
    rows += '<tr><th>Reputation</th><td class="reputation">283</td></tr>'
    if flair:
        rows += f'<tr><th>Flair</th><td class="flair">{flair}</td></tr>'
    body = (
        f'<main class="content"><div class="profile" data-handle="{handle}">'
        f'<h1 class="profile-handle">{handle}</h1><table class="profile-info"><tbody>{rows}'
        "</tbody></table>"
        '<section class="contacts"><h2>Contact</h2><ul><li class="contact" data-type="email">'
        'E-mail: <span class="contact-value">bp@torbox.example</span></li></ul></section>'
        f'<section class="wallets"><h2>Direct payment</h2><ul>{wallets}</ul></section>'
        '<section class="pgp"><h2>PGP public key</h2><p class="fingerprint">Fingerprint: '
        f'<code class="fpr">{FPR}</code></p><pre class="pgp-key">-----BEGIN…</pre></section>'
        "</div></main>"
    )
    html = f"<!DOCTYPE html><html><body>{body}</body></html>"
    return HtmlResponse(f"http://{HOST}/u/{handle}", body=html.encode(), encoding="utf-8")


WALLETS = (
    f'<li class="wallet" data-type="btc">BTC: <code class="wallet-address">{BTC}</code></li>'
    f'<li class="wallet" data-type="ltc">LTC: <code class="wallet-address">{LTC}</code></li>'
)


# --- focused: the profile layout -------------------------------------------------------------


def test_vendor_profile_becomes_a_vendor() -> None:
    result = forum_vendors.onionlab_extract(
        profile("BerlinPharma", "Vendor", "Vendor · Cobalt Bazaar, Velvet Market", WALLETS)
    )
    assert result is not None
    assert list(result) == [
        Vendor(
            site=HOST,
            handle="BerlinPharma",
            url=f"http://{HOST}/u/BerlinPharma",
            pgp_fingerprint="".join(FPR.split()),
            btc=[BTC],
            extra={
                "role": "Vendor",
                "flair": "Vendor · Cobalt Bazaar, Velvet Market",
                "markets": ["Cobalt Bazaar", "Velvet Market"],
                "joined": "2023-10-07",
                "reputation": "283",
                "wallets": [{"type": "btc", "value": BTC}, {"type": "ltc", "value": LTC}],
                "contacts": [{"type": "email", "value": "bp@torbox.example"}],
            },
        )
    ]


def test_vendor_flair_alone_marks_a_vendor() -> None:
    [vendor] = forum_vendors.onionlab_extract(profile("QuietOne", "", "Vendor", WALLETS)) or []
    assert (vendor.handle, vendor.btc) == ("QuietOne", [BTC])


@pytest.mark.parametrize("role", ["Member", "Moderator", "Administrator"])
def test_other_profiles_give_no_vendor(role: str) -> None:
    result = forum_vendors.onionlab_extract(profile("someone", role, wallets=WALLETS))
    assert result is not None and list(result) == []


def test_other_pages_are_not_recognised() -> None:
    html = b'<html><body><div class="vendor-profile"><h1 class="vendor-handle">x</h1></div>'
    response = HtmlResponse(f"http://{HOST}/vendor/x", body=html, encoding="utf-8")
    assert forum_vendors.onionlab_extract(response) is None


# --- scored on the rendered forum ------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_forum_vendors_are_all_found_and_right(seed: int, tmp_path: Path) -> None:
    scores = score_site(seed, "forum", tmp_path)
    vendors = scores["vendors"]
    assert vendors["expected"] > 0
    assert (vendors["precision"], vendors["recall"]) == (1.0, 1.0), vendors
    assert scores["listings"]["found"] == 0


def test_installed_and_nothing_from_the_market(monkeypatch: pytest.MonkeyPatch) -> None:
    assert_adds_nothing_on_market(forum_vendors, monkeypatch)
