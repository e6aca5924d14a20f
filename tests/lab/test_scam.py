"""Tests of the server-level obstacles: exit scams (on command and on schedule), the admin
socket and its client ``onionlab.lab.admin``, and mirror rotation of named listeners.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from click.testing import CliRunner

from onionlab.lab import admin
from onionlab.lab.profiles import OPEN
from onionlab.lab.sites.obstacles.admin_api import start_admin, stop_admin
from onionlab.lab.sites.obstacles.listeners import SiteServer, cancel, rotate_mirrors, schedule

REPO = Path(__file__).resolve().parents[2]


def dummy_app(name: str) -> web.Application:
    async def hello(_: web.Request) -> web.Response:
        return web.Response(text=f"this is {name}")

    app = web.Application()
    app.router.add_get("/", hello)
    return app


@asynccontextmanager
async def lab_server(tmp_path: Path, *sites: str) -> AsyncIterator[SiteServer]:
    server = SiteServer()
    try:
        for site in sites:
            await server.add_site(site, dummy_app(site))
            await server.add_listener(site, site, "127.0.0.1", 0)
        yield server
    finally:
        await server.cleanup()


async def answers(address: str, session: aiohttp.ClientSession | None = None) -> str | None:
    """The body at ``address``, or None if the connection is refused/dropped."""
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        async with session.get(f"http://{address}/", timeout=aiohttp.ClientTimeout(2)) as r:
            return await r.text()
    except aiohttp.ClientConnectionError:
        return None
    finally:
        if own:
            await session.close()


def test_scam_through_admin_socket_closes_only_that_site(tmp_path):
    async def go() -> None:
        async with lab_server(tmp_path, "market", "forum") as server:
            sock = tmp_path / "sites.sock"
            runner = await start_admin(server, OPEN, sock)
            try:
                market = server.listeners["market"].address
                forum = server.listeners["forum"].address
                async with aiohttp.ClientSession() as kept:  # a keep-alive connection
                    assert await answers(market, kept) == "this is market"
                    status = await asyncio.to_thread(admin.site_status, tmp_path)
                    assert status["sites"]["market"]["up"] is True
                    await asyncio.to_thread(admin.scam, tmp_path, "market")
                    assert await answers(market, kept) is None  # open connections dropped too
                host, port = market.rsplit(":", 1)
                with pytest.raises(ConnectionRefusedError):
                    await asyncio.open_connection(host, int(port))
                assert await answers(forum) == "this is forum"
                status = await asyncio.to_thread(admin.site_status, tmp_path)
                assert status["sites"]["market"]["up"] is False
                assert status["sites"]["market"]["scammed"] is True
                assert status["sites"]["forum"]["up"] is True
                with pytest.raises(admin.AdminError, match="already disappeared"):
                    await asyncio.to_thread(admin.scam, tmp_path, "market")
                with pytest.raises(admin.AdminError, match=r"no site named 'shop'.*forum, market"):
                    await asyncio.to_thread(admin.scam, tmp_path, "shop")
            finally:
                await stop_admin(runner, sock)
            assert not sock.exists()

    asyncio.run(go())


def test_move_takes_the_main_address_down_and_back_while_the_mirror_answers(tmp_path):
    async def go() -> None:
        async with lab_server(tmp_path, "bazaar", "forum") as server:
            await server.add_listener("bazaar", "bazaar#mirror1", "127.0.0.1", 0)
            sock = tmp_path / "sites.sock"
            runner = await start_admin(server, OPEN, sock)
            try:
                main = server.listeners["bazaar"].address
                mirror = server.listeners["bazaar#mirror1"].address
                await asyncio.to_thread(admin.move, tmp_path, "bazaar")
                assert await answers(main) is None
                assert await answers(mirror) == "this is bazaar"
                status = await asyncio.to_thread(admin.site_status, tmp_path)
                assert status["sites"]["bazaar"]["moved"] is True
                assert status["sites"]["bazaar"]["up"] is True  # through its mirror
                with pytest.raises(admin.AdminError, match="forum has no mirror"):
                    await asyncio.to_thread(admin.move, tmp_path, "forum")
                await asyncio.to_thread(lambda: admin.move(tmp_path, "bazaar", back=True))
                assert await answers(main) == "this is bazaar"
                status = await asyncio.to_thread(admin.site_status, tmp_path)
                assert status["sites"]["bazaar"]["moved"] is False
            finally:
                await stop_admin(runner, sock)

    asyncio.run(go())


def test_admin_client_explains_a_missing_or_stale_lab(tmp_path):
    with pytest.raises(admin.NoLabError, match="no lab site server is running"):
        admin.scam(tmp_path, "market")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "sites.sock"))
    stale.close()  # the file stays, nobody listens
    with pytest.raises(admin.NoLabError, match="not running"):
        admin.site_status(tmp_path)
    result = CliRunner().invoke(admin.scam_command, ["market", "--data-dir", str(tmp_path)])
    assert result.exit_code == 4


def test_exit_scam_on_schedule(tmp_path):
    async def go() -> None:
        async with lab_server(tmp_path, "market", "forum") as server:
            tasks = schedule(server, OPEN.replace(exit_scam={"market": 0.3, "nowhere": 1}))
            try:
                market = server.listeners["market"].address
                assert await answers(market) == "this is market"
                assert server.status()["market"]["scam_after_s"] == 0.3
                await asyncio.sleep(0.5)
                assert await answers(market) is None
                assert await answers(server.listeners["forum"].address) == "this is forum"
                assert server.status()["market"]["scammed"]
            finally:
                await cancel(tasks)

    asyncio.run(go())


def test_mirror_rotation_takes_listeners_down_in_turn(tmp_path):
    async def go() -> None:
        server = SiteServer()
        try:
            await server.add_site("market", dummy_app("market"))
            one = await server.add_listener("market", "market", "127.0.0.1", 0)
            two = await server.add_listener("market", "market#mirror1", "127.0.0.1", 0)
            await server.close_listener("market#mirror1")
            assert await answers(two) is None
            await server.open_listener("market#mirror1")  # same address again
            assert server.listeners["market#mirror1"].address == two
            assert await answers(two) == "this is market"
            task = asyncio.create_task(rotate_mirrors(server, "market", 0.25))
            seen = []
            deadline = time.monotonic() + 1.2
            while time.monotonic() < deadline:
                state = (await answers(one) is not None, await answers(two) is not None)
                if not seen or seen[-1] != state:
                    seen.append(state)
                await asyncio.sleep(0.03)
            await cancel([task])
            assert seen[:4] == [(True, True), (False, True), (True, False), (False, True)]
        finally:
            await server.cleanup()

    asyncio.run(go())


def test_serve_admin_socket_and_scam_command(tmp_path):
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    ready = lab_dir / "sites.ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "onionlab.lab.sites.serve",
         "--seed", "3", "--ready-file", str(ready),
         "--listen", "market=127.0.0.1:0", "--listen", "market-clone=127.0.0.1:0",
         "--listen", "market#mirror1=127.0.0.1:0"],
        cwd=REPO, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        assert info["profile"] == "default"
        assert info["admin_socket"] == str(lab_dir / "sites.sock")
        assert set(info["sites"]) == {"market", "market-clone"}
        assert set(info["listeners"]) == {"market", "market-clone", "market#mirror1"}
        status = admin.site_status(lab_dir)
        assert status["profile"] == "default" and status["pid"] == proc.pid
        assert status["sites"]["market"]["listeners"]["market#mirror1"]["up"] is True

        result = CliRunner().invoke(admin.scam_command, ["market", "--data-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert "market has disappeared" in result.output

        async def probe() -> tuple[str | None, str | None, str | None]:
            addresses = info["listeners"]
            return (
                await answers(addresses["market"]),
                await answers(addresses["market#mirror1"]),
                await answers(addresses["market-clone"]),
            )

        market, mirror, clone = asyncio.run(probe())
        assert market is None and mirror is None
        assert clone is not None and "Please Wait" in clone  # default profile: the queue
        status = admin.site_status(lab_dir)
        assert [s for s, v in status["sites"].items() if v["up"]] == ["market-clone"]
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    assert rc == 0
    assert not ready.exists() and not (lab_dir / "sites.sock").exists()
