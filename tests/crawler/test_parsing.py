"""The plugin authors' helpers in onionlab.crawler.kit.parsing behave as documented."""

from __future__ import annotations

from scrapy.http import HtmlResponse

from onionlab.crawler.kit.parsing import fingerprint, has, number, text, texts

PAGE = HtmlResponse(
    "http://x.onion/",
    encoding="utf-8",
    body=b"""<html><body><td class="price"> $1,024.00 <b>USD</b></td>
    <ul><li class="a">one</li><li class="a">  </li><li class="a"> two
    words </li></ul><code class="fpr">b9c0 2f4b 0000 1111 2222  3333 4444 5555 6666 aaaa</code>
    </body></html>""",
)


def test_text_collapses_whitespace_of_the_first_match_only() -> None:
    assert text(PAGE, "td.price") == "$1,024.00 USD"
    assert text(PAGE, "li.a") == "one"
    assert text(PAGE, "td.missing") == ""


def test_texts_lists_every_non_empty_match() -> None:
    assert texts(PAGE, "li.a") == ["one", "two words"]


def test_the_helpers_answer_like_parsel_on_selectors_and_selector_lists() -> None:
    items = PAGE.css("ul li.a")
    assert text(items, "*::text") == text(PAGE, "li.a::text") == "one"
    assert text(items[2], "li") == "two words"  # parsel: a selector matches itself too
    assert text(items[2], "b") == "" and text(PAGE.css("ul")[0], "li.a") == "one"
    assert texts(PAGE.css("ul"), "li.a") == ["one", "two words"]
    for query in ("td.price b", "li.a", "td.missing", "ul > li + li"):
        assert has(PAGE, query) is bool(PAGE.css(query))
        assert text(PAGE, query) == " ".join(
            " ".join(PAGE.css(query).xpath("string()").getall()[:1]).split()
        )


def test_number_drops_thousands_separators() -> None:
    assert number("$1,024.00") == "1024.00"
    assert number("3.5 g") == "3.5"
    assert number("no price") is None


def test_fingerprint_accepts_any_grouping_and_rejects_the_rest() -> None:
    expected = "B9C02F4B0000111122223333444455556666AAAA"
    assert fingerprint(text(PAGE, "code.fpr")) == expected
    assert fingerprint("B9C0 2F4B") is None
    assert fingerprint("Z" * 40) is None
