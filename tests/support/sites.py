"""A tiny threaded HTTP site on 127.0.0.1 for crawler tests; records the headers it receives."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers.items())))
        self.server.times.append(time.monotonic())
        if self.server.delay:
            time.sleep(self.server.delay)
        if self.path == "/mirrors.txt" and self.server.mirrors_txt is not None:
            self._send(self.server.mirrors_txt.encode(), "text/plain; charset=utf-8")
            return
        if self.path in self.server.files:
            self._send(self.server.files[self.path].encode(), "text/plain; charset=utf-8")
            return
        number = int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/p/") else 0
        if self.path == "/" and self.server.mirrors_txt is not None:
            links = '<a href="/mirrors.txt">mirrors</a>'
        else:
            links = ""
        links += "".join(
            f'<a href="/p/{i}">page {i}</a>'
            for i in range(number + 1, min(number + 3, self.server.pages))
        )
        body = f"<html><head><title>page {number}</title></head><body>{links}</body></html>"
        self._send(body.encode(), "text/html; charset=utf-8")

    def _send(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _Site(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        pages: int,
        delay: float = 0.0,
        mirrors_txt: str | None = None,
        files: dict[str, str] | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages = pages
        self.delay = delay
        self.mirrors_txt = mirrors_txt
        self.files = dict(files or {})
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.times: list[float] = []  # when each request arrived (time.monotonic())


class LinkedSite:
    """Pages ``/`` and ``/p/1`` … ``/p/<pages-1>``, each linking to the next two; each
    answer waits ``delay`` seconds (after the request is logged) when given. With
    ``mirrors_txt``, ``/mirrors.txt`` serves it and the home page links to it; ``files``
    (path → text) are served as plain text too (e.g. the site's key at ``/pgp.txt``)."""

    def __init__(
        self,
        pages: int = 20,
        delay: float = 0.0,
        mirrors_txt: str | None = None,
        files: dict[str, str] | None = None,
    ) -> None:
        self._server = _Site(pages, delay, mirrors_txt, files)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        return list(self._server.requests)

    @property
    def times(self) -> list[float]:
        return list(self._server.times)

    def __enter__(self) -> LinkedSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
