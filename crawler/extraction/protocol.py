"""What crosses the pipes between the crawl and an extraction worker, and the culprit page.

A frame to a worker is a ``!II`` header (lengths of a JSON header and of the page body), the
JSON and the body (:func:`task_of` encodes a response, :func:`response_of` rebuilds it); a
frame back is a ``!I`` length and a JSON document (ASCII: even lone surrogates escaped).
The culprit page is a small shared memory page the worker writes the name of the running
plugin into before each call, so the crawl can name it when it kills the worker. Used by
both sides (:mod:`onionlab.crawler.extraction.worker`, :mod:`onionlab.crawler.extraction.pool`);
depends on Scrapy only.
"""

from __future__ import annotations

import asyncio
import json
import mmap
import os
import struct
from typing import Any

from scrapy.http import HtmlResponse, TextResponse, XmlResponse

CULPRIT_SIZE = 128
HEADER = struct.Struct("!II")
LENGTH = struct.Struct("!I")

_RESPONSE_TYPES: dict[str, type[TextResponse]] = {
    cls.__name__: cls for cls in (TextResponse, HtmlResponse, XmlResponse)
}


def task_of(response: TextResponse) -> tuple[dict[str, Any], bytes]:
    """The frame header and body that rebuild ``response`` in a worker."""
    cls = type(response)
    name = cls.__name__ if _RESPONSE_TYPES.get(cls.__name__) is cls else "HtmlResponse"
    headers = [
        [key.decode("latin-1"), value.decode("latin-1")]
        for key, values in response.headers.items()
        for value in values
    ]
    header = {"url": response.url, "status": response.status, "headers": headers, "cls": name}
    return header, response.body


def response_of(header: dict[str, Any], body: bytes) -> TextResponse:
    """Rebuild the response :func:`task_of` described."""
    cls = _RESPONSE_TYPES.get(header.get("cls", ""), HtmlResponse)
    headers: dict[str, list[str]] = {}
    for key, value in header.get("headers", ()):
        headers.setdefault(key, []).append(value)
    return cls(header["url"], status=int(header.get("status", 200)), headers=headers, body=body)


def read_exactly(stream: Any, size: int) -> bytes:
    """``size`` bytes of a blocking stream; EOFError at its end."""
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def write_frame(out: Any, message: dict[str, Any]) -> None:
    """Write one answer frame and flush it."""
    data = json.dumps(message).encode("ascii")  # escapes even lone surrogates
    out.write(LENGTH.pack(len(data)) + data)
    out.flush()


async def read_frame(stream: asyncio.StreamReader) -> dict[str, Any]:
    """Read one answer frame from a worker's stdout."""
    (length,) = LENGTH.unpack(await stream.readexactly(LENGTH.size))
    message: dict[str, Any] = json.loads(await stream.readexactly(length))
    return message


def culprit_of(culprit: mmap.mmap) -> str:
    """The name written into the culprit page (empty between pages)."""
    return culprit[:CULPRIT_SIZE].split(b"\0", 1)[0].decode("utf-8", "replace")


def rss_kb(pid: int | str = "self") -> int:
    """A process's resident memory, in kB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGESIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0
