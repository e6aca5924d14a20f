"""Lab world figures: generation time and memory, pages per site, pages/s served on one core.

    python -m bench.lab_world [--seed 1] [--scales 1,10] [--repeat 3] [--site market]
                              [--seconds 10] [--connections 32] [--client auto|wrk|aiohttp|all]

Prints tables and asserts nothing:
1. ``build_world(seed, scale)`` and ``ground_truth(...)``: wall time (median of
   ``--repeat`` runs) and peak RSS (``ru_maxrss``), each run in a fresh subprocess; the
   RSS after imports is shown too, so the world's own share is visible.
2. Pages per site: the ground truth's ``pages`` grouped by host → service name.
3. Pages/s served straight by the site server (no Tor): ``python -m onionlab.lab.sites.serve``
   pinned to CPU 0 (``taskset``), loaded from another process pinned to CPU 1 for
   ``--seconds`` (at most 10) with ``--connections`` keep-alive connections cycling over
   the site's truth pages. The load comes from ``wrk`` (Debian package ``wrk``) when
   installed, else from an aiohttp client; ``--client all`` runs both. ``--profile open``
   is passed to the server when it supports the flag (no obstacles in the way).
Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
MAX_SECONDS = 10.0

GENERATE = textwrap.dedent(
    """
    import json, resource, sys, time
    from onionlab.lab.world import build_world
    from onionlab.lab.world.truth import ground_truth
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    world = build_world(int(sys.argv[1]), float(sys.argv[2]))
    t1 = time.perf_counter()
    truth = ground_truth(world)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"build_s": t1 - t0, "truth_s": t2 - t1, "base_kb": base,
                      "peak_kb": peak, "pages": len(truth["pages"])}))
    """
)

# Run by the aiohttp load client in its own process (pinned to the other CPU).
AIOHTTP_CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import aiohttp

    async def main(base, host, paths, connections, seconds):
        done = errors = nbytes = 0
        stop_at = time.monotonic() + seconds
        connector = aiohttp.TCPConnector(limit=connections, force_close=False)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         headers={"Host": host}) as session:
            async def worker(offset):
                nonlocal done, errors, nbytes
                i = offset
                while time.monotonic() < stop_at:
                    try:
                        async with session.get(base + paths[i % len(paths)]) as r:
                            nbytes += len(await r.read())
                            if r.status < 400:
                                done += 1
                            else:
                                errors += 1
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        errors += 1
                    i += connections
            started = time.monotonic()
            await asyncio.gather(*(worker(k) for k in range(connections)))
            elapsed = time.monotonic() - started
        print(json.dumps({"ok": done, "errors": errors, "seconds": elapsed,
                          "bytes": nbytes}))

    spec = json.loads(sys.stdin.read())
    asyncio.run(main(spec["base"], spec["host"], spec["paths"], spec["connections"],
                     spec["seconds"]))
    """
)

WRK_SCRIPT = """
local paths = {%s}
local n = #paths
local i = 0
init = function(args) i = tonumber(args[1]) or 0 end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% n) + 1])
end
"""


