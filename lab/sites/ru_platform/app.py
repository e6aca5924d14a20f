"""aiohttp application of the Russian-language shop platform: one dict lookup per request.

Every page is rendered when the app is made; unknown paths get the branded 404 page.
Depends on aiohttp, ``onionlab.lab.world`` and ``onionlab.lab.sites.ru_platform.render``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.ru_platform.render import render_pages
from onionlab.lab.sites.static import prerendered_app
from onionlab.lab.world.kinds.ru_platform import PROTECTED_PREFIXES
from onionlab.lab.world.model import Service, World

_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the platform's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)
    return prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)
