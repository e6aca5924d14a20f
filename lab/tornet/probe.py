"""One HTTP GET through a SOCKS5 proxy with remote name resolution (for .onion URLs).

Depends on PySocks and the standard library. The host name goes to the proxy unresolved:
nothing here ever resolves a name locally.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import socks


class _SocksHTTPConnection(http.client.HTTPConnection):
    """An HTTPConnection whose socket is a PySocks socket (rdns) instead of a direct one."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        socks_host: str,
        socks_port: int,
        socks_username: str | None,
        timeout: float,
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._socks = (socks_host, socks_port, socks_username)

    def connect(self) -> None:
        socks_host, socks_port, username = self._socks
        sock = socks.socksocket()
        sock.settimeout(self.timeout)
        # SOCKS5 username/password auth needs both; tor only uses them to isolate circuits.
        password = "onionlab" if username is not None else None
        sock.set_proxy(
            socks.SOCKS5, socks_host, socks_port, rdns=True, username=username, password=password
        )
        try:
            sock.connect((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def http_get_via_socks(
    socks_host: str,
    socks_port: int,
    url: str,
    *,
    timeout: float = 10.0,
    socks_username: str | None = None,
) -> tuple[int, bytes]:
    """GET ``url`` (http only) through a SOCKS5 proxy; return (status, body).

    Raises OSError subclasses on failure (PySocks' ProxyError, TimeoutError,
    ConnectionError); ValueError for a URL that is not plain http.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http://host/... URLs are supported, got {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    conn = _SocksHTTPConnection(
        parts.hostname,
        parts.port or 80,
        socks_host=socks_host,
        socks_port=socks_port,
        socks_username=socks_username,
        timeout=timeout,
    )
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read()
    except http.client.HTTPException as exc:
        # Keep the promise of OSError-only failures for callers' retry loops.
        raise ConnectionError(f"bad HTTP answer from {url}: {exc!r}") from exc
    finally:
        conn.close()
