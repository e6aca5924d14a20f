"""aiohttp application of the Russian-language shop platform: one dict lookup per request.

Every page is rendered when the app is made; unknown paths get the branded 404 page.
Depends on aiohttp, ``lab.world`` and ``lab.sites.ru_platform.render``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.ru_platform.render import render_pages
from lab.world.model import Service, World

PAGES_KEY: web.AppKey[dict[str, bytes]] = web.AppKey("ru_platform_pages", dict)
_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the platform's application; every page is rendered here, before serving."""
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
