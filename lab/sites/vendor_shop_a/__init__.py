"""The single-vendor price-list shop (site kind "vendor_shop_a").

``make_app(world, service)`` pre-renders every page once (``render.render_pages``) and
serves them from a dict; ``POST /order`` answers with a fixed acknowledgement page. No
JavaScript, root-relative links. Depends on aiohttp and ``onionlab.lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.static import html_response, prerendered_app
from onionlab.lab.sites.vendor_shop_a.render import render_pages
from onionlab.lab.world.kinds.vendor_shop_a import ORDER
from onionlab.lab.world.model import Service, World

PROTECTED_PREFIXES: tuple[str, ...] = ()
_HEADERS = {"Server": "nginx", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """The shop's application; every page is rendered here, before serving."""
    pages, not_found, received = render_pages(world, service)

    async def post_order(request: web.Request) -> web.Response:
        await request.read()  # the message is "forwarded to the vendor": nothing is kept
        return html_response(received, _HEADERS)

    app = prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)
    app.router.add_post(ORDER, post_order)
    return app


__all__ = ["PROTECTED_PREFIXES", "make_app"]
