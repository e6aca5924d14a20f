"""aiohttp application of the bazaar: one dict lookup per request, a branded 404 otherwise.

Depends on aiohttp, ``lab.world`` and ``lab.sites.bazaar.render``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.bazaar.render import render_site
from lab.world.model import Service, World

PAGES_KEY: web.AppKey[dict[str, tuple[bytes, str]]] = web.AppKey("bazaar_pages", dict)
_HEADERS = {
    "Server": "nginx",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def make_app(world: World, service: Service) -> web.Application:
    """Build the bazaar's application; everything is rendered here, before serving."""
    pages, not_found = render_site(world, service)

    async def handle(request: web.Request) -> web.Response:
        found = pages.get(request.path_qs)
        if found is None:
            return web.Response(
                status=404,
                body=not_found,
                content_type="text/html",
                charset="utf-8",
                headers=_HEADERS,
            )
        body, content_type = found
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=_HEADERS)

    app = web.Application()
    app[PAGES_KEY] = pages
    app.router.add_get("/{tail:.*}", handle)
    return app
