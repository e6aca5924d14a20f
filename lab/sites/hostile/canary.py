"""The lab's canary: a listener on 127.0.0.1 that records every connection made to it.

Every off-site redirect, link, refresh and sub-resource of the hostile site points here.
A crawler that keeps to Tor never connects; one that leaks (follows a redirect to
loopback, fetches an ``<img>`` directly, …) shows up as one NDJSON line per connection in
the canary log (``<lab dir>/canary.ndjson``): ``at`` (UTC), ``peer``, and the request line
and ``Host`` header it sent, if any. Bounded: at most 64 connections are read at once
(others are recorded and closed), 4 KiB and 2 s per connection, 100,000 lines per log.
``canary_count(path)`` reads the count back. Depends on the standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

MAX_LINES = 100_000
MAX_OPEN = 64
_ANSWER = (
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    b"onionlab canary: this connection did not go through Tor and was recorded.\n"
)


class Canary:
    """An asyncio TCP listener writing one line per accepted connection to ``log``."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.count = 0
        self._open = 0
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> str:
        """Listen on ``host:port`` (0: a free port); return the bound ``IP:PORT``."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        self._server = await asyncio.start_server(self._handle, host, port, backlog=128)
        bound = self._server.sockets[0].getsockname()
        return f"{bound[0]}:{bound[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)
            self._server = None

    def _record(self, peer: object, request: str, host: str) -> None:
        self.count += 1
        if self.count > MAX_LINES:
            return
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "peer": f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
            "request": request,
            "host": host,
        }
        with self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if self._open >= MAX_OPEN:
            self._record(peer, "", "")
            writer.close()
            return
        self._open += 1
        request, host = "", ""
        try:
            with contextlib.suppress(TimeoutError, OSError, asyncio.IncompleteReadError):
                head = await asyncio.wait_for(reader.read(4096), timeout=2)
                lines = head.decode("latin-1").split("\r\n")
                request = lines[0][:300]
                for line in lines[1:]:
                    if line.lower().startswith("host:"):
                        host = line[5:].strip()[:300]
                        break
            self._record(peer, request, host)
            with contextlib.suppress(OSError):
                writer.write(_ANSWER)
                await asyncio.wait_for(writer.drain(), timeout=2)
        finally:
            self._open -= 1
            with contextlib.suppress(OSError):
                writer.close()


def canary_count(log: Path) -> int:
    """How many connections the canary log at ``log`` records (0 if there is none)."""
    try:
        with log.open("rb") as lines:
            return sum(1 for line in lines if line.strip())
    except FileNotFoundError:
        return 0
