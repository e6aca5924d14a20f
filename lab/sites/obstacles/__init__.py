"""The lab's crawler obstacles, as aiohttp middleware any mock site can be wrapped in.

``protect(app, site=…, profile=…, seed=…, protected_prefixes=…)`` installs, outermost
first: rate limit → honeypot ban check → EndGame-style queue → entry CAPTCHA → login wall
(``protected_prefixes`` only) → link traps (injected into the site's HTML). Only the
obstacles the :class:`~onionlab.lab.profiles.LabProfile` switches on are installed; with the
``open`` profile the app is left untouched. A site declares its protected paths with
``app[PROTECTED_KEY] = ("/vendor/", …)``. Server-level obstacles (exit scam, mirror
rotation) live in :mod:`onionlab.lab.sites.obstacles.listeners`. Everything works without
JavaScript. Depends on aiohttp and ``onionlab.lab.profiles``.
"""

from __future__ import annotations

from aiohttp import web

from onionlab.lab.profiles import LabProfile
from onionlab.lab.sites.obstacles.captcha import make_captcha
from onionlab.lab.sites.obstacles.common import FRONT_KEY, Front
from onionlab.lab.sites.obstacles.login import make_login
from onionlab.lab.sites.obstacles.queue import make_queue
from onionlab.lab.sites.obstacles.ratelimit import make_rate_limit
from onionlab.lab.sites.obstacles.traps import make_traps

PROTECTED_KEY: web.AppKey[tuple[str, ...]] = web.AppKey("onionlab_protected_prefixes", tuple)

__all__ = ["FRONT_KEY", "PROTECTED_KEY", "protect"]


def protect(
    app: web.Application,
    *,
    site: str,
    profile: LabProfile,
    seed: int,
    protected_prefixes: tuple[str, ...],
) -> web.Application:
    """Install ``profile``'s obstacles on ``app`` (before it starts) and return it."""
    if not profile.any_obstacle:
        return app
    front = Front(site, profile, seed, tuple(protected_prefixes))
    app[FRONT_KEY] = front
    ban_check, traps = make_traps(front)
    any_trap = profile.trap_calendar or profile.trap_sort or profile.trap_sid
    any_trap = any_trap or profile.trap_logout or profile.trap_honeypot
    chain = [
        make_rate_limit(front) if profile.rate_limit else None,
        ban_check if profile.trap_honeypot else None,
        make_queue(front) if profile.queue else None,
        make_captcha(front) if profile.captcha else None,
        make_login(front) if profile.login else None,
        traps if any_trap else None,
    ]
    app.middlewares[:0] = [m for m in chain if m is not None]
    return app
