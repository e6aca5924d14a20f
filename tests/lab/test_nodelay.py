"""The lab's TCP_NODELAY shim (onionlab.lab.tornet.nodelay) and its answer delay
(onionlab.lab.sites.latency): tor's sockets without Nagle's delay, the latency set on
purpose, the same for every request however many come at once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web

from onionlab.lab.sites.latency import add_latency
from onionlab.lab.tornet import nodelay
from onionlab.lab.tornet.nodelay import PreloadUnavailable, build_preload

# A process that connects to a listener it opened, accepts, and reports TCP_NODELAY on both
# ends, that connecting to a closed port still fails as it should, and that a UDP socket
# connects as before.
PROBE = """
import errno, json, socket
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen()
client = socket.create_connection(listener.getsockname())
accepted, _ = listener.accept()
closed = socket.socket(); closed.bind(("127.0.0.1", 0))
port = closed.getsockname()[1]; closed.close()
refused = socket.socket()
code = refused.connect_ex(("127.0.0.1", port))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.connect(("127.0.0.1", 9))
print(json.dumps({
    "client": client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
    "accepted": accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
    "refused": errno.errorcode.get(code, code),
    "udp": udp.getpeername()[1],
}))
"""


def _probe(preload: Path | None) -> dict[str, object]:
    env = {"PATH": "/usr/bin:/bin"}
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_shim_gives_every_tcp_socket_nodelay_and_changes_nothing_else(tmp_path: Path) -> None:
    shim = build_preload(tmp_path / "tor")
    assert shim == tmp_path / "tor" / "nodelay.so"
    without, with_shim = _probe(None), _probe(shim)
    assert (without["client"], without["accepted"]) == (0, 0)  # Nagle on: what tor runs with
    assert with_shim["client"] != 0 and with_shim["accepted"] != 0
    assert with_shim["refused"] == without["refused"] == "ECONNREFUSED"  # errno kept
    assert with_shim["udp"] == without["udp"] == 9


def test_no_compiler_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nodelay.shutil, "which", lambda _name: None)
    with pytest.raises(PreloadUnavailable, match="apt-get install gcc"):
        build_preload(tmp_path)
    assert not (tmp_path / "nodelay.so").exists()


def test_a_failing_build_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.c"
    broken.write_text("this is not C\n")
    monkeypatch.setattr(nodelay, "SOURCE", broken)
    with pytest.raises(PreloadUnavailable, match="building the TCP_NODELAY shim failed"):
        build_preload(tmp_path / "out")


async def _timed_requests(seconds: float, at_once: int) -> list[float]:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(text="page")

    app = web.Application()
    app.router.add_get("/", page)
    add_latency(app, seconds)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    async def one() -> float:
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await reader.read()).endswith(b"page")
        writer.close()
        return time.monotonic() - started

    try:
        return list(await asyncio.gather(*(one() for _ in range(at_once))))
    finally:
        await runner.cleanup()


def test_every_page_waits_the_latency_however_many_come_at_once() -> None:
    alone = asyncio.run(_timed_requests(0.3, 1))
    twenty = asyncio.run(_timed_requests(0.3, 20))
    assert alone[0] >= 0.3
    assert min(twenty) >= 0.3
    assert max(twenty) < 0.3 + 1.0  # held side by side, not one after another (6 s)


def test_no_latency_holds_nothing_and_a_negative_one_is_refused() -> None:
    app = web.Application()
    add_latency(app, 0)
    assert len(app.middlewares) == 0
    with pytest.raises(ValueError, match=">= 0"):
        add_latency(web.Application(), -0.1)


def test_the_site_server_refuses_a_latency_out_of_range() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "onionlab.lab.sites.serve", "--seed", "1", "--latency", "-1",
         "--listen", "market=127.0.0.1:0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--latency must be between 0 and 60 seconds" in done.stderr
