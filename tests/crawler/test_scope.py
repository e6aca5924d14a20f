"""Crawl scope: canonical URLs, never-follow rules, trap budgets — unit tests, then a real
crawl of the lab market with every link trap on, through the recording SOCKS server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from onionlab.crawler.spidermiddlewares.scope import (
    TRAP_BUDGET,
    Budgets,
    canonicalize,
    family_key,
    state_changing,
    trap_shaped,
)
from onionlab.crawler.spiders.onion import HIDDEN_LINKS, VISIBLE_LINKS
from tests.support.lab_sites import crawl_site, lab_sites
from tests.support.site_pages import world_and_truth

ONION = "uuqy7gqxosefwgvdzft7nuffrpwfymp2cay6krbdvxw6544yb33ocdyd.onion"
TRAPS_ON = """base = "open"
trap_calendar = true
trap_sort = true
trap_sid = true
trap_logout = true
trap_honeypot = true
"""


# --- canonicalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical", "removed"),
    [
        ("HTTP://ABC.Onion:80/x#frag", "http://abc.onion/x", set()),
        ("http://abc.onion:8080", "http://abc.onion:8080/", set()),
        ("http://abc.onion/l?b=2&a=1&a=0", "http://abc.onion/l?a=1&a=0&b=2", set()),
        ("http://abc.onion/?sid=0123456789abcdef", "http://abc.onion/", {"session"}),
        (
            "http://abc.onion/p?page=2&PHPSESSID=x1&sessionid=y",
            "http://abc.onion/p?page=2",
            {"session"},
        ),
        ("http://abc.onion/p;jsessionid=AB12?x=1", "http://abc.onion/p?x=1", {"session"}),
        ("http://abc.onion/f?s=0123456789abcdef0123", "http://abc.onion/f", {"session"}),
        ("http://abc.onion/search?s=blue+pills", "http://abc.onion/search?s=blue+pills", set()),
        (
            "http://abc.onion/?sort=price&order=asc&filter=all",
            "http://abc.onion/",
            {"permutation"},
        ),
        (
            "http://abc.onion/c?view=grid&dir=desc&page=3",
            "http://abc.onion/c?page=3",
            {"permutation"},
        ),
        ("http://u:pw@abc.onion/", "http://abc.onion/", set()),
    ],
)
def test_canonicalize(url: str, canonical: str, removed: set[str]) -> None:
    assert canonicalize(url) == (canonical, removed)


def test_extra_session_and_permutation_keys() -> None:
    url = "http://abc.onion/?tok=1&layoutx=2&q=3"
    assert (
        canonicalize(url, session_keys=frozenset({"tok"}))[0] == "http://abc.onion/?layoutx=2&q=3"
    )
    out = canonicalize(url, permutation_keys=frozenset({"layoutx"}))
    assert out == ("http://abc.onion/?q=3&tok=1", {"permutation"})


# --- state-changing links --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://a.onion/logout",
        "http://a.onion/user/SignOut",
        "http://a.onion/cart/add/123",
        "http://a.onion/account/delete",
        "http://a.onion/thread/9?action=delete",
        "http://a.onion/index.php?do=logout",
        "http://a.onion/post/5/delete",
        "http://a.onion/?logout=1",
    ],
)
def test_state_changing_links_are_recognised(url: str) -> None:
    assert state_changing(url)


@pytest.mark.parametrize(
    "url",
    ["http://a.onion/order", "http://a.onion/cart", "http://a.onion/item/5?action=view",
     "http://a.onion/account", "http://a.onion/pay"],
)  # fmt: skip
def test_ordinary_links_are_not_state_changing(url: str) -> None:
    assert not state_changing(url)


def test_state_changing_list_is_extendable() -> None:
    assert not state_changing("http://a.onion/vote/up/3")
    assert state_changing("http://a.onion/vote/up/3", extra=[r"^/vote/"])


def test_no_truth_page_is_touched_by_any_scope_rule() -> None:
    """Every real page of the scale-1 lab is canonical, not state-changing, not a trap."""
    _, truth = world_and_truth(1)
    budgets = Budgets()
    for url in truth["pages"]:
        assert canonicalize(url) == (url, set()), url
        assert not state_changing(url), url
        assert not trap_shaped(url), url
        assert budgets.admit(url), url


# --- budgets ----------------------------------------------------------------------------


def test_family_key() -> None:
    assert family_key("http://a.onion/calendar/2025/03") == "a.onion/calendar/#/#"
    assert family_key("http://a.onion/t/ab12?page=2") == "a.onion/t/ab#?page"


@pytest.mark.parametrize(
    ("url", "trap"),
    [
        ("http://a.onion/calendar/2025/03", True),
        ("http://a.onion/2024/11/30/", True),
        ("http://a.onion/archive/2024-11", True),
        ("http://a.onion/events?year=2024&month=5", True),
        ("http://a.onion/" + "/".join(f"d{i}" for i in range(13)), True),
        ("http://a.onion/a/b/a/b/a/c", True),
        ("http://a.onion/item/12345", False),
        ("http://a.onion/listing/2024", False),
        ("http://a.onion/category/x?page=2024", False),
    ],
)
def test_trap_shape(url: str, trap: bool) -> None:
    assert trap_shaped(url) is trap


def test_a_real_listing_family_of_3000_passes() -> None:
    budgets = Budgets()
    items = [f"http://a.onion/item/{n:05d}" for n in range(3000)]
    pages = [f"http://a.onion/category/x?page={n}" for n in range(1, 3001)]
    assert all(budgets.admit(u) for u in items + pages)
    assert all(budgets.admit(u) for u in items)  # seen again: still admitted


def test_a_calendar_family_is_cut_at_the_bound_per_site() -> None:
    budgets = Budgets()
    months = [(y, m) for y in range(2025, 1900, -1) for m in range(12, 0, -1)]
    admitted = [budgets.admit(f"http://a.onion/calendar/{y}/{m:02d}") for y, m in months]
    assert sum(admitted) == TRAP_BUDGET
    assert admitted[:TRAP_BUDGET] == [True] * TRAP_BUDGET
    assert budgets.admit("http://a.onion/calendar/2025/12")  # an admitted one stays admitted
    assert budgets.admit("http://b.onion/calendar/1999/01")  # another site has its own budget


# --- hidden links -----------------------------------------------------------------------


def test_hidden_links_are_not_extracted() -> None:
    body = b"""<html><body><a href="/a">a</a><div hidden><a href="/b">b</a></div>
    <a href="/c" style="color:red; DISPLAY : none">c</a>
    <span style="visibility: hidden"><a href="/d">d</a></span><p><a href="/e">e</a></p>
    </body></html>"""
    response = HtmlResponse("http://x.onion/", body=body)
    links = LinkExtractor(restrict_xpaths=VISIBLE_LINKS).extract_links(response)
    assert [link.url for link in links] == ["http://x.onion/a", "http://x.onion/e"]
    assert len(response.xpath(HIDDEN_LINKS)) == 3  # case and spaces do not matter


# --- end to end: the lab market with every trap on ---------------------------------------


def requested_paths(log: Path) -> list[str]:
    return re.findall(r'"GET (\S+) HTTP/1\.[01]"', log.read_text())


def crawl_lab_site(site: str, onion: str, profile_text: str, tmp: Path) -> dict:
    """The lab's ``site`` crawled (see :func:`tests.support.lab_sites.crawl_site`), with the
    paths the crawler requested from it (``paths``, from the site's access log)."""
    log = tmp / "access.log"
    with lab_sites(tmp, profile_text, (site,), access_log=log) as routes:
        crawled = crawl_site(onion, routes[onion], tmp)
    return crawled | {"paths": requested_paths(log)}


@pytest.fixture(scope="module")
def trapped(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return crawl_lab_site("market", ONION, TRAPS_ON, tmp_path_factory.mktemp("traps"))


def test_every_truth_page_is_fetched(trapped: dict) -> None:
    pages = trapped["eval"]["pages"]["by_site"]["market"]
    assert pages["recall"] == 1.0, pages
    assert trapped["summary"]["errors"] == 0


def test_logout_and_honeypot_are_never_requested(trapped: dict) -> None:
    paths = trapped["paths"]
    assert not [p for p in paths if "logout" in p]
    honeypot = re.compile(r"^/(staff/panel|support/escalate|mod/queue|wallet/sweep)-")
    assert not [p for p in paths if honeypot.match(p)]
    assert trapped["stats"]["onionlab/scope/hidden"] > 0
    assert trapped["stats"]["onionlab/scope/state_changing"] > 0
    assert "http_403" not in trapped["summary"]["errors_by_kind"]  # never banned


def test_traps_cost_at_most_the_stated_bound(trapped: dict) -> None:
    paths = trapped["paths"]
    calendar = [p for p in paths if p.startswith("/calendar/")]
    assert len(calendar) <= TRAP_BUDGET
    assert not [p for p in paths if re.search(r"[?&](sid|sort|order|filter)=", p)]
    assert len(paths) <= trapped["truth_pages"] + TRAP_BUDGET
    assert trapped["stats"]["downloader/request_count"] == len(paths)
    stats = trapped["stats"]
    assert stats["onionlab/scope/budget"] > 0
    assert stats["onionlab/scope/session"] > 0
    assert stats["onionlab/scope/permutation"] > 0
    # ...and the summary says it, under the crawl's common drop reasons.
    dropped = trapped["summary"]["dropped"]
    assert dropped["trap"] == stats["onionlab/scope/budget"]
    assert dropped["state_changing"] == stats["onionlab/scope/state_changing"]
