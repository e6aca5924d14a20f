"""What Tor carries against what onionlab's crawl gets, on the same lab, in one run.

    python -m bench.transport_ceiling [--seed 1] [--scale 1] [--concurrency 32,64,128]
                                      [--repeat 2] [--profile open] [--latency 0.08]

Brings up its own lab (a temporary directory, loopback only), then, for each concurrency,
``--repeat`` times and interleaved:

1. **the ceiling**: a minimal asynchronous SOCKS5 client (below, about 80 lines of asyncio)
   fetches every page of the lab's ground truth through the lab's Tor client, the host
   name resolved by Tor (SOCKS5 ``ATYP 3``), ``concurrency`` requests in flight, each of
   its ``concurrency`` clients keeping one stream per site open (HTTP/1.1 keep-alive, as
   a browser or Scrapy's connection pool does), the pages in a fixed shuffled order so
   that every site is busy at once, as in a crawl, each host's streams on the circuit the
   crawl uses for it (SOCKS user name = the host, Tor's ``IsolateSOCKSAuth``, as
   ``onionlab.crawler.tor.handler`` does: the same Tor client and the same circuits);
2. **onionlab**: ``onionlab crawl --concurrency N --json`` of every lab service through the
   same Tor client, discovering the same pages by following links;
3. the minimal client again, one stream per page (``Connection: close``): what a client
   without a connection pool gets;
4. the minimal client, keep-alive, with no isolation ("shared": the circuits Tor picks for
   a client that asks for none; runs here swung by a tenth either side of the isolated).

The lab holds each page ``--latency`` seconds (``onionlab up``'s default) and its tors run
without Nagle's delay (``onionlab.lab.tornet.nodelay``): before, the relays' delayed
acknowledgements made a page take 50-130 ms by how each client timed its requests (Scrapy
alone, no pipeline, 255 pages/s; with a second client's traffic beside it, 335), so the
ceiling measured the clients' timing more than the lab. ``--latency 0`` shows the crawl
where only the CPU limits it.

It prints pages/s of each and the ratio of onionlab to the ceiling (1) (the crawl's own
``duration_s``: from the engine's start to its stop, so the crawl's start-up before that, the
plugins' warm-up for the workers included, is not in it), the crawl's pages/s over the whole
command's time as well (Python's start, imports, Tor check and set-up in it), and for the
crawl: CPU-seconds per page in the fetching process and in all (the extraction workers
too), the share of each core that was busy while it ran (``/proc/stat``) and the crawl
process's peak RSS. Every request goes to 127.0.0.1; every
wait is bounded (``--max-seconds`` per fetch pass, 900 s per crawl). Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.benchlab import bench_lab
from onionlab.crawler.tor.handler import ISOLATION_PASSWORD
from onionlab.lab.sites.latency import DEFAULT_LATENCY

CLOCK = os.sysconf("SC_CLK_TCK")
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"


# --- the ceiling: a minimal SOCKS5 client ---------------------------------------------------


async def _open(
    socks: tuple[str, int], host: str, port: int, timeout: float, isolate: bool
) -> Stream:
    """A stream to ``host:port`` through SOCKS5, the host name resolved by Tor; with
    ``isolate``, on the circuit the crawl uses for that host (its SOCKS user name is the
    host, as ``onionlab.crawler.tor.handler`` sends it: Tor's IsolateSOCKSAuth)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(*socks), timeout)
    method = 2 if isolate else 0
    writer.write(bytes([5, 1, method]))
    if (await asyncio.wait_for(reader.readexactly(2), timeout))[1] != method:
        raise OSError("SOCKS5: the authentication method was not accepted")
    if isolate:
        user, password = host.encode(), ISOLATION_PASSWORD
        writer.write(bytes([1, len(user)]) + user + bytes([len(password)]) + password)
        if (await asyncio.wait_for(reader.readexactly(2), timeout))[1] != 0:
            raise OSError("SOCKS5: user name and password refused")
    name = host.encode()
    writer.write(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
    reply = await asyncio.wait_for(reader.readexactly(4), timeout)
    if reply[1] != 0:
        writer.close()
        raise OSError(f"SOCKS5 error {reply[1]}")
    skip = {1: 4, 4: 16}.get(reply[3])
    if skip is None:
        skip = (await reader.readexactly(1))[0]
    await asyncio.wait_for(reader.readexactly(skip + 2), timeout)
    return reader, writer


async def _response(reader: asyncio.StreamReader, timeout: float) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; its status and whether the stream may be used again."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    fields = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip().lower()
    if "content-length" in fields:
        await asyncio.wait_for(reader.readexactly(int(fields["content-length"])), timeout)
    elif fields.get("transfer-encoding") == "chunked":
        while True:
            size = int((await asyncio.wait_for(reader.readline(), timeout)).split(b";")[0], 16)
            await asyncio.wait_for(reader.readexactly(size + 2), timeout)
            if size == 0:
                break
    else:
        await asyncio.wait_for(reader.read(-1), timeout)
        return status, False
    return status, fields.get("connection") != "close"


async def _fetch_all(
    socks: tuple[str, int], urls: list[str], concurrency: int, keep_alive: bool, isolate: bool
) -> list[int]:
    """GET every URL, ``concurrency`` at once; with ``keep_alive`` each of the
    ``concurrency`` clients keeps one stream per host open and sends its next request
    for that host on it (as a browser, or Scrapy's connection pool, does)."""
    queue = list(reversed(urls))
    statuses: list[int] = []
    timeout = 30.0

    async def client() -> None:
        streams: dict[str, Stream] = {}
        while queue:
            parts = urlsplit(queue.pop())
            host = parts.hostname or ""
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            stream = streams.pop(host, None)
            try:
                if stream is None:
                    stream = await _open(socks, host, parts.port or 80, timeout, isolate)
                stream[1].write(
                    f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: "
                    f"{USER_AGENT}\r\nAccept: */*\r\n"
                    f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
                )
                status, reusable = await _response(stream[0], timeout)
                statuses.append(status)
                if keep_alive and reusable:
                    streams[host] = stream
                else:
                    stream[1].close()
            except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
                statuses.append(0)
                if stream is not None:
                    stream[1].close()
        for _reader, writer in streams.values():
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return statuses


def ceiling(
    socks: tuple[str, int],
    urls: list[str],
    concurrency: int,
    limit: float,
    keep_alive: bool,
    isolate: bool = True,
) -> dict:
    """Fetch ``urls`` with the minimal client; pages/s of the pages that answered 2xx-4xx.
    ``isolate``: each host's streams on the circuit the crawl uses for it (see :func:`_open`)."""
    started = time.monotonic()
    fetching = _fetch_all(socks, urls, concurrency, keep_alive, isolate)
    statuses = asyncio.run(asyncio.wait_for(fetching, limit))
    elapsed = time.monotonic() - started
    answered = sum(1 for status in statuses if 200 <= status < 500)
    return {
        "pages": answered,
        "failed": len(statuses) - answered,
        "seconds": elapsed,
        "pages_per_s": answered / elapsed,
    }


# --- onionlab's crawl, watched from /proc ---------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK  # utime + stime


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cores() -> list[tuple[int, int]]:
    """(busy, total) jiffies of each core since boot."""
    cores = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + values[4]  # idle + iowait
            cores.append((sum(values) - idle, sum(values)))
    return cores


class Watch(threading.Thread):
    """Samples a process tree's CPU time and RSS every 0.2 s until it exits."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.cpu: dict[int, float] = {}  # pid -> its last CPU seconds seen
        self.peak_rss_kb = 0
        self.cores_before = _cores()
        self.cores_after = self.cores_before

    def run(self) -> None:
        root = self.proc.pid
        while self.proc.poll() is None:
            for pid in [root, *_children(root)]:
                seconds = _cpu_seconds(pid)
                if seconds is not None:
                    self.cpu[pid] = max(seconds, self.cpu.get(pid, 0.0))
            self.peak_rss_kb = max(self.peak_rss_kb, _rss_kb(root))
            self.cores_after = _cores()
            time.sleep(0.2)

    def busy(self) -> list[float]:
        return [
            (b1 - b0) / max(1, t1 - t0)
            for (b0, t0), (b1, t1) in zip(self.cores_before, self.cores_after, strict=True)
        ]


def crawl(data: Path, socks: str, concurrency: int) -> dict[str, Any]:
    """``onionlab crawl`` of the running lab at ``concurrency``: its summary and what it cost."""
    command = [
        sys.executable,
        "-m",
        "onionlab",
        "crawl",
        "--json",
        "--no-score",
        "--socks",
        socks,
        "--data-dir",
        str(data),
        "--concurrency",
        str(concurrency),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = Watch(proc)
    watch.start()
    try:
        out, errors = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit("the crawl took over 900 s") from None
    wall = time.monotonic() - started
    watch.join(5)
    if proc.returncode != 0:
        raise SystemExit(f"onionlab crawl failed ({proc.returncode}):\n{errors[-3000:]}")
    summary = json.loads(out)
    pages = max(1, int(summary["pages"]))
    own = watch.cpu.get(proc.pid, 0.0)
    total = sum(watch.cpu.values())
    return {
        "pages": summary["pages"],
        "seconds": summary["duration_s"],
        "pages_per_s": summary["pages_per_s"],
        "wall_pages_per_s": pages / wall,
        "cpu_ms_per_page_fetching": 1000 * own / pages,
        "cpu_ms_per_page_total": 1000 * total / pages,
        "busy": watch.busy(),
        "peak_rss_mb": watch.peak_rss_kb / 1024,
        "run_dir": summary.get("run_dir"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--profile", default="open")
    parser.add_argument(
        "--latency", type=float, default=DEFAULT_LATENCY, help="seconds the lab holds each page"
    )
    parser.add_argument("--concurrency", default="32,64,128")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    options = parser.parse_args()
    levels = [int(level) for level in options.concurrency.split(",")]

    rows: list[tuple[int, list[dict], list[dict], list[dict], list[dict]]] = []
    with bench_lab(options.seed, options.scale, options.profile, options.latency) as lab:
        lab_latency, lab_nodelay = lab.latency, lab.nodelay
        data, urls, socks, socks_text = lab.data, lab.urls, lab.socks, lab.socks_text
        for isolate in (True, False):  # warm the circuits, the crawl's and the others
            ceiling(socks, urls[:200], 32, options.max_seconds, True, isolate)
        for level in levels:
            alive, close, ours, shared = [], [], [], []
            for _ in range(options.repeat):
                alive.append(ceiling(socks, urls, level, options.max_seconds, True))
                ours.append(crawl(data, socks_text, level))
                close.append(ceiling(socks, urls, level, options.max_seconds, False))
                shared.append(ceiling(socks, urls, level, options.max_seconds, True, False))
                print(
                    f"c={level}: minimal {alive[-1]['pages_per_s']:.1f} pages/s "
                    f"(one stream a page: {close[-1]['pages_per_s']:.1f}, not isolated: "
                    f"{shared[-1]['pages_per_s']:.1f}), onionlab {ours[-1]['pages_per_s']:.1f}",
                    file=sys.stderr,
                )
            rows.append((level, alive, close, ours, shared))

    def med(runs: list[dict], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    print(
        f"lab: seed {options.seed}, scale {options.scale:g}, profile {options.profile}, "
        f"{lab_latency:.3f} s a page, tor {'without' if lab_nodelay else 'WITH'} Nagle's delay, "
        f"{len(urls)} truth pages; {os.cpu_count()} cores; median of {options.repeat} runs"
    )
    print(
        "minimal = the minimal SOCKS5 client, keep-alive streams, each host on the circuit the "
        "crawl uses for it (the ceiling); 1/page = the same, one stream per page; shared = "
        "keep-alive, no isolation (Tor's own circuits for the client); "
        "onionlab = pages / the crawl's duration_s; "
        "wall = pages / the whole command's time (Python's start, imports and set-up too)"
    )
    print(
        f"{'conc':>5} {'minimal':>8} {'1/page':>7} {'shared':>7} {'onionlab':>9} {'ratio':>6} "
        f"{'wall':>6} "
        f"{'pages':>6} "
        f"{'CPU ms/page: fetching':>22} {'all':>5} {'cores busy':>11} {'RSS MB':>7}"
    )
    for level, alive, close, ours, shared in rows:
        cores = len(ours[0]["busy"])
        busy = [statistics.median(run["busy"][i] for run in ours) for i in range(cores)]
        rate, mine = med(alive, "pages_per_s"), med(ours, "pages_per_s")
        print(
            f"{level:>5} {rate:>8.1f} {med(close, 'pages_per_s'):>7.1f} "
            f"{med(shared, 'pages_per_s'):>7.1f} {mine:>9.1f} "
            f"{mine / rate:>6.2f} {med(ours, 'wall_pages_per_s'):>6.1f} {med(ours, 'pages'):>6.0f} "
            f"{med(ours, 'cpu_ms_per_page_fetching'):>22.2f} "
            f"{med(ours, 'cpu_ms_per_page_total'):>5.2f} "
            f"{' '.join(f'{b:.0%}' for b in busy):>11} {med(ours, 'peak_rss_mb'):>7.0f}"
        )
    for level, alive, close, ours, shared in rows:
        print(
            f"runs at c={level} (pages/s): minimal {[round(r['pages_per_s']) for r in alive]}, "
            f"1/page {[round(r['pages_per_s']) for r in close]}, "
            f"shared {[round(r['pages_per_s']) for r in shared]}, "
            f"onionlab {[round(r['pages_per_s']) for r in ours]}"
        )


if __name__ == "__main__":
    main()
