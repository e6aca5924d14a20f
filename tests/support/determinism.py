"""Determinism checks for the lab's site kinds (test-only).

``assert_rebuilds_identically(world, seed, names, *views)`` builds the world of ``seed``
again from scratch and asserts that each service of ``names`` (one name or several) and
every ``view(world, service)`` (rendered pages, truth rows, occurrences…) come out equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onionlab.lab.world import build_world
from onionlab.lab.world.model import Service, World

View = Callable[[World, Service], Any]


def assert_rebuilds_identically(
    world: World, seed: int, names: str | tuple[str, ...], *views: View
) -> World:
    """Rebuild the world of ``seed``: the services and each view are equal; return the rebuild."""
    again = build_world(seed)
    for name in (names,) if isinstance(names, str) else names:
        one, two = world.service(name), again.service(name)
        assert one == two, name
        for view in views:
            assert view(world, one) == view(again, two), (name, view)
    return again
