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
rest are cut at once). Depends on aiohttp, ``onionlab.lab.world`` and ``.payloads``.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler

from onionlab.lab.sites.hostile import payloads as P
from onionlab.lab.sites.obstacles import PROTECTED_KEY
from onionlab.lab.world.kinds import hostile as K
from onionlab.lab.world.model import Service, World

__all__ = ["CONFIG_KEY", "HostileConfig", "configure", "make_app"]

NO_CANARY = "127.0.0.1:9"  # the discard port: what the pages name when no canary runs
_HEADERS = {"Server": "nginx/1.18.0", "X-Powered-By": "PHP/5.4.16"}
_HTML = "text/html; charset=utf-8"
_DARK = re.compile(r"/(wiki/[a-z]+|archive/\d+/\d+/\d+|board/\d+|links/item/\d+)")
_ARCHIVE = re.compile(r"/archive/(\d{1,9})/(\d{1,2})/(\d{1,2})")
_BOARD = re.compile(r"/board/(\d{1,12})")
_WIKI = re.compile(r"/wiki/([a-z]{1,64})")
_LOOP = re.compile(r"/go/loop(?:/(\d{1,12}))?")
_ITEM = re.compile(r"/links/item/(\d{1,7})")


@dataclass
class HostileConfig:
    """Runtime settings: the canary's ``IP:PORT``, the slow answers' bounds, the dark switch."""

    canary: str = NO_CANARY
    hold: float = 120.0  # seconds a drip, endless body or hang keeps its connection
    dark_after: int = 200  # requests after the first mirrors.txt until the site goes dark
    max_slow: int = 16  # slow answers at once; more are cut at once
    tick: float = 1.0  # seconds between two drips


@dataclass
class _State:
    requests: int = 0
    mirrors_at: int | None = None  # request count when mirrors.txt was first served
    slow: int = 0
    parity: dict[str, int] = field(default_factory=dict)


CONFIG_KEY: web.AppKey[HostileConfig] = web.AppKey("onionlab_hostile_config", HostileConfig)
STATE_KEY: web.AppKey[_State] = web.AppKey("onionlab_hostile_state", _State)


def configure(
    app: web.Application,
    *,
    canary: str | None = None,
    hold: float | None = None,
    dark_after: int | None = None,
) -> None:
    """Set the runtime settings of a hostile app (before it starts)."""
    config = app[CONFIG_KEY]
    if canary is not None:
        config.canary = canary
    if hold is not None:
        config.hold = hold
    if dark_after is not None:
        config.dark_after = dark_after


def _html(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=body, headers={**_HEADERS, "Content-Type": _HTML, **(headers or {})}
    )


