"""The lab's answer delay: every page the site server sends waits the same set time first.

Onion services answer slowly: a page through Tor takes tenths of a second. The lab's relays
on 127.0.0.1 answer in about 10 ms (their sockets without Nagle's delay:
:mod:`onionlab.lab.tornet.nodelay`), so the site server holds each response for
``--latency`` seconds (``onionlab up --latency``, :data:`DEFAULT_LATENCY` by default)
before it handles the request: a page takes about 0.1 s, as it did before the shim, but the
same for every client and every load, so a crawler's pages per second at a concurrency
measure the crawler. The hold is an ``asyncio.sleep``: no thread and no CPU while a request
waits. Depends on aiohttp (imported when a latency is set: the CLI reads the default).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_LATENCY = 0.08
"""Seconds the lab's site server holds each response (``onionlab up`` uses it)."""


def add_latency(app: web.Application, seconds: float) -> None:
    """Hold every response of ``app`` ``seconds`` before handling it (outermost, so the
    obstacle pages wait too); nothing for 0. Call it before the app starts."""
    if seconds < 0:
        raise ValueError(f"latency must be >= 0 seconds, not {seconds}")
    if not seconds:
        return
    from aiohttp import web

    @web.middleware
    async def latency(request: web.Request, handler: Any) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await handler(request)

    app.middlewares.insert(0, latency)
