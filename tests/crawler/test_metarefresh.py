"""Meta refreshes looked for only where a page can have one
(onionlab.crawler.downloadermiddlewares.metarefresh): never one missed that Scrapy finds, and
pages without one are not decoded in the crawl's process."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.response import get_meta_refresh
from scrapy.utils.test import get_crawler

from onionlab.crawler import default_settings
from onionlab.crawler.downloadermiddlewares.metarefresh import MetaRefreshMiddleware, may_refresh

URL = f"http://{'a' * 56}.onion/"
REFRESHES = [
    '<meta http-equiv="refresh" content="0; url=/next">',
    "<META HTTP-EQUIV=REFRESH CONTENT='1;URL=/next'>",
    '<meta content="0;url=/next" http-equiv="Refresh">',
]
FILLERS = ["", "Мефедрон кристаллы " * 200, "漢字テキスト" * 600, "x" * 4000]


def _page(body: str, encoding: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(
        URL,
        body=body.encode(encoding),
        headers={"Content-Type": f"text/html; charset={encoding}"},
    )


@pytest.mark.parametrize("filler", FILLERS)
@pytest.mark.parametrize("encoding", ["utf-8", "cp1251", "koi8-r", "utf-16", "utf-32"])
def test_every_refresh_scrapy_finds_is_let_through(filler: str, encoding: str) -> None:
    for tag in REFRESHES:
        body = f"<html><head><title>t</title>{tag}</head><body><p>{filler}</p></body></html>"
        if encoding in ("cp1251", "koi8-r") and any(ord(c) > 0x4FF for c in filler):
            continue  # not writable in that encoding
        for page in (
            _page(body, encoding),
            _page(f"<html><head>{filler}{tag}</head></html>", encoding),
        ):
            if get_meta_refresh(page)[1]:
                assert may_refresh(page), (encoding, tag, len(filler))


def test_pages_without_one_are_not_searched_nor_decoded() -> None:
    page = _page(
        "<html><head><title>Shop</title></head><body>" + "<p>item</p>" * 500 + "</body></html>"
    )
    assert not may_refresh(page)
    middleware = MetaRefreshMiddleware.from_crawler(get_crawler())
    assert middleware.process_response(Request(URL), page) is page
    assert page._cached_ubody is None  # never turned into text here
    assert not may_refresh(TextResponse(URL, body=b"refresh"))  # not HTML: Scrapy skips it too


def test_a_refresh_is_still_followed_and_the_add_on_uses_this_middleware() -> None:
    middleware = MetaRefreshMiddleware.from_crawler(get_crawler())
    page = _page(f"<html><head>{REFRESHES[0]}</head></html>")
    redirected = middleware.process_response(Request(URL), page)
    assert isinstance(redirected, Request) and redirected.url == URL + "next"
    ours = default_settings.DOWNLOADER_MIDDLEWARES
    assert ours["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert ours["onionlab.crawler.downloadermiddlewares.metarefresh.MetaRefreshMiddleware"] == 580
