"""The lab network's nodes on disk: names, directories, loopback ports, state records.

Standard library plus :mod:`.ports`, :mod:`.torrc` and :mod:`.process`. Each tor gets
``<tor_dir>/<nick>/`` holding its torrc, log, pid file and DataDirectory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ports import free_ports
from .process import TorProcess
from .torrc import NodeConfig, Role

HS_NICK = "hs"
CLIENT_NICK = "client"


@dataclass
class Node:
    """One tor of the lab: its configuration, identity and (once launched) process."""

    config: NodeConfig
    node_dir: Path
    fingerprint: str | None = None
    v3ident: str | None = None
    process: TorProcess | None = None

    @property
    def nick(self) -> str:
        return self.config.nick

    @property
    def role(self) -> Role:
        return self.config.role

    @property
    def torrc(self) -> Path:
        return self.node_dir / "torrc"

    @property
    def log(self) -> Path:
        return self.node_dir / "tor.log"

    @property
    def cookie(self) -> Path:
        # Tor's default CookieAuthFile location.
        return self.config.data_dir / "control_auth_cookie"

    def to_state(self) -> dict[str, Any]:
        """A JSON-able record of this node, read back by :func:`node_from_state`."""
        cfg = self.config
        return {
            "nick": cfg.nick,
            "role": str(cfg.role),
            "pid": self.process.pid if self.process else None,
            "dir": str(self.node_dir),
            "data_dir": str(cfg.data_dir),
            "torrc": str(self.torrc),
            "log": str(self.log),
            "pid_file": str(cfg.pid_file),
            "cookie": str(self.cookie),
            "control_port": cfg.control_port,
            "or_port": cfg.or_port,
            "dir_port": cfg.dir_port,
            "socks_port": cfg.socks_port,
            "fingerprint": self.fingerprint,
            "v3ident": self.v3ident,
        }


def node_from_state(record: dict[str, Any]) -> Node:
    """Rebuild a :class:`Node` (process known by pid only) from :meth:`Node.to_state`."""
    config = NodeConfig(
        nick=record["nick"],
        role=Role(record["role"]),
        data_dir=Path(record["data_dir"]),
        pid_file=Path(record["pid_file"]),
        control_port=int(record["control_port"]),
        or_port=record.get("or_port"),
        dir_port=record.get("dir_port"),
        socks_port=record.get("socks_port"),
    )
    node = Node(
        config=config,
        node_dir=Path(record["dir"]),
        fingerprint=record.get("fingerprint"),
        v3ident=record.get("v3ident"),
    )
    if record.get("pid"):
        node.process = TorProcess(pid=int(record["pid"]), torrc=node.torrc, log=node.log)
    return node


def plan_nodes(tor_dir: Path, authorities: int, relays: int) -> list[Node]:
    """Name every node, give it a directory and free loopback ports (nothing is started)."""
    roles = [(f"auth{i}", Role.AUTHORITY) for i in range(authorities)]
    roles += [(f"relay{i}", Role.RELAY) for i in range(relays)]
    roles += [(HS_NICK, Role.HS), (CLIENT_NICK, Role.CLIENT)]
    needs = {Role.AUTHORITY: 3, Role.RELAY: 2, Role.HS: 1, Role.CLIENT: 2}
    ports = iter(free_ports(sum(needs[role] for _, role in roles)))
    nodes = []
    for nick, role in roles:
        node_dir = tor_dir / nick
        server = role in (Role.AUTHORITY, Role.RELAY)
        config = NodeConfig(
            nick=nick,
            role=role,
            data_dir=node_dir / "data",
            pid_file=node_dir / "tor.pid",
            control_port=next(ports),
            or_port=next(ports) if server else None,
            dir_port=next(ports) if role is Role.AUTHORITY else None,
            socks_port=next(ports) if role is Role.CLIENT else None,
        )
        nodes.append(Node(config=config, node_dir=node_dir))
    return nodes
