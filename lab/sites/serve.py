"""Serve every mock site of a world from one asyncio process, on loopback ports only.

    python -m onionlab.lab.sites.serve --seed N [--scale S] --listen market=127.0.0.1:PORT \\
        [--listen NAME=HOST:PORT ...] --ready-file PATH [--access-log] \\
        [--profile default|open|hostile|FILE.toml] [--admin-socket PATH] \\
        [--canary 127.0.0.1:PORT --canary-log PATH]

Builds the world, wraps every site in the obstacles the lab profile switches on
(``onionlab.lab.sites.obstacles``: rate limit, queue, CAPTCHA, login wall, link traps), starts one
listener per ``--listen`` (port 0 picks a free port; ``NAME#mirrorN=…`` is a mirror address
of site NAME), serves the admin API (exit scam, status; ``onionlab.lab.admin`` is its client) on a
UNIX socket (``--admin-socket``, by default ``sites.sock`` next to the ready file), runs
the profile's exit-scam schedule and mirror rotation, writes ``{"pid": …, "sites":
{"market": "127.0.0.1:PORT"}, "listeners": {…}, "profile": …, "admin_socket": …,
"canary": …}`` to the ready file (atomically) once all of them listen, and exits cleanly
on SIGTERM/SIGINT, removing the ready file and the socket. With the profile's ``hostile``
switch the world has the malicious site; ``--canary`` then runs the loopback canary
(``onionlab.lab.sites.hostile.canary``) its redirects and links point at, logging to
``--canary-log``.
Depends on aiohttp, ``onionlab.lab.world``, ``onionlab.lab.profiles``,
``onionlab.lab.sites.registry`` and ``onionlab.lab.sites.obstacles``.
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

from onionlab.lab.profiles import DEFAULT, LabProfile, ProfileError, load_profile
from onionlab.lab.sites.hostile import configure as configure_hostile
from onionlab.lab.sites.hostile.canary import Canary
from onionlab.lab.sites.latency import add_latency
from onionlab.lab.sites.obstacles import PROTECTED_KEY, protect
from onionlab.lab.sites.obstacles.admin_api import MAX_SOCKET_PATH, start_admin, stop_admin
from onionlab.lab.sites.obstacles.listeners import ListenerError, SiteServer, cancel, schedule
from onionlab.lab.sites.registry import SITES, make_app
from onionlab.lab.world import World, build_world

log = logging.getLogger("onionlab.lab.sites.serve")

ADMIN_SOCKET_NAME = "sites.sock"


def site_of(listen_name: str) -> str:
    """The site a listener serves: ``market#mirror1`` (a mirror address) → ``market``."""
    return listen_name.partition("#")[0]


