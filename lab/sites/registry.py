"""Which aiohttp application serves which kind of site.

``SITE_PACKAGES`` maps a service *kind* (``Service.kind``) to the package whose
``make_app(world, service) -> web.Application`` serves it (imported on first use). Keying
by kind lets two services of one kind (a market and its phishing clone) share the code.
Depends on ``lab.world`` and the site packages.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from aiohttp import web

from lab.world.model import Service, World

AppFactory = Callable[[World, Service], web.Application]

SITE_PACKAGES: dict[str, str] = {
    "market": "lab.sites.market",
    "bazaar": "lab.sites.bazaar",
    "ru_platform": "lab.sites.ru_platform",
    "vendor_shop_a": "lab.sites.vendor_shop_a",
    "vendor_shop_b": "lab.sites.vendor_shop_b",
    "forum": "lab.sites.forum",
    "paste": "lab.sites.paste",
    "directory": "lab.sites.directory",
    "hostile": "lab.sites.hostile",
}
SITES = SITE_PACKAGES  # kinds with a site implementation


def make_app(world: World, service: Service) -> web.Application:
    """The aiohttp application serving ``service`` (KeyError if its kind has no site)."""
    package = importlib.import_module(SITE_PACKAGES[service.kind])
    factory: AppFactory = package.make_app
    return factory(world, service)
