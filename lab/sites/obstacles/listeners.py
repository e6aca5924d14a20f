"""Server-level obstacles: named listeners that can vanish (exit scam) or rotate (mirrors).

A :class:`SiteServer` runs one aiohttp runner per site and any number of named listeners
(one per onion address: the site's own, and its mirrors) on loopback. Closing a listener
closes its socket *and* the connections accepted on it, so clients get "connection
refused", as from a vanished onion service. ``scam(site)`` closes every listener of a site
for good; ``rotate_mirrors`` takes a site's listeners down one at a time, in turn;
``schedule`` runs a profile's exit-scam schedule and mirror rotation until cancelled.
Depends on aiohttp and ``onionlab.lab.profiles``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from onionlab.lab.profiles import LabProfile

log = logging.getLogger("onionlab.lab.sites.obstacles")


class ListenerError(RuntimeError):
    """A listener or site is unknown, or cannot (re)open; the message says which."""


@dataclass
class Listener:
    name: str
    site: str
    host: str
    port: int  # the bound port (kept when the listener closes, so it reopens there)
    tcp: web.TCPSite | None = None

    @property
    def up(self) -> bool:
        return self.tcp is not None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class SiteServer:
    """Sites and their named listeners, in one asyncio process."""

    def __init__(self, *, access_log: logging.Logger | None = None) -> None:
        self.runners: dict[str, web.AppRunner] = {}
        self.listeners: dict[str, Listener] = {}
        self.scammed: dict[str, float] = {}  # site → time.time() it vanished
        self.scam_at: dict[str, float] = {}  # site → seconds after start (scheduled)
        self.moved: set[str] = set()  # sites whose main address is down, mirrors up
        self._access_log = access_log

    async def add_site(self, site: str, app: web.Application) -> None:
        runner = web.AppRunner(app, handle_signals=False, access_log=self._access_log)
        await runner.setup()
        self.runners[site] = runner

    async def add_listener(self, site: str, name: str, host: str, port: int) -> str:
        """Open listener ``name`` of ``site`` on ``host:port``; return the bound address."""
        if site not in self.runners:
            raise ListenerError(f"no site named {site!r}")
        if name in self.listeners:
            raise ListenerError(f"a listener named {name!r} exists already")
        listener = Listener(name, site, host, port)
        self.listeners[name] = listener
        await self._start(listener)
        return listener.address

    async def _start(self, listener: Listener) -> None:
        runner = self.runners[listener.site]
        tcp = web.TCPSite(runner, listener.host, listener.port, backlog=1024)
        before = {tuple(a[:2]) for a in runner.addresses}
        try:
            await tcp.start()
        except OSError as exc:
            raise ListenerError(
                f"cannot listen on {listener.address} for {listener.name}: {exc.strerror or exc}"
            ) from None
        bound = [a for a in runner.addresses if tuple(a[:2]) not in before]
        listener.port = bound[0][1] if bound else listener.port
        listener.tcp = tcp

    def _listener(self, name: str) -> Listener:
        try:
            return self.listeners[name]
        except KeyError:
            known = ", ".join(sorted(self.listeners)) or "none"
            raise ListenerError(f"no listener named {name!r}; listeners: {known}") from None

    async def close_listener(self, name: str) -> None:
        """Stop listening on ``name`` and drop the connections accepted on it."""
        listener = self._listener(name)
        if listener.tcp is None:
            return
        await listener.tcp.stop()
        listener.tcp = None
        server = self.runners[listener.site].server
        for handler in server.connections if server else ():
            transport = handler.transport
            sockname = transport.get_extra_info("sockname") if transport else None
            if sockname and sockname[1] == listener.port:
                handler.force_close()

    async def open_listener(self, name: str) -> None:
        """Listen on ``name`` again, on the same address (not after an exit scam)."""
        listener = self._listener(name)
        if listener.site in self.scammed:
            raise ListenerError(f"{listener.site} has exit-scammed; it does not come back")
        if listener.tcp is None:
            await self._start(listener)

    def site_listeners(self, site: str) -> list[Listener]:
        return [lst for lst in self.listeners.values() if lst.site == site]

    async def scam(self, site: str) -> None:
        """Make ``site`` disappear for good: every listener closed, connections dropped."""
        if site not in self.runners:
            known = ", ".join(sorted(self.runners)) or "none"
            raise ListenerError(f"no site named {site!r}; the server runs: {known}")
        if site in self.scammed:
            return
        self.scammed[site] = time.time()
        for listener in self.site_listeners(site):
            await self.close_listener(listener.name)
        log.warning("exit scam: %s disappeared", site)

    async def move(self, site: str, *, back: bool = False) -> None:
        """Take ``site``'s main address down while its mirrors answer (``back``: undo it).

        The site "moves" to its mirror, as markets do when an address is attacked or
        seized; a crawler that follows the signed mirror list loses nothing.
        """
        if site not in self.runners:
            known = ", ".join(sorted(self.runners)) or "none"
            raise ListenerError(f"no site named {site!r}; the server runs: {known}")
        if not [lst for lst in self.site_listeners(site) if lst.name != site]:
            raise ListenerError(f"{site} has no mirror to move to")
        if back:
            await self.open_listener(site)
            self.moved.discard(site)
            log.warning("move: %s is back on its main address", site)
        else:
            await self.close_listener(site)
            self.moved.add(site)
            log.warning("move: %s left its main address for its mirrors", site)

    def status(self) -> dict[str, Any]:
        """Which sites and listeners are up (JSON-ready)."""
        return {
            site: {
                "up": any(lst.up for lst in self.site_listeners(site)),
                "scammed": site in self.scammed,
                "moved": site in self.moved,
                "scam_after_s": self.scam_at.get(site),
                "listeners": {
                    lst.name: {"address": lst.address, "up": lst.up}
                    for lst in self.site_listeners(site)
                },
            }
            for site in self.runners
        }

    async def cleanup(self) -> None:
        for runner in reversed(list(self.runners.values())):
            await runner.cleanup()


async def rotate_mirrors(server: SiteServer, site: str, period: float) -> None:
    """Every ``period`` s take the next listener of ``site`` down and the previous one up.

    With n >= 2 listeners exactly one is down at a time; with fewer, nothing happens.
    Runs until cancelled (the server's lifetime bounds it).
    """
    names = [lst.name for lst in server.site_listeners(site)]
    if len(names) < 2 or period <= 0:
        return
    tick = 0
    while site not in server.scammed:
        await asyncio.sleep(period)
        if site in server.scammed:
            return
        down, back = names[tick % len(names)], names[(tick - 1) % len(names)]
        if tick > 0:
            await server.open_listener(back)
        await server.close_listener(down)
        log.info("mirror rotation: %s down%s", down, f", {back} up" if tick else "")
        tick += 1


async def _scam_later(server: SiteServer, site: str, after: float) -> None:
    await asyncio.sleep(after)
    await server.scam(site)


def schedule(server: SiteServer, profile: LabProfile) -> list[asyncio.Task[None]]:
    """Start ``profile``'s exit scams and mirror rotations; cancel the tasks to stop them."""
    tasks = []
    for site, after in profile.exit_scam.items():
        if site not in server.runners:
            log.warning("profile %s: no site %r to exit-scam here", profile.name, site)
            continue
        server.scam_at[site] = float(after)
        tasks.append(asyncio.create_task(_scam_later(server, site, float(after))))
    if profile.mirror_rotation > 0:
        for site in server.runners:
            rotation = rotate_mirrors(server, site, profile.mirror_rotation)
            tasks.append(asyncio.create_task(rotation))
    return tasks


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
