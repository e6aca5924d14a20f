"""aiohttp application of the Russian-language shop platform: one dict lookup per request.

Every page is rendered when the app is made; unknown paths get the branded 404 page.
Depends on aiohttp, ``lab.world`` and ``lab.sites.ru_platform.render``.
"""

from __future__ import annotations

from aiohttp import web

from lab.sites.ru_platform.render import render_pages
from lab.sites.static import prerendered_app
from lab.world.kinds.ru_platform import PROTECTED_PREFIXES
from lab.world.model import Service, World

_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the platform's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)
    return prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)
