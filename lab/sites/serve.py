"""Serve every mock site of a world from one asyncio process, on loopback ports only.

    python -m lab.sites.serve --seed N [--scale S] --listen market=127.0.0.1:PORT \\
        [--listen NAME=HOST:PORT ...] --ready-file PATH [--access-log]

Builds the world, starts one aiohttp site per ``--listen`` (port 0 picks a free port),
writes ``{"pid": …, "sites": {"market": "127.0.0.1:PORT"}}`` to the ready file (atomically)
once all of them listen, and exits cleanly on SIGTERM/SIGINT, removing the ready file.
Depends on aiohttp, ``lab.world`` and ``lab.sites.registry``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from lab.sites.registry import SITES, make_app
from lab.world import World, build_world

log = logging.getLogger("lab.sites.serve")


def parse_listen(spec: str) -> tuple[str, str, int]:
    """Parse ``NAME=HOST:PORT``; HOST must be a loopback IP literal (127.0.0.0/8 or ::1)."""
    name, sep, addr = spec.partition("=")
    host, colon, port_text = addr.rpartition(":")
    if not sep or not name or not colon or not host:
        raise ValueError(f"--listen {spec!r}: expected NAME=HOST:PORT, e.g. market=127.0.0.1:0")
    host = host.removeprefix("[").removesuffix("]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"--listen {spec!r}: host {host!r} is not an IP address; the lab only listens on "
            "loopback, use 127.0.0.1"
        ) from None
    if not ip.is_loopback:
        raise ValueError(
            f"--listen {spec!r}: refusing to listen on non-loopback address {host}; "
            "the lab only listens on 127.0.0.1"
        )
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--listen {spec!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen {spec!r}: port {port} out of range")
    return name, host, port


def _write_ready(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


async def serve(
    world: World,
    listens: list[tuple[str, str, int]],
    ready_file: Path | None,
    access_log: bool = False,
) -> None:
    """Run ``world``'s sites until SIGTERM/SIGINT (the ready file is written once all listen)."""
    known = {svc.name: svc for svc in world.services}
    runners: list[web.AppRunner] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready: dict[str, str] = {}
    try:
        for name, host, port in listens:
            app = make_app(world, known[name])
            runner = web.AppRunner(
                app,
                handle_signals=False,
                access_log=log if access_log else None,
            )
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, host, port, backlog=1024)
            try:
                await site.start()
            except OSError as exc:
                raise SystemExit(
                    f"lab.sites.serve: cannot listen on {host}:{port} for "
                    f"{name}: {exc.strerror or exc}"
                ) from None
            bound = runner.addresses[0]
            bound_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            ready[name] = f"{bound_host}:{bound[1]}"
        if ready_file is not None:
            _write_ready(ready_file, {"pid": os.getpid(), "sites": ready})
        log.info("serving %s", ready)
        await stop.wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        if ready_file is not None and ready:
            ready_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lab.sites.serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--listen", action="append", required=True, metavar="NAME=HOST:PORT")
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--access-log", action="store_true", help="log every request (slow)")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    listens = []
    for spec in args.listen:
        try:
            listens.append(parse_listen(spec))
        except ValueError as exc:
            parser.error(str(exc))
    names = [name for name, _, _ in listens]
    if len(set(names)) != len(names):
        parser.error("each site may be given only one --listen")
    world = build_world(args.seed, args.scale)
    kinds = {svc.name: svc.kind for svc in world.services}
    for name in names:
        if name not in kinds:
            parser.error(f"unknown site {name!r}; the world has: {', '.join(sorted(kinds))}")
        if kinds[name] not in SITES:
            parser.error(f"site {name!r} (kind {kinds[name]!r}) has no implementation yet")
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    asyncio.run(serve(world, listens, args.ready_file, args.access_log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
