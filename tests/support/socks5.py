"""A small SOCKS5 server on 127.0.0.1 for tests: records every CONNECT, maps names to ports.

It stands in for Tor in fast unit tests of the crawler's SOCKS layer: it records the
address type, host name and username each CONNECT carried (so a test can prove names are
sent unresolved and circuits isolated per host), can answer chosen hosts with a given
SOCKS/Tor error code, and answers plain HTTP like a Tor SocksPort does.

To play a Tor restart: ``port=`` binds a given port (start a new server where the old one
listened), ``fail_after=N`` makes the server drop every connection after its N-th CONNECT
without a word (as a tor that is shutting down), and ``close()`` stops listening.
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import struct
import threading
from dataclasses import dataclass, field


@dataclass
class ConnectRecord:
    atyp: int
    host: str
    port: int
    username: str | None


@dataclass
class SocksConfig:
    routes: dict[str, int] = field(default_factory=dict)  # host -> local port
    errors: dict[str, int] = field(default_factory=dict)  # host -> reply code
    records: list[ConnectRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fail_after: int | None = None  # drop every connection after this many CONNECTs
    failing: threading.Event = field(default_factory=threading.Event)


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        with contextlib.suppress(ConnectionError, OSError):
            self._handle(sock)

    def _handle(self, sock: socket.socket) -> None:
        if self.server.config.failing.is_set():
            return  # closed without a word, like a SOCKS port whose tor is going away
        first = _read_exact(sock, 1)
        if first != b"\x05":  # HTTP sent to a SOCKS port: answer as Tor does
            sock.sendall(b"HTTP/1.0 501 Tor is not an HTTP Proxy\r\n\r\n")
            return
        nmethods = _read_exact(sock, 1)[0]
        methods = _read_exact(sock, nmethods)
        username = None
        if 2 in methods:
            sock.sendall(b"\x05\x02")
            _read_exact(sock, 1)
            username = _read_exact(sock, _read_exact(sock, 1)[0]).decode()
            _read_exact(sock, _read_exact(sock, 1)[0])
            sock.sendall(b"\x01\x00")
        else:
            sock.sendall(b"\x05\x00")
        _ver, _cmd, _rsv, atyp = _read_exact(sock, 4)
        if atyp == 3:
            host = _read_exact(sock, _read_exact(sock, 1)[0]).decode()
        elif atyp == 1:
            host = socket.inet_ntoa(_read_exact(sock, 4))
        else:
            host = socket.inet_ntop(socket.AF_INET6, _read_exact(sock, 16))
        port = struct.unpack(">H", _read_exact(sock, 2))[0]
        config = self.server.config
        with config.lock:
            config.records.append(ConnectRecord(atyp, host, port, username))
            if config.fail_after is not None and len(config.records) >= config.fail_after:
                config.failing.set()
        code = config.errors.get(host)
        target_port = config.routes.get(host)
        if code is None and target_port is None:
            code = 0x04
        if code:
            sock.sendall(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))
            return
        upstream = socket.create_connection(("127.0.0.1", target_port), timeout=10)
        sock.sendall(bytes([5, 0, 0, 1, 127, 0, 0, 1]) + struct.pack(">H", target_port))
        _pump(sock, upstream)


def _pump(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 30)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    finally:
        b.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, config: SocksConfig, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.config = config


class FakeTorSocks:
    """Context manager running the server in a thread; ``.port`` is where it listens."""

    def __init__(
        self,
        routes: dict[str, int] | None = None,
        errors: dict[str, int] | None = None,
        *,
        port: int = 0,
        fail_after: int | None = None,
    ):
        self.config = SocksConfig(
            routes=dict(routes or {}), errors=dict(errors or {}), fail_after=fail_after
        )
        self._server = _Server(self.config, port)
        self._closed = False
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def records(self) -> list[ConnectRecord]:
        with self.config.lock:
            return list(self.config.records)

    def __enter__(self) -> FakeTorSocks:
        self._thread.start()
        return self

    @property
    def failing(self) -> threading.Event:
        """Set once ``fail_after`` CONNECTs were seen: from then on, connections are dropped."""
        return self.config.failing

    def close(self) -> None:
        """Stop listening (idempotent): new connections are refused, as with a stopped tor."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __exit__(self, *exc: object) -> None:
        self.close()
