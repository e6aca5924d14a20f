"""A lab brought up for a benchmark and taken down after it (for :mod:`bench.transport_ceiling`
and :mod:`bench.crawl_shape`). Depends on the lab's controller only."""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from onionlab.lab.controller import Lab
from onionlab.lab.sites.latency import DEFAULT_LATENCY


class BenchLab(NamedTuple):
    """A lab brought up for a benchmark: its data directory, its truth pages (shuffled),
    its services' home pages, its Tor client's SOCKS port, the seconds its site server holds
    each page and whether its tors run without Nagle's delay (onionlab.lab.tornet.nodelay)."""

    data: Path
    urls: list[str]
    starts: list[str]
    socks: tuple[str, int]
    latency: float
    nodelay: bool

    @property
    def socks_text(self) -> str:
        return f"{self.socks[0]}:{self.socks[1]}"


@contextmanager
def bench_lab(
    seed: int, scale: float, profile: str, latency: float = DEFAULT_LATENCY
) -> Iterator[BenchLab]:
    """A lab in a temporary directory (loopback only), taken down afterwards."""
    with tempfile.TemporaryDirectory(prefix="onionlab-bench-") as tmp:
        data = Path(tmp)
        started = time.monotonic()
        state_path = Lab().up(
            seed=seed, scale=scale, profile=profile, data_dir=data / "lab", latency=latency
        )
        print(f"lab up in {time.monotonic() - started:.1f} s", file=sys.stderr)
        try:
            state = json.loads(state_path.read_text())
            urls = list(json.loads(Path(state["truth"]).read_text())["pages"])
            random.Random(seed).shuffle(urls)
            lab = BenchLab(data, urls, [service["url"] for service in state["services"]],
                           ("127.0.0.1", int(state["socks"]["port"])), float(state["latency_s"]),
                           (data / "lab" / "tor" / "tor" / "nodelay.so").is_file())  # fmt: skip
            yield lab
        finally:
            Lab().down(data_dir=data / "lab")
