"""The hostile site's runtime settings and per-app state, and ``configure`` to set them.

``HostileConfig`` (under ``CONFIG_KEY``) holds the canary address and the bounds of the slow
answers; ``State`` (under ``STATE_KEY``) counts requests, remembers when ``mirrors.txt`` was first
served and how many slow answers run. Depends on aiohttp.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

NO_CANARY = "127.0.0.1:9"  # the discard port: what the pages name when no canary runs


@dataclass
class HostileConfig:
    """Runtime settings: the canary's ``IP:PORT``, the slow answers' bounds, the dark switch."""

    canary: str = NO_CANARY
    hold: float = 120.0  # seconds a drip, endless body or hang keeps its connection
    dark_after: int = 200  # requests after the first mirrors.txt until the site goes dark
    max_slow: int = 16  # slow answers at once; more are cut at once
    tick: float = 1.0  # seconds between two drips


@dataclass
class State:
    """What one hostile app counts while it serves."""

    requests: int = 0
    mirrors_at: int | None = None  # request count when mirrors.txt was first served
    slow: int = 0
    parity: dict[str, int] = field(default_factory=dict)


CONFIG_KEY: web.AppKey[HostileConfig] = web.AppKey("onionlab_hostile_config", HostileConfig)
STATE_KEY: web.AppKey[State] = web.AppKey("onionlab_hostile_state", State)


def configure(
    app: web.Application,
    *,
    canary: str | None = None,
    hold: float | None = None,
    dark_after: int | None = None,
) -> None:
    """Set the runtime settings of a hostile app (before it starts)."""
    config = app[CONFIG_KEY]
    if canary is not None:
        config.canary = canary
    if hold is not None:
        config.hold = hold
    if dark_after is not None:
        config.dark_after = dark_after


def config(request: web.Request) -> HostileConfig:
    """The runtime settings of the app serving ``request``."""
    return request.app[CONFIG_KEY]


def canary_of(request: web.Request) -> str:
    """The canary's ``IP:PORT`` the pages of this app name."""
    return config(request).canary


def every_other(request: web.Request) -> bool:
    """True on a path's 1st, 3rd, … request (the attack), False on the others."""
    state = request.app[STATE_KEY]
    seen = state.parity.get(request.path, 0)
    state.parity[request.path] = seen + 1
    return seen % 2 == 0
