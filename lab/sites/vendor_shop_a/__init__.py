"""The single-vendor price-list shop (site kind "vendor_shop_a").

``make_app(world, service)`` pre-renders every page once (``render.render_pages``) and
serves them from a dict; ``POST /order`` answers with a fixed acknowledgement page. No
JavaScript, root-relative links. Depends on aiohttp and ``lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.obstacles import PROTECTED_KEY
from lab.sites.vendor_shop_a.render import render_pages
from lab.world.kinds.vendor_shop_a import ORDER
from lab.world.model import Service, World

PROTECTED_PREFIXES: tuple[str, ...] = ()
PAGES_KEY: web.AppKey[dict[str, bytes]] = web.AppKey("vendor_shop_a_pages", dict)
_HEADERS = {"Server": "nginx", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """The shop's application; every page is rendered here, before serving."""
    pages, not_found, received = render_pages(world, service)

    def html(body: bytes, status: int = 200) -> web.Response:
        return web.Response(
            status=status, body=body, content_type="text/html", charset="utf-8", headers=_HEADERS
        )

    async def get(request: web.Request) -> web.Response:
        body = pages.get(request.path_qs)
        return html(not_found, 404) if body is None else html(body)

    async def post_order(request: web.Request) -> web.Response:
        await request.read()  # the message is "forwarded to the vendor": nothing is kept
        return html(received)

    app = web.Application()
    app[PAGES_KEY] = pages
    app[PROTECTED_KEY] = PROTECTED_PREFIXES
    app.router.add_post(ORDER, post_order)
    app.router.add_get("/{tail:.*}", get)
    return app


__all__ = ["PROTECTED_PREFIXES", "make_app"]
