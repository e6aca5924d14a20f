"""``onionlab plugins test --site``: one plugin alone on a live lab site, through real Tor."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.cli import onionlab

pytestmark = [pytest.mark.tor, pytest.mark.slow]


def test_a_plugin_alone_on_a_live_site_finds_its_items_and_nothing_else(
    lab: dict[str, Any],
) -> None:
    result = onionlab(
        "plugins", "test", "market_listings", "--site", "market", "--pages", "40", "--json",
        "--data-dir", str(lab["data"]),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    *pages, footer = (json.loads(line) for line in result.stdout.splitlines())
    assert footer["errors"] == 0
    market = next(s for s in lab["state"]["services"] if s["name"] == "market")
    assert pages and all(page["url"].startswith(market["url"]) for page in pages)
    found = [kind for page in pages for kind in page["found"]]
    assert "listing" in found
    # Only market_listings made items: no other plugin's kinds, whatever else is installed.
    assert set(found) <= {"listing", "vendor"}
