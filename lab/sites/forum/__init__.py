"""The mock Dread/RuTor-like forum (site kind "forum").

``make_app(world, service)`` pre-renders every page once (``onionlab.lab.sites.forum.render``) and
serves each request with one dict lookup; unknown paths get the forum's own 404 page.
User profiles (``/u/…``) sit behind the lab's login wall (``PROTECTED_PREFIXES``).
Depends on aiohttp and ``onionlab.lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.forum.render import render_pages
from onionlab.lab.sites.static import prerendered_app
from onionlab.lab.world.kinds.forum import PROTECTED_PREFIXES
from onionlab.lab.world.model import Service, World

__all__ = ["PROTECTED_PREFIXES", "make_app"]

_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the forum's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)
    return prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)
