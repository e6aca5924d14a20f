"""The mock Western multi-vendor market (site kind "market").

``make_app(world, service)`` pre-renders every page from the world model once and serves
them from a dict, so requests do no templating. Depends on aiohttp and ``onionlab.lab.world``.
"""

from onionlab.lab.sites.market.app import make_app

__all__ = ["make_app"]
