"""Which aiohttp application serves which kind of site.

``SITE_PACKAGES`` maps a service *kind* (``Service.kind``) to the package whose
``make_app(world, service) -> web.Application`` serves it (imported on first use): the
package named after the kind, ``onionlab.lab.sites.<kind>``, so a new kind needs no entry. Keying
by kind lets two services of one kind (a market and its phishing clone) share the code.
Depends on ``onionlab.lab.world`` and the site packages.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from aiohttp import web

from onionlab.lab.world.kinds import KIND_MODULES
from onionlab.lab.world.model import Service, World

AppFactory = Callable[[World, Service], web.Application]

SITE_PACKAGES: dict[str, str] = {
    kind: f"onionlab.lab.sites.{kind}"
    for kind in KIND_MODULES
    if importlib.util.find_spec(f"onionlab.lab.sites.{kind}") is not None
}
SITES = SITE_PACKAGES  # kinds with a site implementation


def make_app(world: World, service: Service) -> web.Application:
    """The aiohttp application serving ``service`` (KeyError if its kind has no site)."""
    package = importlib.import_module(SITE_PACKAGES[service.kind])
    factory: AppFactory = package.make_app
    return factory(world, service)
