"""Serve real lab sites (``onionlab.lab.sites.serve``) on loopback ports for crawler tests.

``lab_sites(tmp, profile_text, sites)`` starts the lab's site server for the named services
of the seed-1 world and yields onion host → local port, to hand to
:class:`tests.support.socks5.FakeTorSocks`; no Tor involved. ``crawl_cli`` runs
``onionlab crawl`` as a subprocess through such a SOCKS server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.site_pages import world_and_truth

SEED = 1
OPEN = 'base = "open"\n'


@contextmanager
def lab_sites(tmp: Path, profile_text: str, sites: tuple[str, ...]) -> Iterator[dict[str, int]]:
    """The real lab site server for ``sites``; yields onion → local port."""
    tmp.mkdir(parents=True, exist_ok=True)
    profile, ready = tmp / "profile.toml", tmp / "ready.json"
    profile.write_text(profile_text)
    listen = [arg for site in sites for arg in ("--listen", f"{site}=127.0.0.1:0")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "onionlab.lab.sites.serve",
         "--seed", str(SEED), "--profile", str(profile),
         *listen, "--ready-file", str(ready), "--admin-socket", str(tmp / "a.sock")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "lab sites did not start in 30 s"
            time.sleep(0.05)
        listening = json.loads(ready.read_text())["sites"]
        world, _ = world_and_truth(SEED)
        yield {world.service(site).onion: int(listening[site].rpartition(":")[2]) for site in sites}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def crawl_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``onionlab crawl ARGS`` in a subprocess (no ONIONLAB_* settings from the caller)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONIONLAB_")}
    return subprocess.run(
        [sys.executable, "-m", "onionlab", "crawl", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
