"""Tests of the crawler obstacles (``onionlab.lab.sites.obstacles``) around a small dummy site.

Each test wraps the dummy site with a profile and talks to it through aiohttp's test
client on 127.0.0.1, the way a crawler would: reading the HTML contract (titles, CSS
classes, form fields, cookies) that the crawler's plugins rely on.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from html import unescape
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from onionlab.lab.profiles import DEFAULT, OPEN, LabProfile
from onionlab.lab.sites.obstacles import protect
from onionlab.lab.sites.obstacles.captcha import NUMBER_WORDS, question_source

PROTECTED = ("/vendor/", "/listing/")
PAGES = {
    "/": "Welcome to the dummy market",
    "/about": "About this market",
    "/listing/1": "Listing one: 5 g of something",
    "/vendor/alice": "Vendor alice",
}


def dummy_app() -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        if request.path == "/robots.txt":
            return web.Response(text="User-agent: *\n")
        text = PAGES.get(request.path_qs)
        body = (
            "<!DOCTYPE html><html><head><title>dummy</title></head>"
            f'<body><main class="content">{text or "Page not found"}</main></body></html>'
        )
        return web.Response(
            status=200 if text else 404, text=body, content_type="text/html", charset="utf-8"
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@asynccontextmanager
async def site(profile: LabProfile, seed: int = 7) -> AsyncIterator[TestClient]:
    app = protect(dummy_app(), site="dummy", profile=profile, seed=seed,
                  protected_prefixes=PROTECTED)  # fmt: skip
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@asynccontextmanager
async def served(profile: LabProfile, seed: int = 7) -> AsyncIterator[TestServer]:
    app = protect(dummy_app(), site="dummy", profile=profile, seed=seed,
                  protected_prefixes=PROTECTED)  # fmt: skip
    async with TestServer(app, host="127.0.0.1") as server:
        yield server


def visitor(server: TestServer) -> aiohttp.ClientSession:
    """One browser: its own cookie jar."""
    return aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def title(html: str) -> str:
    m = re.search(r"<title>(.*?)</title>", html, re.S)
    return unescape(m[1]) if m else ""


def field(html: str, name: str) -> str:
    m = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name!r} in {html}"
    return unescape(m[1])


def content(html: str) -> str:
    """The site's own content (without the injected trap footer)."""
    m = re.search(r'<main class="content">(.*?)</main>', html, re.S)
    return m[1] if m else ""


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]+)"', html)]


def solve(question: str) -> str:
    """What a crawler plugin does: parse every question wording the lab uses."""
    q = unescape(question)
    if m := re.fullmatch(r'Type the word "(\w+)" backwards\.', q):
        return m[1][::-1]
    if m := re.fullmatch(r'How many letters are in the word "(\w+)"\?', q):
        return str(len(m[1]))
    m = re.fullmatch(r"What is (\w+) (plus|\+|minus|times) (\w+)\?", q)
    assert m, f"unknown question wording: {q!r}"

    def number(word: str) -> int:
        return int(word) if word.isdigit() else NUMBER_WORDS.index(word)

    a, op, b = number(m[1]), m[2], number(m[3])
    return str({"plus": a + b, "+": a + b, "minus": a - b, "times": a * b}[op])


def question(html: str) -> str:
    m = re.search(r'<p class="captcha-question">(.*?)</p>', html)
    assert m, html
    return m[1]


async def pass_captcha(client: TestClient, html: str) -> Any:
    form = {"token": field(html, "token"), "next": field(html, "next"),
            "answer": solve(question(html))}  # fmt: skip
    return await client.post("/captcha", data=form, allow_redirects=False)


async def login(client: TestClient, user: str, password: str, target: str = "/") -> Any:
    form = {"username": user, "password": password, "next": target}
    return await client.post("/login", data=form, allow_redirects=False)


def only(**switches: Any) -> LabProfile:
    """The open profile with just ``switches`` changed."""
    return OPEN.replace(**switches)


# --- open profile ---------------------------------------------------------------------


def test_open_profile_puts_up_no_obstacle():
    async def go() -> None:
        app = dummy_app()
        assert protect(app, site="d", profile=OPEN, seed=1, protected_prefixes=PROTECTED) is app
        assert list(app.middlewares) == []
        async with site(OPEN) as client:
            for path, text in PAGES.items():
                r = await client.get(path)
                html = await r.text()
                assert (r.status, content(html)) == (200, text)
                assert "<footer" not in html
                assert not r.cookies
            assert (await client.get("/calendar/2025/01")).status == 404
            assert (await client.get("/login")).status == 404

    run(go)


