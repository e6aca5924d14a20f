"""SOCKS/Tor reply codes mapped to transient (retry) or permanent failures, with plain words.

Tor sends the onion-specific codes F0–F7 only when the SocksPort has ``ExtendedErrors``.
"""

from __future__ import annotations

from twisted.internet.error import ConnectError

# code -> (meaning, permanent?)
REPLY_CODES: dict[int, tuple[str, bool]] = {
    0x01: ("general SOCKS server failure", False),
    0x02: ("connection not allowed by the proxy's rules", True),
    0x03: ("network unreachable", False),
    0x04: ("host unreachable", False),
    0x05: ("connection refused by the destination", False),
    0x06: ("TTL expired (circuit timed out)", False),
    0x07: ("command not supported by the proxy", True),
    0x08: ("address type not supported by the proxy", True),
    0xF0: ("onion service descriptor not found (service down or not yet published)", False),
    0xF1: ("onion service descriptor is invalid", True),
    0xF2: ("onion service introduction failed", False),
    0xF3: ("onion service rendezvous failed", False),
    0xF4: ("onion service needs client authorization", True),
    0xF5: ("onion service client authorization is wrong", True),
    0xF6: ("invalid onion address", True),
    0xF7: ("onion service introduction timed out", False),
}


class SocksError(Exception):
    """A SOCKS handshake that failed; ``code`` is the proxy's reply code (None: no reply)."""

    permanent = False

    def __init__(self, message: str, code: int | None = None, host: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.host = host


class SocksTransientError(SocksError, ConnectError):
    """Worth retrying: Tor may build another circuit or the descriptor may appear."""


class SocksPermanentError(SocksError):
    """Retrying cannot help: a bad address, missing authorization, a proxy refusing us."""

    permanent = True


def error_for_reply(code: int, host: str) -> SocksError:
    """Return the exception for a non-zero SOCKS reply ``code`` when connecting to ``host``."""
    meaning, permanent = REPLY_CODES.get(code, (f"unknown SOCKS reply 0x{code:02X}", False))
    cls = SocksPermanentError if permanent else SocksTransientError
    return cls(f"Tor could not reach {host}: {meaning} (SOCKS reply 0x{code:02X})", code, host)
