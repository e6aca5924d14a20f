"""The second mock Western market (site kind "bazaar"): card grid, own URLs and markup.

``make_app(world, service)`` pre-renders every page (and the signed ``/pgp.txt``,
``/mirrors.txt`` and ``/canary.txt``) once; the same app answers on the primary onion and
on its mirror. ``PROTECTED_PREFIXES`` are the paths the lab's login wall guards.
Depends on aiohttp, ``onionlab.lab.world`` and ``onionlab.lab.sites.signed_files``.
"""

from onionlab.lab.sites.bazaar.app import make_app
from onionlab.lab.world.kinds.bazaar import PROTECTED_PREFIXES

__all__ = ["PROTECTED_PREFIXES", "make_app"]
