"""Fixtures shared by the site tests: the world of the module's ``SEED`` and its truth.

A test module sets ``SEED`` (and ``NAME``, the service under test, for ``svc``); a module
that defines its own ``world`` or ``truth`` fixture keeps it. The world is built once per
seed for the whole session (``tests.support.site_pages.world_and_truth``).
"""

from __future__ import annotations

from typing import Any

import pytest

from onionlab.lab.world.model import Service, World
from tests.support.site_pages import world_and_truth


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> World:
    return world_and_truth(request.module.SEED)[0]


@pytest.fixture(scope="module")
def truth(request: pytest.FixtureRequest) -> dict[str, Any]:
    return world_and_truth(request.module.SEED)[1]


@pytest.fixture(scope="module")
def svc(request: pytest.FixtureRequest, world: World) -> Service:
    return world.service(request.module.NAME)
