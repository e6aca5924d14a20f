"""aiohttp application of the market: a dict lookup per request, a branded 404 otherwise.

Depends on aiohttp, ``lab.world`` and ``lab.sites.market.render``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.market.render import render_pages
from lab.sites.signed_files import admin_key, signed_files
from lab.world.model import Service, World

PAGES_KEY: web.AppKey[dict[str, bytes]] = web.AppKey("market_pages", dict)
_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the market's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)
    # /pgp.txt, /mirrors.txt, /canary.txt: signed by the market's admin key (a clone
    # signs with its own key, which is how the trainees catch it).
    texts = signed_files(world, service, *admin_key(world, service))

    async def handle(request: web.Request) -> web.Response:
        text = texts.get(request.path)
        if text is not None:
            return web.Response(
                body=text, content_type="text/plain", charset="utf-8", headers=_HEADERS
            )
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
