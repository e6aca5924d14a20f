"""The hostile onion service (site kind ``hostile``): every attack a site can make on a crawler.

``make_app(world, service)`` serves the ordinary pages and every attack of
``onionlab.lab.world.kinds.hostile.ATTACKS``. ``configure(app, ...)`` (called by
``onionlab.lab.sites.serve`` before the app starts) tells it the lab's canary address — every
off-site redirect, link, refresh and sub-resource points there or at a fake ``.invalid`` clearnet
host — how long a slow answer may hold a connection, and after how many requests following the
forged ``mirrors.txt`` the site "goes dark": from then on its endless families (wiki, archive,
board, flood items) drop every connection without an answer, while its finite pages keep
answering (so what a correct crawl records stays the same whatever its order).

Cheap for the lab server: bombs are small blobs built once, floods are built lazily,
slow answers are bounded in time (``hold``) and in number (``max_slow`` at once, the
rest are cut at once). The runtime settings are in ``config``, the ways of answering in
``responses``, the page bodies in ``payloads``. Depends on aiohttp, ``onionlab.lab.world`` and
this package's modules.
"""

from __future__ import annotations

import asyncio
import base64
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from onionlab.lab.sites.hostile import payloads as P
from onionlab.lab.sites.hostile.config import (
    CONFIG_KEY,
    STATE_KEY,
    HostileConfig,
    State,
    canary_of,
    configure,
    every_other,
)
from onionlab.lab.sites.hostile.responses import HTML, drop, html, raw, redirect, slow, stream
from onionlab.lab.sites.obstacles import PROTECTED_KEY
from onionlab.lab.world.kinds import hostile as K
from onionlab.lab.world.model import Service, World

__all__ = ["CONFIG_KEY", "HostileConfig", "configure", "make_app"]

_DARK = re.compile(r"/(wiki/[a-z]+|archive/\d+/\d+/\d+|board/\d+|links/item/\d+)")
_ARCHIVE = re.compile(r"/archive/(\d{1,9})/(\d{1,2})/(\d{1,2})")
_BOARD = re.compile(r"/board/(\d{1,12})")
_WIKI = re.compile(r"/wiki/([a-z]{1,64})")
_LOOP = re.compile(r"/go/loop(?:/(\d{1,12}))?")
_ITEM = re.compile(r"/links/item/(\d{1,7})")