def protected_prefixes(app: web.Application) -> tuple[str, ...]:
    """The paths ``app`` keeps behind its login wall (every site app declares them)."""
    return tuple(app.get(PROTECTED_KEY, ()))


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
    *,
    profile: LabProfile = DEFAULT,
    admin_socket: Path | None = None,
    canary: tuple[str, int] | None = None,
    canary_log: Path | None = None,
    latency: float = 0.0,
) -> None:
    """Run ``world``'s sites until SIGTERM/SIGINT (the ready file is written once all listen);
    each response is held ``latency`` seconds first (:mod:`onionlab.lab.sites.latency`)."""
    known = {svc.name: svc for svc in world.services}
    server = SiteServer(access_log=log if access_log else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready: dict[str, str] = {}  # site → its own address
    listeners: dict[str, str] = {}  # every listener (site and "site#mirrorN") → address
    admin: web.AppRunner | None = None
    tasks: list[asyncio.Task[None]] = []
    trap: Canary | None = None
    canary_address = ""
    try:
        if canary is not None:
            trap = Canary(canary_log or (ready_file or Path("sites")).with_name("canary.ndjson"))
            try:
                canary_address = await trap.start(*canary)
            except OSError as exc:
                raise SystemExit(f"onionlab.lab.sites.serve: canary: {exc}") from None
        for name, host, port in listens:
            site = site_of(name)
            if site not in server.runners:
                app = make_app(world, known[site])
                if known[site].kind == "hostile":
                    configure_hostile(
                        app,
                        canary=canary_address or None,
                        hold=profile.hostile_hold,
                        dark_after=profile.hostile_dark_after,
                    )
                prefixes = protected_prefixes(app)
                protect(
                    app, site=site, profile=profile, seed=world.seed, protected_prefixes=prefixes
                )
                add_latency(app, latency)
                await server.add_site(site, app)
            try:
                listeners[name] = await server.add_listener(site, name, host, port)
            except ListenerError as exc:
                raise SystemExit(f"onionlab.lab.sites.serve: {exc}") from None
            if name == site:
                ready[site] = listeners[name]
        if admin_socket is not None:
            try:
                admin = await start_admin(server, profile, admin_socket)
            except (ValueError, OSError) as exc:
                raise SystemExit(f"onionlab.lab.sites.serve: admin socket: {exc}") from None
        tasks = schedule(server, profile)
        if ready_file is not None:
            _write_ready(
                ready_file,
                {
                    "pid": os.getpid(),
                    "sites": ready,
                    "listeners": listeners,
                    "profile": profile.name,
                    "admin_socket": str(admin_socket) if admin is not None else None,
                    "canary": canary_address or None,
                },
            )
        log.info("serving %s with lab profile %s", ready, profile.name)
        await stop.wait()
    finally:
        await cancel(tasks)
        if admin is not None and admin_socket is not None:
            await stop_admin(admin, admin_socket)
        await server.cleanup()
        if trap is not None:
            await trap.stop()
        if ready_file is not None and listeners:
            ready_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m onionlab.lab.sites.serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--listen", action="append", required=True, metavar="NAME=HOST:PORT")
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--access-log", action="store_true", help="log every request (slow)")
    parser.add_argument(
        "--profile",
        default="default",
        metavar="NAME|FILE",
        help="lab profile: default (every obstacle on), open (none), hostile (default and "
        "the malicious site) or a TOML file",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="hold every response this long first, as an onion service answers slowly "
        "[default: 0; `onionlab up` sets its --latency]",
    )
    parser.add_argument(
        "--canary",
        metavar="HOST:PORT",
        help="run the loopback canary here (port 0: a free one); the hostile site points at it",
    )
    parser.add_argument(
        "--canary-log",
        type=Path,
        metavar="PATH",
        help="where the canary records connections [default: canary.ndjson by the ready file]",
    )
    parser.add_argument(
        "--admin-socket",
        type=Path,
        metavar="PATH",
        help=f"UNIX socket of the admin API [default: {ADMIN_SOCKET_NAME} next to --ready-file]",
    )
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        parser.error(str(exc))
    admin_socket = args.admin_socket
    if admin_socket is None and args.ready_file is not None:
        admin_socket = args.ready_file.resolve().parent / ADMIN_SOCKET_NAME
        if len(os.fsencode(admin_socket)) > MAX_SOCKET_PATH:
            admin_socket = None  # too long for a UNIX socket: no admin API
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if not 0 <= args.latency <= 60:
        parser.error("--latency must be between 0 and 60 seconds")
    listens = []
    for spec in args.listen:
        try:
            listens.append(parse_listen(spec))
        except ValueError as exc:
            parser.error(str(exc))
    canary = None
    if args.canary is not None:
        try:
            _, chost, cport = parse_listen(f"canary={args.canary}")
        except ValueError as exc:
            parser.error(str(exc).replace("--listen 'canary=", "--canary '"))
        canary = (chost, cport)
    names = [name for name, _, _ in listens]
    if len(set(names)) != len(names):
        parser.error("each site (and each mirror) may be given only one --listen")
    world = build_world(args.seed, args.scale, hostile=profile.hostile)
    kinds = {svc.name: svc.kind for svc in world.services}
    for site in (site_of(name) for name in names):
        if site not in kinds:
            parser.error(f"unknown site {site!r}; the world has: {', '.join(sorted(kinds))}")
        if kinds[site] not in SITES:
            parser.error(f"site {site!r} (kind {kinds[site]!r}) has no implementation yet")
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.admin_socket is None and args.ready_file is not None and admin_socket is None:
        log.warning("no admin socket: the lab directory's path is too long for a UNIX socket")
    asyncio.run(
        serve(
            world,
            listens,
            args.ready_file,
            args.access_log,
            profile=profile,
            admin_socket=admin_socket,
            canary=canary,
            canary_log=args.canary_log,
            latency=args.latency,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
