"""The hostile site's ways of answering: HTML, raw bodies, redirects, dropped connections, and
slow or streamed bodies bounded by the app's ``HostileConfig``.

Depends on aiohttp and ``onionlab.lab.sites.hostile.config``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from onionlab.lab.sites.hostile.config import STATE_KEY, HostileConfig, config

HEADERS = {"Server": "nginx/1.18.0", "X-Powered-By": "PHP/5.4.16"}
HTML = "text/html; charset=utf-8"


def html(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """An HTML answer with the site's server headers (plus ``headers``)."""
    return web.Response(
        status=status, body=body, headers={**HEADERS, "Content-Type": HTML, **(headers or {})}
    )


def raw(body: bytes, content_type: str, **headers: str) -> web.Response:
    """A body of any ``content_type`` with the site's server headers."""
    return web.Response(body=body, headers={**HEADERS, "Content-Type": content_type, **headers})


def redirect(location: str) -> web.Response:
    """A 302 to ``location``."""
    return web.Response(status=302, headers={**HEADERS, "Location": location})


async def drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer (what a dead or vanished host looks like)."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


async def slow(
    request: web.Request, run: Callable[[HostileConfig], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Run a slow answer, at most ``max_slow`` at once and for ``hold`` seconds, else drop."""
    state = request.app[STATE_KEY]
    cfg = config(request)
    if state.slow >= cfg.max_slow:
        return await drop(request)
    state.slow += 1
    try:
        return await asyncio.wait_for(run(cfg), timeout=cfg.hold)
    except TimeoutError:
        return await drop(request)
    finally:
        state.slow -= 1


async def stream(
    request: web.Request, total: int, *, length: int | None, chunk: bytes, pause: float
) -> web.StreamResponse:
    """Send ``total`` bytes of ``chunk`` repeated, ``pause`` seconds between two pieces."""
    response = web.StreamResponse(headers={**HEADERS, "Content-Type": HTML})
    if length is not None:
        response.content_length = length
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        await response.write(piece)
        sent += len(piece)
        if pause:
            await asyncio.sleep(pause)
    await response.write_eof()
    return response
