"""Where the crawl's gap to the transport ceiling comes from, on the same lab, in one run.

    python -m bench.crawl_shape [--seed 1] [--scale 1] [--concurrency 32] [--repeat 3]

:mod:`bench.transport_ceiling` compares onionlab's crawl with a client that is handed every
page of the lab up front, shuffled so that every site is busy at once. A crawl cannot be:
it learns a site's pages from the pages it fetched, so it starts with nine home pages, and
ends on the site whose pages take the longest chain of links to reach, the others done.
This bench separates that from what onionlab's own code costs. Interleaved, ``--repeat``
times, through the lab's Tor client (every request to 127.0.0.1, every wait bounded):

1. **minimal, shuffled**: the ceiling (:func:`bench.transport_ceiling.ceiling`);
2. **onionlab**: ``onionlab crawl`` at the concurrency (pages / its ``duration_s``);
3. **minimal, crawl's order**: the same client handed the pages in the order that crawl
   fetched them (its run directory's ``fetched_at``): the sites busy when the crawl had them
   busy, none waiting for a link to be found;
4. **Scrapy alone**: :mod:`bench.scrapy_alone`, Scrapy's own link-following spider through
   onionlab's Tor handler, no onionlab component at all (pages / first to last response).

and prints the medians and the ratios: (3)/(1) is what the crawl's order costs the
transport, (2)/(3) what onionlab costs beyond its order, (2)/(4) onionlab against Scrapy
doing the same crawl with nothing else. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.benchlab import bench_lab
from bench.transport_ceiling import ceiling, crawl
from onionlab.lab.sites.latency import DEFAULT_LATENCY


def crawl_order(run_dir: str) -> list[str]:
    """The URLs of a run's pages in the order they were fetched."""
    pages = []
    with (Path(run_dir) / "items.ndjson").open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            if doc.get("kind") == "page" and "fetched_at" in doc:
                pages.append((doc["fetched_at"], doc["url"]))
    return [url for _, url in sorted(pages)]


def scrapy_alone(socks: str, starts: list[str], concurrency: int) -> dict[str, Any]:
    """:mod:`bench.scrapy_alone` of the lab's services, in a process of its own."""
    command = [sys.executable, "-m", "bench.scrapy_alone", "--socks", socks,
               "--concurrency", str(concurrency), *starts]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench.scrapy_alone failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--profile", default="open")
    parser.add_argument(
        "--latency", type=float, default=DEFAULT_LATENCY, help="seconds the lab holds each page"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    options = parser.parse_args()
    level = options.concurrency
    runs: dict[str, list[float]] = {"shuffled": [], "onionlab": [], "order": [], "scrapy": []}
    with bench_lab(options.seed, options.scale, options.profile, options.latency) as lab:
        lab_latency, lab_nodelay = lab.latency, lab.nodelay
        ceiling(lab.socks, lab.urls[:200], 32, options.max_seconds, True)  # warm the circuits
        for _ in range(options.repeat):
            runs["shuffled"].append(
                ceiling(lab.socks, lab.urls, level, options.max_seconds, True)["pages_per_s"]
            )
            ours = crawl(lab.data, lab.socks_text, level)
            runs["onionlab"].append(ours["pages_per_s"])
            order = crawl_order(ours["run_dir"])
            runs["order"].append(
                ceiling(lab.socks, order, level, options.max_seconds, True)["pages_per_s"]
            )
            runs["scrapy"].append(scrapy_alone(lab.socks_text, lab.starts, level)["pages_per_s"])
            print("  ".join(f"{k} {v[-1]:.1f}" for k, v in runs.items()), file=sys.stderr)
        pages = len(lab.urls)
    med = {key: statistics.median(values) for key, values in runs.items()}
    print(
        f"lab: seed {options.seed}, scale {options.scale:g}, profile {options.profile}, "
        f"{lab_latency:.3f} s a page, tor {'without' if lab_nodelay else 'WITH'} Nagle's delay, "
        f"{pages} truth pages; concurrency {level}; median of {options.repeat} runs"
    )
    print(f"  minimal, shuffled (the ceiling)   {med['shuffled']:7.1f} pages/s")
    print(f"  minimal, in the crawl's order     {med['order']:7.1f} pages/s")
    print(f"  onionlab crawl                    {med['onionlab']:7.1f} pages/s")
    print(f"  Scrapy alone, same crawl          {med['scrapy']:7.1f} pages/s")
    print(
        f"what the crawl's order costs the transport  order/shuffled   "
        f"{med['order'] / med['shuffled']:.2f}"
    )
    print(
        f"onionlab beyond its order                   onionlab/order   "
        f"{med['onionlab'] / med['order']:.2f}"
    )
    print(
        f"onionlab against Scrapy doing the same      onionlab/scrapy  "
        f"{med['onionlab'] / med['scrapy']:.2f}"
    )
    print(
        f"onionlab against the ceiling                onionlab/shuffled "
        f"{med['onionlab'] / med['shuffled']:.2f}"
    )
    for key, values in runs.items():
        print(f"runs {key}: {[round(v) for v in values]}")


if __name__ == "__main__":
    main()