def _python(code: str, *args: str, timeout: float = 600, stdin: str | None = None) -> Any:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise SystemExit(f"subprocess failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _pin(cpu: int) -> list[str]:
    """``taskset -c CPU`` when taskset exists and the CPU is ours to use, else nothing."""
    if shutil.which("taskset") is None or cpu not in os.sched_getaffinity(0):
        return []
    return ["taskset", "-c", str(cpu)]


def generation(seed: int, scales: list[float], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for scale in scales:
        runs = [_python(GENERATE, str(seed), str(scale)) for _ in range(repeat)]
        rows.append(
            {
                "scale": scale,
                "build_s": statistics.median(r["build_s"] for r in runs),
                "truth_s": statistics.median(r["truth_s"] for r in runs),
                "base_mb": statistics.median(r["base_kb"] for r in runs) / 1024,
                "peak_mb": max(r["peak_kb"] for r in runs) / 1024,
                "pages": runs[0]["pages"],
            }
        )
    return rows


def pages_per_site(seed: int, scale: float) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Truth page URLs by service name (mirror hosts count for their service)."""
    from onionlab.lab.world import build_world
    from onionlab.lab.world.truth import ground_truth

    world = build_world(seed, scale)
    truth = ground_truth(world)
    host_to_name: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for svc in world.services:
        kinds[svc.name] = svc.kind
        host_to_name[svc.onion.lower().removesuffix(".onion")] = svc.name
        for _label, onion in getattr(svc, "addresses", ()):
            host_to_name.setdefault(onion.lower().removesuffix(".onion"), svc.name)
    by_site: dict[str, list[str]] = {}
    for url in truth["pages"]:
        host = (urlsplit(url).hostname or "").removesuffix(".onion")
        name = host_to_name.get(host, f"? {host[:12]}")
        by_site.setdefault(name, []).append(url)
    return by_site, kinds


def _server_supports_profile() -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "onionlab.lab.sites.serve", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "--profile" in result.stdout


class Server:
    """``python -m onionlab.lab.sites.serve`` for one site, pinned to CPU 0, in a temporary dir."""

    def __init__(self, seed: int, scale: float, site: str, profile: bool) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="onionlab-bench-")
        ready = Path(self.tmp.name) / "ready.json"
        command = [*_pin(0), sys.executable, "-m", "onionlab.lab.sites.serve", "--seed", str(seed)]
        command += ["--scale", str(scale), "--listen", f"{site}=127.0.0.1:0"]
        command += ["--ready-file", str(ready)]
        if profile:
            command += ["--profile", "open"]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while not ready.exists():
            if self.process.poll() is not None:
                raise SystemExit(f"site server failed:\n{self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("site server did not become ready within 120 s")
            time.sleep(0.05)
        self.address = json.loads(ready.read_text())["sites"][site]
        self.cpu_start = self._cpu_seconds()

    def _cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def cpu_used(self) -> float:
        return self._cpu_seconds() - self.cpu_start

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.tmp.cleanup()


def load_aiohttp(
    address: str, host: str, paths: list[str], connections: int, seconds: float
) -> dict[str, Any]:
    spec = {
        "base": f"http://{address}",
        "host": host,
        "paths": paths,
        "connections": connections,
        "seconds": seconds,
    }
    result = subprocess.run(
        [*_pin(1), sys.executable, "-c", AIOHTTP_CLIENT],
        cwd=REPO,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if result.returncode != 0:
        raise SystemExit(f"aiohttp client failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def load_wrk(
    address: str, host: str, paths: list[str], connections: int, seconds: float
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="onionlab-wrk-") as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
        command = [*_pin(1), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        command += ["-H", f"Host: {host}", "-s", str(script), f"http://{address}/"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed:\n{result.stderr[-3000:]}")
    out = result.stdout
    requests = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if requests is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    elapsed = float(requests.group(2)) / (1000 if requests.group(3) == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    transfer = re.search(r"Transfer/sec:\s*([\d.]+)([KMG]?B)", out)
    unit = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
    rate = float(transfer.group(1)) * unit[transfer.group(2)] if transfer else 0.0
    return {"ok": int(requests.group(1)) - (int(bad.group(1)) if bad else 0),
            "errors": errors, "seconds": elapsed, "bytes": rate * elapsed}  # fmt: skip


def serving(
    seed: int,
    site: str,
    paths: list[str],
    host: str,
    clients: list[str],
    connections: int,
    seconds: float,
) -> tuple[list[dict[str, Any]], bool]:
    profile = _server_supports_profile()
    rows = []
    for client in clients:
        server = Server(seed, 1.0, site, profile)
        try:
            load = load_wrk if client == "wrk" else load_aiohttp
            result = load(server.address, host, paths, connections, seconds)
            cpu = server.cpu_used()
        finally:
            server.stop()
        rows.append(
            {
                "client": client,
                **result,
                "pages_s": result["ok"] / result["seconds"] if result["seconds"] else 0.0,
                "server_cpu": cpu / result["seconds"] if result["seconds"] else 0.0,
            }
        )
    return rows, profile


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scales", default="1,10", help="comma-separated scales")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--site", default="market", help="the site to load (scale 1)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", choices=["auto", "wrk", "aiohttp", "all"], default="auto")
    options = parser.parse_args()
    seconds = min(max(options.seconds, 1.0), MAX_SECONDS)
    scales = [float(s) for s in options.scales.split(",") if s.strip()]
    have_wrk = shutil.which("wrk") is not None
    if options.client == "all":
        clients = ["wrk", "aiohttp"] if have_wrk else ["aiohttp"]
    elif options.client == "auto":
        clients = ["wrk" if have_wrk else "aiohttp"]
    else:
        clients = [options.client]
    if "wrk" in clients and not have_wrk:
        raise SystemExit("wrk is not installed (Debian package `wrk`)")

    print(f"onionlab lab world — seed {options.seed}, {os.cpu_count()} CPU(s), "
          f"Python {sys.version.split()[0]}\n")  # fmt: skip
    gen = generation(options.seed, scales, max(1, options.repeat))
    print(f"World generation (fresh process each, median of {options.repeat}; peak RSS):")
    print(_table(
        ["scale", "build_world s", "ground_truth s", "RSS after imports MB", "peak RSS MB",
         "pages"],
        [[f"{r['scale']:g}", f"{r['build_s']:.2f}", f"{r['truth_s']:.3f}",
          f"{r['base_mb']:.0f}", f"{r['peak_mb']:.0f}", str(r["pages"])] for r in gen],
    ))  # fmt: skip

    by_site, kinds = pages_per_site(options.seed, 1.0)
    counts = Counter({name: len(urls) for name, urls in by_site.items()})
    print("\nPages per site (ground truth, scale 1):")
    print(_table(
        ["service", "kind", "pages"],
        [[name, kinds.get(name, "?"), str(n)] for name, n in sorted(counts.items())]
        + [["total", "", str(sum(counts.values()))]],
    ))  # fmt: skip

    if options.site not in by_site:
        raise SystemExit(f"no site {options.site!r}; the world has: {', '.join(sorted(by_site))}")
    urls = by_site[options.site]
    host = urlsplit(urls[0]).hostname or ""
    paths = [
        urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "") for u in urls
    ]
    rows, profile = serving(
        options.seed, options.site, paths, host, clients, options.connections, seconds
    )
    pin = "server on CPU 0, client on CPU 1" if _pin(1) else "not pinned (taskset or CPU 1 missing)"
    print(f"\nServed direct (no Tor): {options.site}, {len(paths)} truth pages cycled, "
          f"{options.connections} keep-alive connections, {seconds:g} s, {pin}, "
          f"profile {'open' if profile else '(flag absent: none)'}:")  # fmt: skip
    print(_table(
        ["client", "pages", "errors", "seconds", "pages/s", "KB/page", "server CPU (cores)"],
        [[r["client"], str(r["ok"]), str(r["errors"]), f"{r['seconds']:.1f}",
          f"{r['pages_s']:.0f}", f"{r['bytes'] / 1024 / max(1, r['ok'] + r['errors']):.1f}",
          f"{r['server_cpu']:.2f}"] for r in rows],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
