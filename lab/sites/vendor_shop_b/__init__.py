"""The minimalist single-vendor store (site kind "vendor_shop_b").

``make_app(world, service)`` pre-renders every page once (``render.render_pages``) and
serves them from a dict. No forms, no JavaScript, root-relative links. Depends on
aiohttp and ``onionlab.lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.static import prerendered_app
from onionlab.lab.sites.vendor_shop_b.render import render_pages
from onionlab.lab.world.model import Service, World

PROTECTED_PREFIXES: tuple[str, ...] = ()
_HEADERS = {"Server": "openresty", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """The shop's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)
    return prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)


__all__ = ["PROTECTED_PREFIXES", "make_app"]
