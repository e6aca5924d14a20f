"""The built-in ``contacts`` plugin: scored against the lab's truth, then form by form.

Lab pages are rendered in-process (``tests.support.site_pages``), no Tor and no crawl.
"""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, TextResponse

from onionlab.crawler.items import Entity
from onionlab.lab.world.pgp import make_key
from onionlab.plugins import contacts
from tests.support.entity_scores import score_entities

TYPES = ("email", "telegram", "jabber", "session")
URL = "http://" + "b" * 55 + "d.onion/contact"
SESSION = "05" + "3f" * 32


def html_page(body: str) -> HtmlResponse:
    html = f"<!DOCTYPE html><html><body>{body}</body></html>"
    return HtmlResponse(URL, body=html.encode(), encoding="utf-8",
                        headers={"Content-Type": "text/html; charset=utf-8"})  # fmt: skip


def found(body: str) -> set[tuple[str, str]]:
    entities = list(contacts.onionlab_extract(html_page(body)) or ())
    assert all(isinstance(e, Entity) and e.url == URL for e in entities)
    return {(e.type, e.value) for e in entities}


@pytest.mark.parametrize("seed", [1, 2])
def test_finds_every_contact_the_lab_shows(seed: int) -> None:
    scores = score_entities(seed, [contacts], TYPES)
    for kind in TYPES:
        score = scores[kind]
        assert len(score.expected) > 30, kind
        assert score.precision >= 0.995 and score.recall >= 0.995, (kind, score.summary())


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("Telegram: @Kristal_Snow", "Kristal_Snow"),
        ("t.me/kosmos_chatbot", "kosmos_chatbot"),
        ("https://t.me/s/news_channel", "news_channel"),
        ("https://t.me/news_channel/1234", "news_channel"),
        ("telegram.me/OldStyleLink", "OldStyleLink"),
        ("tg://resolve?domain=order_bot", "order_bot"),
        ("shop24.t.me", "shop24"),
        ("t . me / rocket_rabota", "rocket_rabota"),
        ("t[.]me/candy_shop_bot", "candy_shop_bot"),
        ("телега: @ rabota_himik_bot", "rabota_himik_bot"),
        ("Telegram: @<span>ekb2024_nsk</span>", "ekb2024_nsk"),
    ],
)
def test_telegram_forms(shown: str, expected: str) -> None:
    assert found(f"<p>{shown}</p>") == {("telegram", expected)}


@pytest.mark.parametrize(
    "shown",
    [
        "@abcd",  # too short
        "@" + "a" * 33,  # too long
        "@name_",  # ends with "_"
        "@1name",  # starts with a digit
        "t.me/joinchat/AAAAAEHbEkejzxUjAUCzYg",  # an invite link names no user
        "t.me/+AAAAAEHbEkejzxUjAUCzYg",
        "ask me @ home",
    ],
)
def test_not_telegram_usernames(shown: str) -> None:
    assert found(f"<p>{shown}</p>") == set()


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("E-mail: Vendor.Name@SecureMail.example", ("email", "vendor.name@securemail.example")),
        ("mail to x_y+tag@host.test.", ("email", "x_y+tag@host.test")),
        ("Jabber: Kosmos_Oper@chat.example", ("jabber", "kosmos_oper@chat.example")),
        ("XMPP/JID: ops@" + "c" * 55 + "d.onion", ("jabber", "ops@" + "c" * 55 + "d.onion")),
        ("xmpp ice@talk.test/laptop", ("jabber", "ice@talk.test")),
        ("trustpay [at] darkpost [dot] example", ("email", "trustpay@darkpost.example")),
        ("Jabber: oper (at) chat (dot) test", ("jabber", "oper@chat.test")),
    ],
)
def test_addresses_and_the_labels_that_type_them(shown: str, expected: tuple[str, str]) -> None:
    assert found(f"<p>{shown}</p>") == {expected}


def test_each_address_takes_the_label_nearest_before_it() -> None:
    shown = (
        "<ul><li>Jabber: a@chat.test</li><li>E-mail: b@mail.example</li>"
        "<li>tg @some_handle | xmpp c@chat.test | mail d@mail.example</li></ul>"
    )
    assert found(shown) == {
        ("jabber", "a@chat.test"),
        ("email", "b@mail.example"),
        ("telegram", "some_handle"),
        ("jabber", "c@chat.test"),
        ("email", "d@mail.example"),
    }


@pytest.mark.parametrize(
    "shown",
    [
        "a" * 65 + "@mail.example",  # local part over 64 octets
        "user@" + "x" * 64 + ".example",  # a label over 63 octets
        "user@" + ".".join(["y" * 60] * 5) + ".example",  # over 254 octets
        "user@localhost",  # no top-level domain
        "user@host.example@other.example",
    ],
)
def test_rejects_addresses_beyond_the_limits_of_rfc_5321(shown: str) -> None:
    assert found(f"<p>{shown}</p>") == set()


def test_the_domain_of_an_address_is_not_a_telegram_handle() -> None:
    assert found("<p>write to support@securemail.example</p>") == {
        ("email", "support@securemail.example")
    }


def test_session_ids() -> None:
    shown = f"Session: {SESSION.upper()} and 15{SESSION[2:]} and {SESSION}00"
    assert found(f"<p>{shown}</p>") == {("session", SESSION)}


def test_reads_plain_text_and_skips_pgp_armor() -> None:
    key = make_key(bytes(range(32)), "Hidden <hidden@mail.example>", created=1_600_000_000)
    body = f"Operator: @night_operator\n{key.armored}\n<b>not a tag here</b>"
    page = TextResponse(URL, body=body.encode(), encoding="utf-8",
                        headers={"Content-Type": "text/plain"})  # fmt: skip
    entities = list(contacts.onionlab_extract(page) or ())
    assert [(e.type, e.value) for e in entities] == [("telegram", "night_operator")]
    assert "Operator" in entities[0].context


def test_ignores_scripts_and_styles_and_is_silent_without_contacts() -> None:
    body = "<script>var a = 'x@evil.example';</script><style>@media print {}</style><p>hi</p>"
    assert contacts.onionlab_extract(html_page(body)) is None


def test_one_entity_per_contact_and_page() -> None:
    entities = list(contacts.onionlab_extract(html_page("<p>@same_name</p>" * 3)) or ())
    assert len(entities) == 1