def make_app(world: World, service: Service) -> web.Application:
    """The hostile site's application."""
    seed = world.seed
    content = K.content_of(service)
    title = service.title
    home: dict[str, bytes] = {}
    fixed = {
        K.LISTINGS_PATH: P.listings_page(service, 1),
        K.LISTINGS_2_PATH: P.listings_page(service, 2),
        K.ABOUT_PATH: P.about_page(service),
    }
    pgp = P.pgp_txt(service)
    mirrors = P.mirrors_txt(seed, service)
    missing = P.not_found(service)
    app = web.Application()
    app[PROTECTED_KEY] = ()
    app[CONFIG_KEY] = HostileConfig()
    app[STATE_KEY] = State()

    # --- the attacks -----------------------------------------------------------------------

    async def bombs(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind == "gzip":
            return raw(P.gzip_bomb(), HTML, **{"Content-Encoding": "gzip"})
        if kind == "deflate":
            return raw(P.deflate_bomb(), HTML, **{"Content-Encoding": "deflate"})
        if kind == "br":
            return raw(P.brotli_bomb(), HTML, **{"Content-Encoding": "br"})
        if kind == "big":
            return await slow(
                request,
                lambda _: stream(request, K.OVERSIZE, length=K.OVERSIZE, chunk=P.FILLER, pause=0),
            )
        if kind == "stream":
            total = K.MAXSIZE + 8 * 1024 * 1024
            return await slow(
                request, lambda _: stream(request, total, length=None, chunk=P.FILLER, pause=0)
            )
        return html(missing, 404)

    async def drips(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind == "drip":
            return await slow(
                request,
                lambda c: stream(request, 4096, length=4096, chunk=b"x", pause=c.tick),
            )
        if kind == "endless":
            return await slow(
                request,
                lambda c: stream(request, 1 << 40, length=None, chunk=b"." * 64, pause=c.tick),
            )
        if kind == "hang":

            async def never(cfg: HostileConfig) -> web.StreamResponse:
                await asyncio.sleep(cfg.hold + 1)
                return await drop(request)

            return await slow(request, never)
        return html(missing, 404)

    async def redirects(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        c = canary_of(request)
        port = c.rsplit(":", 1)[1]
        targets = {
            "canary": f"http://{c}/redirect",
            "localhost": f"http://localhost:{port}/redirect",
            "clearnet": f"http://{K.FAKE_CLEARNET}/download",
            "file": "file:///etc/passwd",
        }
        if kind in targets:
            return redirect(targets[kind])
        if kind == "data":
            page = f'<a href="http://{c}/data">continue</a><img src="http://{c}/data.gif">'
            encoded = base64.b64encode(page.encode()).decode()
            return redirect(f"data:text/html;base64,{encoded}")
        if kind == "meta":
            head = f'<meta http-equiv="refresh" content="0;url=http://{c}/meta">'
            return html(P.document("New address", "<p>Moving…</p>", head=head))
        if kind == "refresh":
            body = P.document("Moving soon", "<p>We are moving.</p>")
            return html(body, headers={"Refresh": f"0; url=http://{c}/refresh"})
        return html(missing, 404)

    async def loop(request: web.Request) -> web.StreamResponse:
        match = _LOOP.fullmatch(request.path)
        n = int(match[1]) if match and match[1] else 0
        return redirect(f"/go/loop/{n + 1}")

    async def flood(request: web.Request) -> web.StreamResponse:
        return html(P.flood_page(title, canary_of(request)))

    async def item(request: web.Request) -> web.StreamResponse:
        match = _ITEM.fullmatch(request.path)
        if not match or not 1 <= int(match[1]) <= K.FLOOD_LINKS:
            return html(missing, 404)
        return html(P.small_page(f"Link #{match[1]}", "This link is dead."))

    async def wiki(request: web.Request) -> web.StreamResponse:
        if request.path == "/wiki/":
            return html(
                P.small_page("Wiki", "Start here.", [(f"/wiki/{content.seed_word}", "Index")])
            )
        match = _WIKI.fullmatch(request.path)
        if not match:
            return html(missing, 404)
        word = match[1]
        return html(P.small_page(f"Wiki: {word}", f"About {word}.", P.wiki_links(seed, word)))

    async def archive(request: web.Request) -> web.StreamResponse:
        match = _ARCHIVE.fullmatch(request.path)
        if not match or not (1 <= int(match[2]) <= 12 and 1 <= int(match[3]) <= 28):
            return html(missing, 404)
        y, m, d = int(match[1]), int(match[2]), int(match[3])
        day = f"{y:04d}-{m:02d}-{d:02d}"
        return html(P.small_page(f"Archive {day}", "Nothing posted.", P.archive_links(y, m, d)))

    async def board(request: web.Request) -> web.StreamResponse:
        match = _BOARD.fullmatch(request.path)
        if not match or int(match[1]) < 1:
            return html(missing, 404)
        n = int(match[1])
        return html(P.small_page(f"Board page {n}", "No posts.", P.board_links(n)))

    async def parser_bombs(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        builders = {
            "nest": lambda: P.nest_page(canary_of(request)),
            "attr": lambda: P.attr_page(canary_of(request)),
            "lines": P.lines_page,
        }
        return html(builders[kind]()) if kind in builders else html(missing, 404)

    async def regex_bombs(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        builders = {
            "token": lambda: P.token_page(seed),
            "armor": P.armor_page,
            "script": P.script_page,
            "letters": P.letters_page,
        }
        return html(builders[kind]()) if kind in builders else html(missing, 404)

    async def retry_after(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        waits = {
            "wait": (429, str(K.RETRY_AFTER)),
            "busy": (503, str(K.RETRY_AFTER)),
            "later": (503, "Fri, 31 Dec 9999 23:59:59 GMT"),
        }
        if kind not in waits:
            return html(missing, 404)
        if every_other(request):
            status, value = waits[kind]
            body = P.document("Slow down", "<h1>Too busy</h1><p>Come back later.</p>")
            return html(body, status, {"Retry-After": value})
        return html(P.small_page(f"API {kind}", "OK, here is your data: nothing."))

    async def texts(request: web.Request) -> web.StreamResponse:
        bodies = {
            "badutf8": (P.BAD_UTF8, "text/html; charset=utf-8"),
            "utf16": (P.UTF16_LIE, "text/html; charset=utf-16"),
            "unknown": (P.UNKNOWN_CHARSET, "text/html; charset=x-abyss-0"),
            "bom": (P.BOM_MISMATCH, "text/html"),
        }
        kind = request.match_info["kind"]
        if kind not in bodies:
            return html(missing, 404)
        body, content_type = bodies[kind]
        return raw(body, content_type)

    async def cookies(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        path = f"/c/{kind}"
        response = html(P.small_page("Account", "Your preferences were saved."))
        expires = "Fri, 31 Dec 9999 23:59:59 GMT"
        if kind == "huge":
            value = "h" * K.HUGE_COOKIE
            response.headers.add("Set-Cookie", f"abyss_blob={value}; Path={path}")
        elif kind == "many":
            for n in range(K.MANY_COOKIES):
                response.headers.add(
                    "Set-Cookie", f"abyss_{n}={n:x}; Path={path}; Expires={expires}"
                )
        elif kind == "cross":
            response.headers.add("Set-Cookie", "abyss_track=t1; Domain=.onion; Path=/")
            if content.mirror_target:
                response.headers.add(
                    "Set-Cookie",
                    f"abyss_track=t2; Domain={content.mirror_target}; Path=/",
                )
            response.headers.add("Set-Cookie", "abyss_track=t3; Domain=127.0.0.1; Path=/")
        else:
            return html(missing, 404)
        return response

    # --- the ordinary pages ------------------------------------------------------------------

    async def ordinary(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == K.HOME_PATH:
            c = canary_of(request)
            if c not in home:
                home[c] = P.home_page(service, c)
            return html(home[c])
        if path in fixed:
            return html(fixed[path])
        if path == K.PGP_TXT:
            return raw(pgp, "text/plain; charset=utf-8")
        if path == K.MIRRORS_TXT:
            state = request.app[STATE_KEY]
            if state.mirrors_at is None:
                state.mirrors_at = state.requests
            return raw(mirrors, "text/plain; charset=utf-8")
        return html(missing, 404)

    @web.middleware
    async def dark(request: web.Request, handler: Handler) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        state.requests += 1
        cfg = request.app[CONFIG_KEY]
        if (
            state.mirrors_at is not None
            and state.requests - state.mirrors_at > cfg.dark_after
            and _DARK.fullmatch(request.path)
        ):
            return await drop(request)
        return await handler(request)

    app.middlewares.append(dark)
    router = app.router
    router.add_get("/dl/{kind}", bombs)
    router.add_get("/slow/{kind}", drips)
    router.add_get("/go/loop", loop)
    router.add_get("/go/loop/{n}", loop)
    router.add_get("/go/{kind}", redirects)
    router.add_get("/links/all", flood)
    router.add_get("/links/item/{n}", item)
    router.add_get("/wiki/{tail:.*}", wiki)
    router.add_get("/archive/{tail:.*}", archive)
    router.add_get("/board/{tail:.*}", board)
    router.add_get("/p/{kind}", parser_bombs)
    router.add_get("/x/{kind}", regex_bombs)
    router.add_get("/api/{kind}", retry_after)
    router.add_get("/t/{kind}", texts)
    router.add_get("/c/{kind}", cookies)
    router.add_get("/{tail:.*}", ordinary)
    return app
