"""aiohttp application of the market: a dict lookup per request, a branded 404 otherwise.

Depends on aiohttp, ``onionlab.lab.world`` and ``onionlab.lab.sites.market.render``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.sites.market.render import render_pages
from onionlab.lab.sites.signed_files import admin_key, signed_files
from onionlab.lab.sites.static import prerendered_app
from onionlab.lab.world.kinds.market import PROTECTED_PREFIXES
from onionlab.lab.world.model import Service, World

_HEADERS = {"Server": "nginx", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
_TEXT = "text/plain"


def make_app(world: World, service: Service) -> web.Application:
    """Build the market's application; every page is rendered here, before serving."""
    pages: dict[str, bytes | tuple[bytes, str]] = {}
    rendered, not_found = render_pages(world, service)
    pages.update(rendered)
    # /pgp.txt, /mirrors.txt, /canary.txt: signed by the market's admin key (a clone
    # signs with its own key, which is how the trainees catch it).
    texts = signed_files(world, service, *admin_key(world, service))
    pages.update({path: (body, _TEXT) for path, body in texts.items()})
    return prerendered_app(pages, not_found, headers=_HEADERS, protected=PROTECTED_PREFIXES)