def _raw(body: bytes, content_type: str, **headers: str) -> web.Response:
    return web.Response(body=body, headers={**_HEADERS, "Content-Type": content_type, **headers})


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={**_HEADERS, "Location": location})


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer (what a dead or vanished host looks like)."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


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
    app[STATE_KEY] = _State()

    def config(request: web.Request) -> HostileConfig:
        return request.app[CONFIG_KEY]

    def canary(request: web.Request) -> str:
        return config(request).canary

    def every_other(request: web.Request) -> bool:
        """True on a path's 1st, 3rd, … request (the attack), False on the others."""
        state = request.app[STATE_KEY]
        seen = state.parity.get(request.path, 0)
        state.parity[request.path] = seen + 1
        return seen % 2 == 0

    async def slow(
        request: web.Request, run: Callable[[HostileConfig], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        cfg = config(request)
        if state.slow >= cfg.max_slow:
            return await _drop(request)
        state.slow += 1
        try:
            return await asyncio.wait_for(run(cfg), timeout=cfg.hold)
        except TimeoutError:
            return await _drop(request)
        finally:
            state.slow -= 1

    async def stream(
        request: web.Request, total: int, *, length: int | None, chunk: bytes, pause: float
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={**_HEADERS, "Content-Type": _HTML})
        if length is not None:
            response.content_length = length
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        sent = 0
        while sent < total:
            piece = chunk[: total - sent]
            await response.write(piece)
            sent += len(piece)
            if pause:
                await asyncio.sleep(pause)
        await response.write_eof()
        return response

    # --- the attacks -----------------------------------------------------------------------

    async def bombs(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind == "gzip":
            return _raw(P.gzip_bomb(), _HTML, **{"Content-Encoding": "gzip"})
        if kind == "deflate":
            return _raw(P.deflate_bomb(), _HTML, **{"Content-Encoding": "deflate"})
        if kind == "br":
            return _raw(P.brotli_bomb(), _HTML, **{"Content-Encoding": "br"})
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
        return _html(missing, 404)

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
                return await _drop(request)

            return await slow(request, never)
        return _html(missing, 404)

    async def redirects(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        c = canary(request)
        port = c.rsplit(":", 1)[1]
        targets = {
            "canary": f"http://{c}/redirect",
            "localhost": f"http://localhost:{port}/redirect",
            "clearnet": f"http://{K.FAKE_CLEARNET}/download",
            "file": "file:///etc/passwd",
        }
        if kind in targets:
            return _redirect(targets[kind])
        if kind == "data":
            page = f'<a href="http://{c}/data">continue</a><img src="http://{c}/data.gif">'
            encoded = base64.b64encode(page.encode()).decode()
            return _redirect(f"data:text/html;base64,{encoded}")
        if kind == "meta":
            head = f'<meta http-equiv="refresh" content="0;url=http://{c}/meta">'
            return _html(P.document("New address", "<p>Moving…</p>", head=head))
        if kind == "refresh":
            body = P.document("Moving soon", "<p>We are moving.</p>")
            return _html(body, headers={"Refresh": f"0; url=http://{c}/refresh"})
        return _html(missing, 404)

    async def loop(request: web.Request) -> web.StreamResponse:
        match = _LOOP.fullmatch(request.path)
        n = int(match[1]) if match and match[1] else 0
        return _redirect(f"/go/loop/{n + 1}")

    async def flood(request: web.Request) -> web.StreamResponse:
        return _html(P.flood_page(title, canary(request)))

    async def item(request: web.Request) -> web.StreamResponse:
        match = _ITEM.fullmatch(request.path)
        if not match or not 1 <= int(match[1]) <= K.FLOOD_LINKS:
            return _html(missing, 404)
        return _html(P.small_page(f"Link #{match[1]}", "This link is dead."))

    async def wiki(request: web.Request) -> web.StreamResponse:
        if request.path == "/wiki/":
            return _html(
                P.small_page("Wiki", "Start here.", [(f"/wiki/{content.seed_word}", "Index")])
            )
        match = _WIKI.fullmatch(request.path)
        if not match:
            return _html(missing, 404)
        word = match[1]
        return _html(P.small_page(f"Wiki: {word}", f"About {word}.", P.wiki_links(seed, word)))

    async def archive(request: web.Request) -> web.StreamResponse:
        match = _ARCHIVE.fullmatch(request.path)
        if not match or not (1 <= int(match[2]) <= 12 and 1 <= int(match[3]) <= 28):
            return _html(missing, 404)
        y, m, d = int(match[1]), int(match[2]), int(match[3])
        day = f"{y:04d}-{m:02d}-{d:02d}"
        return _html(P.small_page(f"Archive {day}", "Nothing posted.", P.archive_links(y, m, d)))

    async def board(request: web.Request) -> web.StreamResponse:
        match = _BOARD.fullmatch(request.path)
        if not match or int(match[1]) < 1:
            return _html(missing, 404)
        n = int(match[1])
        return _html(P.small_page(f"Board page {n}", "No posts.", P.board_links(n)))

    async def parser_bombs(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        builders = {
            "nest": lambda: P.nest_page(canary(request)),
            "attr": lambda: P.attr_page(canary(request)),
            "lines": P.lines_page,
        }
        return _html(builders[kind]()) if kind in builders else _html(missing, 404)

    async def regex_bombs(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        builders = {
            "token": lambda: P.token_page(seed),
            "armor": P.armor_page,
            "script": P.script_page,
            "letters": P.letters_page,
        }
        return _html(builders[kind]()) if kind in builders else _html(missing, 404)

    async def retry_after(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        waits = {
            "wait": (429, str(K.RETRY_AFTER)),
            "busy": (503, str(K.RETRY_AFTER)),
            "later": (503, "Fri, 31 Dec 9999 23:59:59 GMT"),
        }
        if kind not in waits:
            return _html(missing, 404)
        if every_other(request):
            status, value = waits[kind]
            body = P.document("Slow down", "<h1>Too busy</h1><p>Come back later.</p>")
            return _html(body, status, {"Retry-After": value})
        return _html(P.small_page(f"API {kind}", "OK, here is your data: nothing."))

    async def texts(request: web.Request) -> web.StreamResponse:
        bodies = {
            "badutf8": (P.BAD_UTF8, "text/html; charset=utf-8"),
            "utf16": (P.UTF16_LIE, "text/html; charset=utf-16"),
            "unknown": (P.UNKNOWN_CHARSET, "text/html; charset=x-abyss-0"),
            "bom": (P.BOM_MISMATCH, "text/html"),
        }
        kind = request.match_info["kind"]
        if kind not in bodies:
            return _html(missing, 404)
        body, content_type = bodies[kind]
        return _raw(body, content_type)

    async def cookies(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        path = f"/c/{kind}"
        response = _html(P.small_page("Account", "Your preferences were saved."))
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
            return _html(missing, 404)
        return response

    # --- the ordinary pages ------------------------------------------------------------------

    async def ordinary(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == K.HOME_PATH:
            c = canary(request)
            if c not in home:
                home[c] = P.home_page(service, c)
            return _html(home[c])
        if path in fixed:
            return _html(fixed[path])
        if path == K.PGP_TXT:
            return _raw(pgp, "text/plain; charset=utf-8")
        if path == K.MIRRORS_TXT:
            state = request.app[STATE_KEY]
            if state.mirrors_at is None:
                state.mirrors_at = state.requests
            return _raw(mirrors, "text/plain; charset=utf-8")
        return _html(missing, 404)

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
            return await _drop(request)
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
