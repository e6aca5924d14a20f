"""The site server's admin API, served on a UNIX socket in the lab directory.

``GET /status`` → ``{"pid", "profile", "sites": {site: {"up", "scammed", "moved",
"scam_after_s", "listeners": {name: {"address", "up"}}}}}``; ``POST /scam/{site}`` → 200
``{"site", "up": false}``, 404 for an unknown site, 409 if it has already gone;
``POST /move/{site}`` (``?back=1`` to undo) → 200 ``{"site", "moved"}``, 404/409 likewise;
``GET /profile`` → the profile. JSON errors are ``{"error": "..."}``. The socket file is
created 0600 and removed on exit. Depends on aiohttp, ``onionlab.lab.profiles`` and ``.listeners``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from pathlib import Path

from aiohttp import web

from onionlab.lab.profiles import LabProfile
from onionlab.lab.sites.obstacles.listeners import ListenerError, SiteServer

MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux; keep a margin


def make_admin_app(server: SiteServer, profile: LabProfile) -> web.Application:
    async def status(_: web.Request) -> web.Response:
        return web.json_response(
            {"pid": os.getpid(), "profile": profile.name, "sites": server.status()}
        )

    async def get_profile(_: web.Request) -> web.Response:
        return web.json_response(profile.to_dict())

    async def scam(request: web.Request) -> web.Response:
        site = request.match_info["site"]
        if site not in server.runners:
            known = ", ".join(sorted(server.runners))
            return web.json_response(
                {"error": f"no site named {site!r}; the lab serves: {known}"}, status=404
            )
        if site in server.scammed:
            return web.json_response({"error": f"{site} has already disappeared"}, status=409)
        await server.scam(site)
        return web.json_response({"site": site, "up": False})

    async def move(request: web.Request) -> web.Response:
        site = request.match_info["site"]
        back = request.query.get("back", "") in ("1", "true", "yes")
        if site not in server.runners:
            known = ", ".join(sorted(server.runners))
            return web.json_response(
                {"error": f"no site named {site!r}; the lab serves: {known}"}, status=404
            )
        try:
            await server.move(site, back=back)
        except ListenerError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"site": site, "moved": not back})

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_get("/profile", get_profile)
    app.router.add_post("/scam/{site}", scam)
    app.router.add_post("/move/{site}", move)
    return app


def claim_socket_path(path: Path) -> None:
    """Make ``path`` free for a new socket: refuse a live one, remove a stale one."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise ValueError(f"admin socket path too long for a UNIX socket ({path})")
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise ValueError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(os.fspath(path))
    except OSError:
        path.unlink(missing_ok=True)  # stale: nobody listens
        return
    finally:
        probe.close()
    raise ValueError(f"another site server already listens on {path}")


async def start_admin(server: SiteServer, profile: LabProfile, path: Path) -> web.AppRunner:
    """Serve the admin API on the UNIX socket ``path``; clean up the runner to stop it."""
    claim_socket_path(path)
    runner = web.AppRunner(make_admin_app(server, profile), handle_signals=False, access_log=None)
    await runner.setup()
    old = os.umask(0o177)
    try:
        await web.UnixSite(runner, os.fspath(path)).start()
    finally:
        os.umask(old)
    return runner


async def stop_admin(runner: web.AppRunner, path: Path) -> None:
    await runner.cleanup()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
