"""Which aiohttp application serves which kind of site.

``SITES`` maps a service *kind* (``Service.kind``, e.g. "market") to its app factory
``make_app(world, service) -> web.Application``. Keying by kind lets a later world run two
services of the same kind (a market and its phishing clone) under different names.
Depends on ``lab.world`` and the site packages.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from lab.sites import market
from lab.world.model import Service, World

AppFactory = Callable[[World, Service], web.Application]

SITES: dict[str, AppFactory] = {
    "market": market.make_app,
}


def make_app(world: World, service: Service) -> web.Application:
    """The aiohttp application serving ``service`` (KeyError if its kind has no site)."""
    return SITES[service.kind](world, service)
