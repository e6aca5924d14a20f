"""The paste site (site kind "paste"), with one PrivateBin-style encrypted paste.

``make_app(world, service)`` pre-renders every page once (``render.render_pages``): HTML
pages and the ``/raw/<id>`` text views, served from a dict. Only the encrypted paste's
page carries a script (it decrypts with the key in the URL fragment, in the browser).
Depends on aiohttp and ``onionlab.lab.world``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.paste.render import render_pages
from onionlab.lab.sites.static import prerendered_app
from onionlab.lab.world.model import Service, World

PROTECTED_PREFIXES: tuple[str, ...] = ()
_HEADERS = {
    "Server": "nginx",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def make_app(world: World, service: Service) -> web.Application:
    """The paste site's application; every page is rendered here, before serving."""
    pages, not_found = render_pages(world, service)
    table = {path: (body, ctype) for path, (ctype, body) in pages.items()}
    return prerendered_app(table, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)


__all__ = ["PROTECTED_PREFIXES", "make_app"]
