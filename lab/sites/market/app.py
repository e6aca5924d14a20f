"""aiohttp application of the market: a dict lookup per request, a branded 404 otherwise.

Depends on aiohttp, ``lab.world`` and ``lab.sites.market.render``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.market.render import render_pages
from lab.world.model import Service, World

PAGES_KEY: web.AppKey[dict[str, bytes]] = web.AppKey("market_pages", dict)
_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the market's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)

    async def handle(request: web.Request) -> web.Response:
        body = pages.get(request.path_qs)
        if body is None:
            return web.Response(
                status=404,
                body=not_found,
                content_type="text/html",
                charset="utf-8",
                headers=_HEADERS,
            )
        return web.Response(body=body, content_type="text/html", charset="utf-8", headers=_HEADERS)

    app = web.Application()
    app[PAGES_KEY] = pages
    app.router.add_get("/{tail:.*}", handle)
    return app
