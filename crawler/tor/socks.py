"""A Twisted SOCKS5 client endpoint that sends the host name unresolved (remote DNS).

The endpoint connects to the proxy's loopback address by IP, so no name is ever looked
up locally; the destination travels inside the SOCKS CONNECT as a domain name (ATYP 3).
Depends on Twisted only.
"""

from __future__ import annotations

import struct
from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IProtocolFactory, IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure
from zope.interface import implementer

from onionlab.crawler.tor.errors import SocksPermanentError, SocksTransientError, error_for_reply

_NO_AUTH = 0x00
_USER_PASS = 0x02
_ADDR_LENGTHS = {0x01: 4, 0x04: 16}


class _SocksHandshake(Protocol):
    """Speaks SOCKS5 to the proxy, then hands the connection to the wrapped protocol."""

    def __init__(self, factory: _HandshakeFactory) -> None:
        self._factory = factory
        self._buffer = b""
        self._state = "method"
        self._inner: Protocol | None = None
        self.ready: Deferred[Protocol] = Deferred()

    def connectionMade(self) -> None:
        method = _USER_PASS if self._factory.username is not None else _NO_AUTH
        self.transport.write(bytes([5, 1, method]))

    def dataReceived(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.dataReceived(data)
            return
        self._buffer += data
        try:
            self._advance()
        except Exception as exc:  # a malformed reply must fail this connection, not the reactor
            self._fail(exc)

    def _advance(self) -> None:
        host = self._factory.host
        if self._state == "method" and len(self._buffer) >= 2:
            version, method = self._buffer[0], self._buffer[1]
            self._buffer = self._buffer[2:]
            if version != 5:
                raise SocksPermanentError(
                    f"the proxy is not a SOCKS5 server (reply version {version})", None, host
                )
            if method == _USER_PASS and self._factory.username is not None:
                user, password = self._factory.username, self._factory.password or b"x"
                self.transport.write(
                    bytes([1, len(user)]) + user + bytes([len(password)]) + password
                )
                self._state = "auth"
            elif method == _NO_AUTH:
                self._send_connect()
            else:
                raise SocksPermanentError(
                    "the SOCKS proxy accepted none of our methods", None, host
                )
        if self._state == "auth" and len(self._buffer) >= 2:
            status = self._buffer[1]
            self._buffer = self._buffer[2:]
            if status != 0:
                raise SocksPermanentError(
                    "the SOCKS proxy rejected the isolation username", None, host
                )
            self._send_connect()
        if self._state == "connect" and len(self._buffer) >= 5:
            reply, atyp = self._buffer[1], self._buffer[3]
            if reply != 0:
                raise error_for_reply(reply, host)
            addr_len = _ADDR_LENGTHS.get(atyp, 1 + self._buffer[4])
            total = 4 + addr_len + 2
            if len(self._buffer) < total:
                return
            rest, self._buffer = self._buffer[total:], b""
            self._start_inner(rest)

    def _send_connect(self) -> None:
        name = self._factory.host.encode("idna")
        request = bytes([5, 1, 0, 3, len(name)]) + name + struct.pack(">H", self._factory.port)
        self.transport.write(request)
        self._state = "connect"

    def _start_inner(self, rest: bytes) -> None:
        self._state = "open"
        self._inner = self._factory.wrapped.buildProtocol(self.transport.getPeer())
        if self._inner is None:
            self._fail(SocksPermanentError("protocol factory refused the connection"))
            return
        self._inner.makeConnection(self.transport)
        self.ready.callback(self._inner)
        if rest:
            self._inner.dataReceived(rest)

    def _fail(self, exc: Exception) -> None:
        self._state = "failed"
        if not self.ready.called:
            self.ready.errback(Failure(exc))
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = Failure(ConnectionError())) -> None:  # noqa: B008
        if self._inner is not None:
            self._inner.connectionLost(reason)
        elif not self.ready.called:
            self.ready.errback(
                SocksTransientError(
                    f"the SOCKS proxy closed the connection during the handshake for "
                    f"{self._factory.host}",
                    None,
                    self._factory.host,
                )
            )


class _HandshakeFactory(Factory):
    def __init__(
        self,
        wrapped: IProtocolFactory,
        host: str,
        port: int,
        username: bytes | None,
        password: bytes | None,
    ) -> None:
        self.wrapped = wrapped
        self.host = host
        self.port = port
        self.username = username
        self.password = password

    def buildProtocol(self, addr: Any) -> _SocksHandshake:
        return _SocksHandshake(self)


@implementer(IStreamClientEndpoint)
class SocksClientEndpoint:
    """Connect to ``host:port`` through a SOCKS5 proxy reached by ``proxy_endpoint``.

    ``username``/``password`` are SOCKS credentials (with Tor's ``IsolateSOCKSAuth``, a
    distinct username gets a distinct circuit); they never reach the destination.
    """

    def __init__(
        self,
        proxy_endpoint: IStreamClientEndpoint,
        host: str,
        port: int,
        *,
        username: bytes | None = None,
        password: bytes | None = None,
        proxy_label: str = "the SOCKS proxy",
    ) -> None:
        if username is not None and not 0 < len(username) < 256:
            raise ValueError("SOCKS username must be 1-255 bytes")
        self._proxy = proxy_endpoint
        self._factory_args = (host, port, username, password)
        self._proxy_label = proxy_label
        self._host = host

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[Protocol]:
        factory = _HandshakeFactory(protocolFactory, *self._factory_args)
        connecting: Deferred[_SocksHandshake] = self._proxy.connect(factory)
        handshakes: list[_SocksHandshake] = []

        def cancel(_: Deferred[Protocol]) -> None:
            if handshakes:
                handshakes[0].transport.abortConnection()
            else:
                connecting.cancel()

        result: Deferred[Protocol] = Deferred(cancel)

        def connected(handshake: _SocksHandshake) -> None:
            handshakes.append(handshake)
            handshake.ready.addCallbacks(result.callback, _errback_unless_done)

        def _errback_unless_done(failure: Failure) -> None:
            if not result.called:
                result.errback(failure)

        def connect_failed(failure: Failure) -> None:
            if result.called or failure.check(CancelledError):
                return
            result.errback(
                SocksTransientError(
                    f"cannot connect to Tor's SOCKS port {self._proxy_label} "
                    f"({failure.getErrorMessage()}): is the lab up? `onionlab up` starts it",
                    None,
                    self._host,
                )
            )

        connecting.addCallbacks(connected, connect_failed)
        return result