def test_middlewares_run_in_the_documented_order():
    app = protect(dummy_app(), site="d", profile=DEFAULT, seed=1, protected_prefixes=PROTECTED)
    names = [m.__name__ for m in app.middlewares]
    assert names == ["rate_limit", "ban_check", "queue", "captcha", "login", "traps"]


# --- queue ----------------------------------------------------------------------------


def test_queue_shows_please_wait_then_lets_through_after_the_wait():
    async def go() -> None:
        async with site(only(queue=True, queue_wait=0.5)) as client:
            r = await client.get("/about")
            html = await r.text()
            assert r.status == 200
            assert "Please Wait" in title(html)
            assert '<meta http-equiv="refresh" content="1;url=/about">' in html
            assert "eg_queue" in r.cookies
            r = await client.get("/about")  # too early: still waiting
            assert "Please Wait" in title(await r.text())
            await asyncio.sleep(0.55)
            r = await client.get("/about")
            assert content(await r.text()) == PAGES["/about"]

    run(go)


def test_queue_cookie_cannot_be_forged():
    async def go() -> None:
        async with site(only(queue=True, queue_wait=0.2)) as client:
            client.session.cookie_jar.update_cookies({"eg_queue": "me.0.0000"})
            await asyncio.sleep(0.25)
            r = await client.get("/about")
            assert "Please Wait" in title(await r.text())

    run(go)


# --- CAPTCHA --------------------------------------------------------------------------


def test_captcha_wrong_answer_new_question_right_answer_passes():
    async def go() -> None:
        async with site(only(captcha=True)) as client:
            r = await client.get("/about?x=1")
            html = await r.text()
            assert r.status == 200
            assert title(html).endswith("Captcha")
            assert '<form class="captcha-form" method="post" action="/captcha">' in html
            assert field(html, "next") == "/about?x=1"
            assert '<input type="text" name="answer"' in html
            first_token = field(html, "token")
            form = {"token": first_token, "next": "/about", "answer": "not a number"}
            r = await client.post("/captcha", data=form)
            html = await r.text()
            assert r.status == 200 and title(html).endswith("Captcha")
            assert '<p class="captcha-error">Wrong answer, try again.</p>' in html
            assert field(html, "token") != first_token
            r = await pass_captcha(client, html)
            assert r.status == 303
            assert r.headers["Location"] == "/about"
            assert "eg_pass" in r.cookies
            r = await client.get("/about")
            assert content(await r.text()) == PAGES["/about"]
            # A used token cannot be replayed.
            form = {"token": first_token, "next": "/", "answer": "1"}
            assert (await client.post("/captcha", data=form)).status in (404, 405)

    run(go)


def test_too_many_wrong_captcha_answers_get_429_with_retry_after():
    async def go() -> None:
        profile = only(queue=True, queue_wait=0, captcha=True, captcha_max_wrong=2,
                       captcha_lockout=30)  # fmt: skip
        async with site(profile) as client:
            await client.get("/")  # queue ticket: the visitor is known from now on
            html = await (await client.get("/")).text()
            for _ in range(2):
                form = {"token": field(html, "token"), "next": "/", "answer": "-1"}
                r = await client.post("/captcha", data=form)
                html = await r.text()
                assert r.status == 200 and "captcha-error" in html
            form = {"token": field(html, "token"), "next": "/", "answer": "-1"}
            r = await client.post("/captcha", data=form)
            assert r.status == 429
            assert r.headers["Retry-After"] == "30"
            r = await client.get("/")  # still locked out, even with a fresh question
            assert r.status == 429 and 0 < int(r.headers["Retry-After"]) <= 30

    run(go)


def test_captcha_wording_follows_the_seed_and_is_solvable():
    def questions(seed: int) -> list[tuple[str, str]]:
        ask = question_source(seed, "market")
        return [ask() for _ in range(200)]

    assert questions(1) == questions(1)
    assert questions(1) != questions(2)
    wordings = set()
    for seed in range(12):
        for text, answer in questions(seed):
            assert solve(text) == answer
            wordings.add(re.sub(r"\d+|\"\w+\"", "_", text).split()[-2])
    assert len(wordings) >= 4  # the seed picks different wordings


# --- login wall -----------------------------------------------------------------------


