"""The paste site (site kind "paste"), with one PrivateBin-style encrypted paste.

``make_app(world, service)`` pre-renders every page once (``render.render_pages``): HTML
pages and the ``/raw/<id>`` text views, served from a dict. Only the encrypted paste's
page carries a script (it decrypts with the key in the URL fragment, in the browser).
Depends on aiohttp and ``lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.obstacles import PROTECTED_KEY
from lab.sites.paste.render import render_pages
from lab.world.model import Service, World

PROTECTED_PREFIXES: tuple[str, ...] = ()
PAGES_KEY: web.AppKey[dict[str, tuple[str, bytes]]] = web.AppKey("paste_pages", dict)
_HEADERS = {
    "Server": "nginx",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def make_app(world: World, service: Service) -> web.Application:
    """The paste site's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)

    async def get(request: web.Request) -> web.Response:
        found = pages.get(request.path_qs)
        ctype, body, status = ("text/html", not_found, 404) if found is None else (*found, 200)
        return web.Response(
            status=status, body=body, content_type=ctype, charset="utf-8", headers=_HEADERS
        )

    app = web.Application()
    app[PAGES_KEY] = pages
    app[PROTECTED_KEY] = PROTECTED_PREFIXES
    app.router.add_get("/{tail:.*}", get)
    return app


__all__ = ["PROTECTED_PREFIXES", "make_app"]
