"""Free TCP ports on 127.0.0.1 for the lab's tor processes.

Standard library only. Ports are picked at start-up because other processes on a shared
machine may hold any fixed port.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that were free on 127.0.0.1 a moment ago.

    All sockets stay bound until every port is read, so the kernel cannot hand out the
    same port twice within one call.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
