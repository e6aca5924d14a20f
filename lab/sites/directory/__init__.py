"""The mock link directory / hidden wiki (site kind "directory").

``make_app(world, service)`` pre-renders every page once (``lab.sites.directory.render``)
and serves each request with one dict lookup; unknown paths get the directory's own 404.
Nothing is behind a login (``PROTECTED_PREFIXES`` is empty). Depends on aiohttp and
``lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.directory.render import render_pages
from lab.world.kinds.directory import PROTECTED_PREFIXES
from lab.world.model import Service, World

__all__ = ["PROTECTED_PREFIXES", "make_app"]

PAGES_KEY: web.AppKey[dict[str, bytes]] = web.AppKey("directory_pages", dict)
_HEADERS = {"Server": "nginx", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the directory's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)

    async def handle(request: web.Request) -> web.Response:
        body = pages.get(request.path_qs)
        status = 200
        if body is None:
            body, status = not_found, 404
        return web.Response(
            status=status, body=body, content_type="text/html", charset="utf-8", headers=_HEADERS
        )

    app = web.Application()
    app[PAGES_KEY] = pages
    app.router.add_get("/{tail:.*}", handle)
    return app
