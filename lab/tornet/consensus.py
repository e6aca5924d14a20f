"""Which relays a local directory authority's current microdescriptor consensus lists.

Standard library only; talks HTTP to an authority's DirPort on 127.0.0.1 and nowhere else.
"""

from __future__ import annotations

import base64
import http.client

from .ports import LOOPBACK

CONSENSUS_PATH = "/tor/status-vote/current/consensus-microdesc"


def fetch_consensus(dir_port: int, *, timeout: float = 3.0) -> str | None:
    """Return the authority's microdesc consensus text, or None while it has none (404).

    Connection errors propagate as OSError: the authority may not be listening yet.
    """
    # http.client, not urllib: urllib would honour http_proxy from the environment.
    conn = http.client.HTTPConnection(LOOPBACK, dir_port, timeout=timeout)
    try:
        conn.request("GET", CONSENSUS_PATH)
        response = conn.getresponse()
        body = response.read()
    except http.client.HTTPException as exc:
        raise ConnectionError(f"bad answer from DirPort {dir_port}: {exc!r}") from exc
    finally:
        conn.close()
    if response.status != 200:
        return None
    return body.decode("utf-8", errors="replace")


def listed_fingerprints(consensus: str) -> set[str]:
    """Return the upper-case hex RSA fingerprints of every ``r`` line in a microdesc consensus."""
    fingerprints = set()
    for line in consensus.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "r":
            identity = parts[2] + "=" * (-len(parts[2]) % 4)
            fingerprints.add(base64.b64decode(identity).hex().upper())
    return fingerprints
