"""Fuzzing the page work and the link extraction with hostile HTML (hypothesis).

Every input gets a CPU budget; the whole module runs in well under 30 s. Properties:

- the one-pass hidden-link handling finds exactly the links the old per-link
  ``ancestor-or-self`` XPath found, and counts the same hidden links;
- the link extractor that remembers hrefs gives exactly what Scrapy's gives;
- the page work never raises, stays within its budget and its caps, on deep nesting, huge
  attributes, broken markup, many links and bytes in no valid encoding.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from onionlab.crawler.extraction.page import cut_hidden, link_extractor_for, work_on_page
from onionlab.crawler.spiders.onion import HIDDEN_LINKS, VISIBLE_LINKS
from tests.crawler.test_pagework import Stats, manager

HOST = "z" * 55 + "d.onion"
URL = f"http://{HOST}/dir/page"
CPU_BUDGET = 1.0  # seconds of CPU per input (the largest take about 0.1 s)
FUZZ = settings(
    max_examples=120,
    deadline=None,  # wall-clock on a shared machine: the CPU budget is checked instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same inputs in CI every time
)

styles = st.sampled_from(
    [
        "",
        "display:none",
        "DISPLAY: None",
        "color: red; display:\tnone",
        "visibility:hidden",
        "Visibility : hidden",
        "display:block",
        "visibility: visible",
        "display:nonesuch",
    ]
)
hrefs = st.one_of(
    st.sampled_from(
        [
            "/a",
            "b/c?x=1",
            "#frag",
            "",
            "  /spaced  ",
            f"http://{HOST}/abs",
            f"http://{HOST.upper()}/UP",
            "http://other.onion/x",
            "javascript:alert(1)",
            "mailto:x@y",
            "/file.pdf",
            "//" + HOST + "/proto-relative",
            "http://[::1/",
            "/ü/ñ?q=€",
        ]
    ),
    st.text(max_size=30),
)


def attributes(draw: st.DrawFn, link: bool) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(f'style="{draw(styles)}"')
    if draw(st.integers(0, 9)) == 0:
        parts.append("hidden")
    if link and draw(st.integers(0, 5)):
        href = draw(hrefs).replace('"', "&quot;").replace("<", "&lt;")
        parts.append(f'href="{href}"')
    return (" " + " ".join(parts)) if parts else ""


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> str:
    """Shallow random HTML where links hold no links (see the note on nesting below)."""
    out = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["div", "span", "p", "a", "area", "text", "ul"]))
        if kind == "text":
            out.append(draw(st.sampled_from(["x", "&amp;", "ü", " "])))
        elif kind == "area":
            out.append(f"<area{attributes(draw, True)}>")
        elif kind == "a":
            out.append(f"<a{attributes(draw, True)}>t</a>")
        elif depth < 5:
            inner = draw(trees(depth + 1))
            out.append(f"<{kind}{attributes(draw, False)}>{inner}</{kind}>")
    return "".join(out)


def response(body: bytes | str, url: str = URL) -> HtmlResponse:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return HtmlResponse(url, body=data)


def old_links(page: HtmlResponse) -> tuple[list[str], int]:
    """The spider's links before: a restricting XPath, evaluated per link."""
    extractor = LinkExtractor(allow_domains=[HOST], restrict_xpaths=VISIBLE_LINKS, unique=True)
    return [link.url for link in extractor.extract_links(page)], len(page.xpath(HIDDEN_LINKS))


def new_links(page: HtmlResponse) -> tuple[list[str], int]:
    hidden = cut_hidden(page.selector.root)
    return [link.url for link in link_extractor_for([HOST]).extract_links(page)], hidden


# Links inside links: the old XPath picked visible ``<a>`` elements and the extractor then
# also took every link *inside* them, hidden or not; the new pass drops hidden ones there
# too (a honeypot inside a visible link is still a honeypot). HTML parsers close an ``<a>``
# at the next one, so only ``<area>`` inside ``<a>`` can differ: the trees above make none.


@FUZZ
@given(trees())
def test_one_pass_finds_exactly_the_links_the_old_xpath_found(html: str) -> None:
    body = f"<html><body>{html}</body></html>"
    started = time.process_time()
    assert new_links(response(body)) == old_links(response(body))
    assert time.process_time() - started < CPU_BUDGET


SHARED = link_extractor_for([HOST])  # remembers hrefs across examples, as in a worker
BASES = ["", f'<base href="http://{HOST}/other/">', '<base href="/b/">', '<base href="sub/">']
PAGES = [URL, f"http://{HOST}/", f"http://{HOST}/x/y?z=1", f"http://{HOST}:8080/p"]


@FUZZ
@given(trees(), st.sampled_from(BASES), st.sampled_from(PAGES))
def test_remembered_links_are_exactly_what_scrapys_extractor_gives(
    html: str, base: str, url: str
) -> None:
    """The worker's link extractor remembers what each href gave on earlier pages: on any
    page, whatever came before, it gives what Scrapy's own extractor gives."""
    body = f"<html><head>{base}</head><body>{html}</body></html>"
    scrapy_links = LinkExtractor(allow_domains=[HOST], unique=True).extract_links(
        response(body, url)
    )
    assert SHARED.urls(response(body, url)) == [link.url for link in scrapy_links]


@st.composite
def hostile_pages(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(0, 3_000))
    links = draw(st.integers(0, 3_000))
    attribute = "x" * draw(st.sampled_from([0, 10, 100_000, 1_000_000]))
    hidden_at = draw(st.integers(0, max(0, depth)))
    opening = "".join(
        '<div style="display:none">' if n == hidden_at else "<div>" for n in range(depth)
    )
    anchors = "".join(
        f'<a href="/l/{n}" title="{attribute if n == 0 else ""}">' for n in range(links)
    )
    broken = draw(
        st.sampled_from(["", "<<<>>>", "<a href='", "</div></div></html>", "<!--", "<![CDATA["])
    )
    text = opening + anchors + broken + "</div>" * draw(st.integers(0, depth))
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    data = text.encode(encoding, "replace")
    garbage = draw(st.binary(max_size=64))  # bytes in no valid encoding, anywhere
    cut = draw(st.integers(0, len(data)))
    return data[:cut] + garbage + data[cut:]


@FUZZ
@given(hostile_pages(), st.sampled_from(["text/html; charset=utf-8", "text/html", ""]))
def test_the_page_work_survives_hostile_pages_within_budget(body: bytes, ctype: str) -> None:
    page = HtmlResponse(URL, body=body, headers={"Content-Type": ctype} if ctype else {})
    stats = Stats()
    started = time.process_time()
    outcome = work_on_page(
        manager(), page, link_extractor_for([HOST]), stats=stats, max_links=1_000
    )
    assert time.process_time() - started < CPU_BUDGET
    assert len(outcome.links) <= 1_000
    assert len(set(outcome.links)) == len(outcome.links)
    assert all(url.startswith(f"http://{HOST}/") for url in outcome.links)
    assert outcome.hidden >= 0 and isinstance(outcome.title, str)


@FUZZ
@given(st.binary(max_size=4_096))
def test_the_page_work_survives_random_bytes(body: bytes) -> None:
    stats = Stats()
    started = time.process_time()
    outcome = work_on_page(manager(), response(body), link_extractor_for([HOST]), stats=stats)
    assert time.process_time() - started < CPU_BUDGET
    assert all(url.startswith(f"http://{HOST}/") for url in outcome.links)