def test_login_wall_then_default_account_reaches_protected_page():
    async def go() -> None:
        async with site(only(login=True)) as client:
            r = await client.get("/")
            assert content(await r.text()) == PAGES["/"]  # not protected
            r = await client.get("/listing/1")
            html = await r.text()
            assert r.status == 200
            assert "Please login to access the marketplace" in html
            assert title(html).endswith("Login")
            assert '<form class="login-form" method="post" action="/login">' in html
            assert field(html, "next") == "/listing/1"
            r = await login(client, "trainee", "wrong password", "/listing/1")
            html = await r.text()
            assert r.status == 200
            assert '<p class="login-error">Wrong username or password.</p>' in html
            r = await login(client, "trainee", "trainee-lab-pass", "/listing/1")
            assert r.status == 303 and r.headers["Location"] == "/listing/1"
            assert "session" in r.cookies
            r = await client.get("/listing/1")
            assert content(await r.text()) == PAGES["/listing/1"]
            r = await client.get("/vendor/alice")
            assert content(await r.text()) == PAGES["/vendor/alice"]

    run(go)


def test_registration_then_login_works():
    async def go() -> None:
        async with site(only(login=True)) as client:
            html = await (await client.get("/register")).text()
            assert '<form class="register-form" method="post" action="/register">' in html
            bad = {"username": "officer_k", "password": "longpassword", "password2": "other",
                   "next": "/vendor/alice"}  # fmt: skip
            html = await (await client.post("/register", data=bad)).text()
            assert '<p class="register-error">The passwords do not match.</p>' in html
            good = bad | {"password2": "longpassword"}
            r = await client.post("/register", data=good, allow_redirects=False)
            assert r.status == 303
            assert r.headers["Location"].startswith("/login?next=/vendor/alice")
            html = await (await client.get(r.headers["Location"])).text()
            assert 'class="login-success"' in html
            again = await client.post("/register", data=good)
            assert "This username is taken." in await again.text()
            r = await login(client, "officer_k", "longpassword", "/vendor/alice")
            assert r.status == 303
            r = await client.get("/vendor/alice")
            assert content(await r.text()) == PAGES["/vendor/alice"]

    run(go)


def test_session_expires_after_its_ttl():
    async def go() -> None:
        async with site(only(login=True, session_ttl=0.4)) as client:
            await login(client, "trainee", "trainee-lab-pass")
            assert content(await (await client.get("/listing/1")).text()) == PAGES["/listing/1"]
            await asyncio.sleep(0.45)
            html = await (await client.get("/listing/1")).text()
            assert "Please login to access the marketplace" in html
            assert "Your session has expired" in html

    run(go)


def test_logout_is_a_state_changing_get_that_ends_the_session():
    async def go() -> None:
        async with site(only(login=True)) as client:
            await login(client, "trainee", "trainee-lab-pass")
            assert content(await (await client.get("/listing/1")).text()) == PAGES["/listing/1"]
            r = await client.get("/logout", allow_redirects=False)
            assert r.status == 303 and r.headers["Location"] == "/"
            html = await (await client.get("/listing/1")).text()
            assert "Please login to access the marketplace" in html

    run(go)


# --- rate limit -----------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_then_recovers():
    async def go() -> None:
        async with site(only(rate_limit=True, rate=5, burst=3)) as client:
            statuses = [(await client.get("/")).status for _ in range(3)]
            assert statuses == [200, 200, 200]
            r = await client.get("/")
            assert r.status == 429
            assert r.headers["Retry-After"] == "1"
            html = await r.text()
            assert 'class="rate-limit"' in html and len(html) < 1000
            await asyncio.sleep(0.25)  # 5 tokens/s: one more request is allowed
            assert (await client.get("/")).status == 200

    run(go)


def test_rate_limit_buckets_are_per_session():
    async def go() -> None:
        profile = only(rate_limit=True, rate=0.1, burst=2, queue=True, queue_wait=0)
        async with served(profile) as server, visitor(server) as a, visitor(server) as b:
            assert "Please Wait" in title(await (await a.get("/")).text())  # no cookie yet
            assert [(await a.get("/")).status for _ in range(3)] == [200, 200, 429]
            assert "Please Wait" in title(await (await b.get("/")).text())  # shared bucket
            assert [(await b.get("/")).status for _ in range(2)] == [200, 200]  # b's own

    run(go)


# --- link traps -----------------------------------------------------------------------


