"""aiohttp application of the bazaar: one dict lookup per request, a branded 404 otherwise.

Depends on aiohttp, ``onionlab.lab.world`` and ``onionlab.lab.sites.bazaar.render``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.bazaar.render import render_site
from onionlab.lab.sites.static import prerendered_app
from onionlab.lab.world.kinds.bazaar import PROTECTED_PREFIXES
from onionlab.lab.world.model import Service, World

_HEADERS = {
    "Server": "nginx",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def make_app(world: World, service: Service) -> web.Application:
    """Build the bazaar's application; everything is rendered here, before serving."""
    pages, not_found = render_site(world, service)
    return prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)
