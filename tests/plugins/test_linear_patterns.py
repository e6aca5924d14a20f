"""The linear-time forms of the plugins' patterns find exactly what the original regexes found.

Issue #10 (defect 2) rewrote quadratic patterns; extraction over the lab is byte-identical,
and these tests check the same on arbitrary text: hypothesis draws strings from the
characters each pattern turns on and compares the new form with the original regex (kept
here as the reference; on these short strings it is fast).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from onionlab.plugins import _markup, _text_scan, contacts, lab_gate, pgp_keys, prices, substances

SAME = settings(max_examples=400, derandomize=True, database=None, deadline=None)


def texts(*parts: str) -> st.SearchStrategy[str]:
    """Strings made of ``parts`` (words and single characters), up to 30 of them."""
    return st.lists(st.sampled_from(parts), max_size=30).map("".join)


@SAME
@given(texts("ab", "a", "9", "Z", " ", "\t", "\n", "\n\n", " \n ", "-", "é", "\r"))
def test_broken_tokens(text: str) -> None:
    original = re.compile(r"[0-9A-Za-z]+(?:[ \t]*\n\s*[0-9A-Za-z]+)+")
    assert [m.span() for m in _text_scan._BROKEN_TOKENS.finditer(text)] == [
        m.span() for m in original.finditer(text)
    ]


ARMOR_PARTS = (
    "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----",
    "-----BEGIN PGP SIGNATURE-----", "-----END PGP SIGNATURE-----", "-----BEGIN PGP A-----",
    "-----END PGP A-----", "-----END PGP ", "-----BEGIN PGP ", "A", "-----", "-", "\n", "x ",
)  # fmt: skip


@SAME
@given(texts(*ARMOR_PARTS))
def test_armored_key_blocks(text: str) -> None:
    original = re.compile(
        r"-----BEGIN PGP PUBLIC KEY BLOCK-----(.*?)-----END PGP PUBLIC KEY BLOCK-----", re.S
    )
    found = list(_markup.delimited(text, pgp_keys.KEY_BEGIN, pgp_keys.KEY_END))
    assert [(s, e) for s, _, _, e in found] == [m.span() for m in original.finditer(text)]
    assert [text[b:c] for _, b, c, _ in found] == [m.group(1) for m in original.finditer(text)]


@SAME
@given(texts(*ARMOR_PARTS))
def test_any_armor(text: str) -> None:
    original = re.compile(r"-----BEGIN PGP ([A-Z ,/0-9]+)-----.*?-----END PGP \1-----", re.S)
    assert list(_markup.armor_spans(text)) == [m.span() for m in original.finditer(text)]


@SAME
@given(
    texts(
        "<script",
        "<SCRIPT",
        "<style",
        "<Style",
        "</script>",
        "</style >",
        "</SCRIPT\n>",
        "</style",
        "<scripts",
        ">",
        "<",
        "x",
        " ",
        "\n",
        "<b>",
        "</b>",
    )
)
def test_script_or_style(text: str) -> None:
    pattern = pgp_keys.SCRIPT_OR_STYLE
    assert pattern.pattern == contacts.SCRIPT_OR_STYLE.pattern
    spans = list(_markup.script_or_style_spans(text, pattern))
    assert spans == [m.span() for m in pattern.finditer(text)]
    assert _markup.sub_spans(text, iter(spans), lambda _: "\n") == pattern.sub("\n", text)


@SAME
@given(texts("<", ">", "<a", "<a ", "</a>", "<b>", "<abbr", "<ab", "x", "\n", "'", "<span"))
def test_tags(text: str) -> None:
    for pattern in (contacts.TAG, contacts.INLINE_TAG, pgp_keys.TAG):
        assert _markup.sub_tags(pattern, "\n", text) == pattern.sub("\n", text)


@SAME
@given(
    texts(
        "tg",
        "telegram",
        "TG",
        "телег",
        "телеграм",
        "тг",
        "x",
        "ab",
        "_",
        "1",
        " ",
        "  ",
        ":",
        "@",
        "@ ",
        "\n",
        "name",
        "abcde",
        "-",
        ".",
        "é",
        "Telegram",
        "ТЕЛЕГ",
    )
)
def test_telegram_spaced_at(text: str) -> None:
    username = r"[A-Za-z][A-Za-z0-9_]{3,31}"
    original = re.compile(
        rf"(?:telegram|tg|телег\w*|телеграм\w*|тг)\s*:?\s*@\s+({username})"
        r"(?![\w@-]|\.[A-Za-z0-9])",
        re.I,
    )
    new = contacts.TELEGRAM_SPACED_AT
    assert [(m.start("label"), m.end(), m["name"]) for m in new.finditer(text)] == [
        (m.start(), m.end(), m[1]) for m in original.finditer(text)
    ]


NUMBER_PARTS = ("1", "23", ".", ",", " ", "g", "г", "kg", "tabs", "mg", "x", "a", "٣", "\n")


@SAME
@given(texts(*NUMBER_PARTS))
def test_quantity_patterns(text: str) -> None:
    substance_quantity = re.compile(
        r"\d+(?:[.,]\d+)?\s*(?:kg|кг|g|gr|gram|grams|г|гр|грамм|mg|мг|oz|ml|мл|шт|pcs|tabs?|pills?"
        r"|blotters?|caps)(?![^\W\d_])",
        re.IGNORECASE,
    )
    found = substances._QUANTITY.search(text)
    expected = substance_quantity.search(text)
    assert (found and found.span()) == (expected and expected.span())
    title_quantity = re.compile(prices._TITLE_QUANTITY.pattern.removeprefix(r"(?<!\d)"), re.I)
    assert prices._TITLE_QUANTITY.findall(text) == title_quantity.findall(text)


@SAME
@given(texts("how many letters", "how  many\nletters", "word '", "abc", "'", " ", "\n", "x",
             "HOW MANY LETTERS", "word «", "»"))  # fmt: skip
def test_captcha_letter_count(text: str) -> None:
    quote = lab_gate.QUOTE
    original = re.compile(
        rf"how\s+many\s+letters.*?word\s+[{quote}](?P<w>[^{quote}]+)[{quote}]", re.I
    )
    found, expected = lab_gate._letters(text), original.search(text)
    assert (found and found["w"]) == (expected and expected["w"])


@SAME
@given(
    texts(
        "<div>",
        "</div>",
        "<template>",
        "</template>",
        "<script>",
        "</script>",
        "<style>",
        "</style>",
        "<!-- c -->",
        "<?pi x?>",
        "<p>",
        "<b>",
        "</b>",
        "x",
        "y ",
        "\n",
        "<br>",
        "<svg><style>s</style></svg>",
        "<noscript>n</noscript>",
        "&amp;",
    )
)
def test_visible_text(fragment: str) -> None:
    from lxml import etree

    from onionlab.crawler.kit.testing import response_from_text

    original = etree.XPath(
        "//text()[not(ancestor::script or ancestor::style or ancestor::template)]",
        smart_strings=False,
    )
    links = etree.XPath("//a/@href | //area/@href", smart_strings=False)
    fragment += '<a href=" x ">a</a><area href="y"><a>no href</a>'
    for depth in (0, 70):  # shallow pages are read by XPath, deep ones by a walk
        nested = "<div>" * depth + fragment + "</div>" * depth
        response = response_from_text(f"<html><body>{nested}</body></html>")
        root = response.selector.root
        assert _text_scan.page_text(response) == _text_scan.clean("\n".join(original(root)))
        assert _text_scan._walk_visible_text(root) == original(root)
        assert _text_scan.link_targets(response) == [str(h).strip() for h in links(root)]
