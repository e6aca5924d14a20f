"""The mock Russian-language automated shop platform (site kind "ru_platform").

``make_app(world, service)`` pre-renders every page (shops, город → район catalogues,
product cards, reviews, jobs) once and serves them from a dict. ``PROTECTED_PREFIXES``
(product cards and the «Работа» section) are the paths the lab's login wall guards.
Depends on aiohttp and ``onionlab.lab.world``.
"""

from onionlab.lab.sites.ru_platform.app import make_app
from onionlab.lab.world.kinds.ru_platform import PROTECTED_PREFIXES

__all__ = ["PROTECTED_PREFIXES", "make_app"]
