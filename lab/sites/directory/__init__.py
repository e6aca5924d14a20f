"""The mock link directory / hidden wiki (site kind "directory").

``make_app(world, service)`` pre-renders every page once (``onionlab.lab.sites.directory.render``)
and serves each request with one dict lookup; unknown paths get the directory's own 404.
Nothing is behind a login (``PROTECTED_PREFIXES`` is empty). Depends on aiohttp and
``onionlab.lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.directory.render import render_pages
from onionlab.lab.sites.static import prerendered_app
from onionlab.lab.world.kinds.directory import PROTECTED_PREFIXES
from onionlab.lab.world.model import Service, World

__all__ = ["PROTECTED_PREFIXES", "make_app"]

_HEADERS = {"Server": "nginx", "Referrer-Policy": "no-referrer"}


def make_app(world: World, service: Service) -> web.Application:
    """Build the directory's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)
    return prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)
