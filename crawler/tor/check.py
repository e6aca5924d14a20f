"""Checks that the configured SOCKS port really is Tor before a crawl starts.

The onionscan trick: an HTTP request sent to a Tor SocksPort is answered with
"Tor is not an HTTP Proxy". Connects to a loopback IP literal only; no name lookup.
"""

from __future__ import annotations

import socket


class TorUnavailable(RuntimeError):
    """The SOCKS port is closed or is not Tor; the message says what to do."""


def check_socks_is_tor(host: str, port: int, *, timeout: float = 5.0) -> None:
    """Raise :class:`TorUnavailable` unless ``host:port`` is a Tor SOCKS port."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            reply = b""
            while len(reply) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except ConnectionRefusedError:
        raise TorUnavailable(
            f"Nothing is listening on Tor's SOCKS port {host}:{port}. "
            "Is the lab up? Start it with `onionlab up` (or pass --socks HOST:PORT)."
        ) from None
    except OSError as exc:
        raise TorUnavailable(f"Cannot talk to Tor's SOCKS port {host}:{port}: {exc}") from None
    if b"Tor is not an HTTP Proxy" not in reply:
        raise TorUnavailable(
            f"{host}:{port} answers, but it is not a Tor SOCKS port; refusing to crawl "
            "through it. Point --socks at the lab's Tor client (see `onionlab status`)."
        )
