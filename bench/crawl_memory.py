"""The crawler's memory and CPU as the crawl grows: open labs of several scales, one run.

    python -m bench.crawl_memory [--seed 1] [--scales 1,10,25] [--capture on,off]

For each scale: brings up its own open lab (a temporary directory, loopback only), runs
``onionlab crawl --json --no-score`` of every service through the lab's Tor client (once per
``--capture`` mode, in the same lab: with evidence capture, the default, and with
``--no-capture``), and samples the crawl process's resident memory (``/proc/<pid>/status``)
every 0.2 s. Prints, per scale and mode: pages, pages/s, the crawl process's peak RSS (and
the extraction workers' peak), its peak while crawling (up to its last page: the end, where
vendor linking holds every listing, vendor and identifier of the run, comes after), its RSS
when it had fetched 20,000 pages (when it got that far), and CPU-seconds per page in the
crawl process and in all; then the growth per page of the peak RSS from each scale to the
next, and pages/s with capture against without. Every request goes to 127.0.0.1; every
crawl is bounded (1,800 s). Asserts nothing.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.transport_ceiling import _children, _cpu_seconds, _rss_kb
from onionlab.lab.controller import Lab


def _page_times(run: Path) -> list[float]:
    """When each page was fetched (epoch seconds), from the run's page documents."""
    times = []
    with (run / "items.ndjson").open(encoding="utf-8") as handle:
        for line in handle:
            if '"kind": "page"' in line and '"fetched_at"' in line:
                doc = json.loads(line)
                times.append(datetime.fromisoformat(doc["fetched_at"]).timestamp())
    return sorted(times)


def measure(scale: float, seed: int, modes: list[str]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="onionlab-bench-") as tmp:
        data = Path(tmp)
        started = time.monotonic()
        state = json.loads(
            Lab().up(seed=seed, scale=scale, profile="open", data_dir=data / "lab").read_text()
        )
        print(f"scale {scale:g}: lab up in {time.monotonic() - started:.0f} s", file=sys.stderr)
        try:
            socks = f"127.0.0.1:{state['socks']['port']}"
            return [crawl(scale, socks, data, mode) for mode in modes]
        finally:
            Lab().down(data_dir=data / "lab")


def crawl(scale: float, socks: str, data: Path, mode: str) -> dict[str, Any]:
    """One crawl of the lab behind ``socks``, capture ``mode`` ("on"/"off"), sampled."""
    command = [
        sys.executable, "-m", "onionlab", "crawl", "--json", "--no-score",
        "--socks", socks, "--data-dir", str(data),
        *(["--no-capture"] if mode == "off" else []),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, int]] = []  # (epoch seconds, crawl RSS kB)
    cpu: dict[int, float] = {}
    workers_peak = 0
    deadline = time.monotonic() + 1800
    while proc.poll() is None and time.monotonic() < deadline:
        samples.append((time.time(), _rss_kb(proc.pid)))
        for pid in [proc.pid, *_children(proc.pid)]:
            seconds = _cpu_seconds(pid)
            if seconds is not None:
                cpu[pid] = max(seconds, cpu.get(pid, 0.0))
            if pid != proc.pid:
                workers_peak = max(workers_peak, _rss_kb(pid))
        time.sleep(0.2)
    if proc.poll() is None:
        proc.kill()
        raise SystemExit(f"scale {scale:g}: the crawl took over 1,800 s")
    out = proc.stdout.read() if proc.stdout else b""
    summary = json.loads(out)
    times = _page_times(Path(summary["run_dir"]))
    pages = int(summary["pages"])
    moments = [t for t, _ in samples]

    def peak_until(when: float) -> float:
        return max(rss for _, rss in samples[: bisect.bisect_left(moments, when) + 1]) / 1024

    at_20k = peak_until(times[19_999]) if len(times) >= 20_000 else None
    return {
        "scale": scale,
        "capture": mode,
        "warc_mb": summary.get("capture", {}).get("bytes", 0) / 1e6,
        "pages": pages,
        "pages_per_s": summary["pages_per_s"],
        "peak_mb": max(rss for _, rss in samples) / 1024,
        "workers_peak_mb": workers_peak / 1024,
        "at_20k_mb": at_20k,
        "crawling_mb": peak_until(times[-1]),  # before the end's linking and summary
        "cpu_ms_fetching": 1000 * cpu.get(proc.pid, 0.0) / max(1, pages),
        "cpu_ms_all": 1000 * sum(cpu.values()) / max(1, pages),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scales", default="1,10,25")
    parser.add_argument("--capture", default="on", help="capture modes, in order: on,off")
    options = parser.parse_args()
    modes = options.capture.split(",")
    if set(modes) - {"on", "off"}:
        parser.error("--capture takes on, off or both")
    runs = [measure(float(scale), options.seed, modes) for scale in options.scales.split(",")]
    print(f"open lab, seed {options.seed}; {os.cpu_count()} cores")
    print(
        f"{'scale':>5} {'capture':>7} {'WARC MB':>8} {'pages':>7} {'pages/s':>8} "
        f"{'peak RSS MB':>12} {'while crawling':>15} {'at 20k pages':>13} {'worker peak':>12} "
        f"{'CPU ms/page: crawl':>19} {'all':>5}"
    )
    for row in (row for scale_rows in runs for row in scale_rows):
        at_20k = "-" if row["at_20k_mb"] is None else f"{row['at_20k_mb']:.0f}"
        print(
            f"{row['scale']:>5g} {row['capture']:>7} {row['warc_mb']:>8.1f} "
            f"{row['pages']:>7} {row['pages_per_s']:>8.1f} "
            f"{row['peak_mb']:>12.0f} {row['crawling_mb']:>15.0f} {at_20k:>13} "
            f"{row['workers_peak_mb']:>12.0f} "
            f"{row['cpu_ms_fetching']:>19.2f} {row['cpu_ms_all']:>5.2f}"
        )
    for scale_rows in runs:
        by_mode = {row["capture"]: row for row in scale_rows}
        if {"on", "off"} <= set(by_mode):
            on, off = by_mode["on"], by_mode["off"]
            print(
                f"scale {on['scale']:g}: pages/s with capture / without = "
                f"{on['pages_per_s']:.1f} / {off['pages_per_s']:.1f} = "
                f"{on['pages_per_s'] / off['pages_per_s']:.2f}"
            )
    rows = [scale_rows[0] for scale_rows in runs]  # growth: the first mode's crawls
    for before, after in itertools.pairwise(rows):
        pages = max(1, after["pages"] - before["pages"])
        peak = (after["peak_mb"] - before["peak_mb"]) * 1024 / pages
        crawling = (after["crawling_mb"] - before["crawling_mb"]) * 1024 / pages
        print(
            f"RSS growth from scale {before['scale']:g} to {after['scale']:g}: "
            f"{peak:.2f} KB per page at the peak, {crawling:.2f} KB per page while crawling"
        )


if __name__ == "__main__":
    main()