def test_calendar_trap_goes_on_month_after_month():
    async def go() -> None:
        async with site(only(trap_calendar=True)) as client:
            html = await (await client.get("/")).text()
            start = next(h for h in links(html) if h.startswith("/calendar/"))
            url, seen = start, []
            for _ in range(30):
                r = await client.get(url)
                html = await r.text()
                assert r.status == 200
                seen.append(url)
                url = re.search(r'<a class="cal-next" rel="next" href="([^"]+)"', html)[1]
            years = {int(u.split("/")[2]) for u in seen}
            assert len(set(seen)) == 30 and len(years) >= 3
            r = await client.get("/calendar/7311/04")  # any month of any year
            html = await r.text()
            assert r.status == 200 and "/calendar/7311/03" in html and "/calendar/7311/05" in html
            assert (await client.get("/calendar/2025/13")).status == 404
            first = await (await client.get(start)).text()
            assert content(first) == ""  # the calendar is the trap's, not the site's

    run(go)


def test_sid_links_differ_per_render_and_serve_the_real_page():
    async def go() -> None:
        async with site(only(trap_sid=True)) as client:
            one = await (await client.get("/about")).text()
            two = await (await client.get("/about")).text()
            sid_links = [h for h in links(one) if "sid=" in h]
            assert sid_links and set(sid_links).isdisjoint(links(two))
            for href in sid_links:
                r = await client.get(href)
                assert r.status == 200
                expected = PAGES[href.split("?")[0]]
                assert content(await r.text()) == expected

    run(go)


def test_sort_and_filter_permutations_serve_the_same_content():
    async def go() -> None:
        async with site(only(trap_sort=True)) as client:
            html = await (await client.get("/about")).text()
            perms = [h for h in links(html) if "sort=" in h]
            assert len(perms) >= 8
            assert all(h.startswith("/about?") and "order=" in h and "filter=" in h
                       for h in perms)  # fmt: skip
            for href in perms:
                assert content(await (await client.get(href)).text()) == PAGES["/about"]

    run(go)


def test_hidden_honeypot_link_bans_the_session():
    async def go() -> None:
        profile = only(queue=True, queue_wait=0, trap_honeypot=True, honeypot_ban=0.5)
        async with served(profile) as server, visitor(server) as crawler, visitor(server) as other:
            await crawler.get("/")  # queue ticket
            html = await (await crawler.get("/")).text()
            hidden = re.findall(r'<a href="([^"]+)" style="display:none">', html)
            assert len(hidden) == 1 and "honeypot" not in hidden[0]
            r = await crawler.get(hidden[0])
            assert r.status == 403 and "Access denied" in await r.text()
            r = await crawler.get("/about")
            assert r.status == 403 and int(r.headers["Retry-After"]) >= 1
            await other.get("/")
            assert (await other.get("/about")).status == 200  # only the crawler is banned
            await asyncio.sleep(0.55)
            assert (await crawler.get("/about")).status == 200  # the ban ends

    run(go)


def test_traps_go_into_html_pages_only():
    async def go() -> None:
        async with site(DEFAULT.replace(queue=False, captcha=False, login=False,
                                        rate_limit=False)) as client:  # fmt: skip
            html = await (await client.get("/nope")).text()
            assert '<footer class="site-footer">' in html and "/logout" in links(html)
            txt = await (await client.get("/robots.txt")).text()
            assert txt == "User-agent: *\n"

    run(go)


# --- everything together ----------------------------------------------------------------


def test_default_profile_queue_captcha_login_then_protected_page():
    async def go() -> None:
        started = time.monotonic()
        async with site(DEFAULT.replace(queue_wait=0.3)) as client:
            r = await client.get("/listing/1")
            assert "Please Wait" in title(await r.text())
            await asyncio.sleep(0.3)
            html = await (await client.get("/listing/1")).text()
            assert title(html).endswith("Captcha")
            r = await pass_captcha(client, html)
            assert r.headers["Location"] == "/listing/1"
            html = await (await client.get("/listing/1")).text()
            assert "Please login to access the marketplace" in html
            r = await login(client, DEFAULT.account_username, DEFAULT.account_password,
                            field(html, "next"))  # fmt: skip
            html = await (await client.get(r.headers["Location"])).text()
            assert content(html) == PAGES["/listing/1"]
            footer = html.split('<footer class="site-footer">')[1]
            assert "/calendar/" in footer and "sid=" in footer and "sort=" in footer
            assert "/logout" in footer and 'style="display:none"' in footer
            assert "<script" not in html.lower()
        assert time.monotonic() - started < 3
        json.dumps(DEFAULT.to_dict())

    run(go)
