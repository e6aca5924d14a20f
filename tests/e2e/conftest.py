"""One real lab (private Tor network + sites, every obstacle on) for the end-to-end session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onionlab.lab.controller import Lab
from tests.support.cli import SEED, onionlab


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("onionlab-data")
    lab_dir = data / "lab"
    started = time.monotonic()
    state_path = Lab().up(
        seed=SEED, data_dir=lab_dir, profile="default", progress=lambda m: print("lab:", m)
    )
    up_seconds = time.monotonic() - started
    print(f"lab up in {up_seconds:.1f} s")
    try:
        yield {
            "data": data,
            "lab_dir": lab_dir,
            "state": json.loads(state_path.read_text()),
            "truth": json.loads((lab_dir / "truth.json").read_text()),
            "up_seconds": up_seconds,
        }
    finally:
        Lab().down(data_dir=lab_dir)


LAB_SITES = Path(__file__).resolve().parents[2] / "examples" / "lab-sites.toml"


@pytest.fixture(scope="session")
def crawl_summary(lab: dict[str, Any]) -> dict[str, Any]:
    """One crawl of the whole lab through Tor, with the shipped per-site profiles."""
    result = onionlab("crawl", "--json", "--data-dir", str(lab["data"]), "--sites", str(LAB_SITES))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
