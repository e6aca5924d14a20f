"""Crawl speed through Tor vs straight to the site's port, on the same lab, in one run.

    python -m bench.crawl_speed [--seed 1] [--scale 5] [--repeat 2]

Brings up its own lab (in a temporary directory, loopback only), crawls every page through
the lab's Tor client and then the same pages directly from the site's loopback port, and
prints pages/s for each and their ratio. Also prints how long the lab took to answer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from onionlab.lab.controller import Lab


def crawl(module: str, args: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        raise SystemExit(f"{module} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="onionlab-bench-") as tmp:
        data = Path(tmp)
        started = time.monotonic()
        state_path = Lab().up(
            seed=options.seed, scale=options.scale, profile="open", data_dir=data / "lab"
        )
        up_s = time.monotonic() - started
        state = json.loads(state_path.read_text())
        try:
            service = state["services"][0]
            socks = f"127.0.0.1:{state['socks']['port']}"
            common = ["--json", "--no-score", "--data-dir", str(data), "--socks", socks]
            tor, direct = [], []
            for _ in range(options.repeat):
                tor.append(crawl("onionlab", ["crawl", *common, service["url"]]))
                local = f"http://{service['local']}/"
                direct.append(crawl("bench.direct_crawl", [*common, local]))
        finally:
            Lab().down(data_dir=data / "lab")

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    tor_rate, direct_rate = median(tor, "pages_per_s"), median(direct, "pages_per_s")
    print(f"lab up (all services answering through Tor): {up_s:.1f} s")
    print(f"pages per crawl: tor {tor[0]['pages']}, direct {direct[0]['pages']}")
    print(f"through Tor: {tor_rate:.1f} pages/s  (runs: {[r['pages_per_s'] for r in tor]})")
    print(f"direct:      {direct_rate:.1f} pages/s  (runs: {[r['pages_per_s'] for r in direct]})")
    print(f"ratio tor/direct: {tor_rate / direct_rate:.2f}")


if __name__ == "__main__":
    main()
