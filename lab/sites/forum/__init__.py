"""The mock Dread/RuTor-like forum (site kind "forum").

``make_app(world, service)`` pre-renders every page once (``lab.sites.forum.render``) and
serves each request with one dict lookup; unknown paths get the forum's own 404 page.
User profiles (``/u/…``) sit behind the lab's login wall (``PROTECTED_PREFIXES``).
Depends on aiohttp and ``lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.forum.render import render_pages
from lab.world.kinds.forum import PROTECTED_PREFIXES
from lab.world.model import Service, World

__all__ = ["PROTECTED_PREFIXES", "make_app"]

PAGES_KEY: web.AppKey[dict[str, bytes]] = web.AppKey("forum_pages", dict)
_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the forum's application; every page is rendered here, before serving."""
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
