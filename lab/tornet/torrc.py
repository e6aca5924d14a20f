"""Rendering the torrc of each lab role: authority, relay, onion-service host, client.

Pure functions; standard library plus :mod:`.ports` (the loopback address). Every torrc
rendered here is bound to the local test network: ``TestingTorNetwork 1``, only the
local ``DirAuthority`` lines, no default fallback directories, every listener on
``127.0.0.1:PORT`` (or ``0`` = off).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .ports import LOOPBACK

# 10-second voting: 20-second voting got votes "received too late" under load.
VOTING_INTERVAL = 10
VOTE_DELAY = 2
DIST_DELAY = 2
VOTING: tuple[tuple[str, str], ...] = (
    ("V3AuthVotingInterval", str(VOTING_INTERVAL)),
    ("V3AuthVoteDelay", str(VOTE_DELAY)),
    ("V3AuthDistDelay", str(DIST_DELAY)),
    ("V3AuthNIntervalsValid", "2"),
    ("TestingV3AuthInitialVotingInterval", str(VOTING_INTERVAL)),
    ("TestingV3AuthInitialVoteDelay", str(VOTE_DELAY)),
    ("TestingV3AuthInitialDistDelay", str(DIST_DELAY)),
)
# Seconds from launch until every relay's descriptor has reached the authorities
# (measured 1.3–2.1 s on a 2-core box; the rest is headroom for a loaded machine).
DESCRIPTOR_LEAD = 3.5


def voting_offset(launch_time: float) -> int:
    """Return a ``TestingV3AuthVotingStartOffset`` that puts the first vote just after
    every relay has posted its descriptor, for tors launched at ``launch_time`` (epoch s).

    With offset 0 votes happen at wall-clock multiples of the interval, so a start at an
    unlucky second misses the first vote and waits a whole extra interval.
    """
    first_valid_after = launch_time + DESCRIPTOR_LEAD + VOTE_DELAY + DIST_DELAY
    return math.ceil(first_valid_after) % VOTING_INTERVAL


class Role(StrEnum):
    """What a tor process does in the lab."""

    AUTHORITY = "authority"
    RELAY = "relay"
    HS = "hs"
    CLIENT = "client"


@dataclass(frozen=True)
class AuthorityEntry:
    """What every lab tor must know of one local directory authority."""

    nick: str
    or_port: int
    dir_port: int
    v3ident: str
    fingerprint: str

    def dir_authority_value(self) -> str:
        """The value of this authority's ``DirAuthority`` torrc line."""
        return (
            f"{self.nick} orport={self.or_port} no-v2 v3ident={self.v3ident} "
            f"{LOOPBACK}:{self.dir_port} {self.fingerprint}"
        )


@dataclass(frozen=True)
class NodeConfig:
    """Where one tor keeps its files and which loopback ports it listens on."""

    nick: str
    role: Role
    data_dir: Path
    pid_file: Path
    control_port: int
    or_port: int | None = None
    dir_port: int | None = None
    socks_port: int | None = None


def render_torrc(
    node: NodeConfig, authorities: Sequence[AuthorityEntry], *, voting_offset: int = 0
) -> str:
    """Return the torrc text for ``node`` in a network of ``authorities``.

    ``voting_offset`` (see :func:`voting_offset`) matters to authorities only and must be
    the same for all of them. Raises ValueError when there is no local authority (tor
    would otherwise use the public ones) or a port the role needs is missing.
    """
    options = torrc_options(node, authorities, voting_offset=voting_offset)
    return "".join(f"{key} {value}".rstrip() + "\n" for key, value in options)


def torrc_options(
    node: NodeConfig, authorities: Sequence[AuthorityEntry], *, voting_offset: int = 0
) -> list[tuple[str, str]]:
    """Return the (option, value) pairs of ``node``'s torrc, in order."""
    if not authorities:
        raise ValueError("a lab torrc needs at least one local DirAuthority")
    if not 0 <= voting_offset < VOTING_INTERVAL:
        raise ValueError(f"voting_offset must be in [0, {VOTING_INTERVAL}), got {voting_offset}")
    options = _common_options(node, authorities)
    if node.role in (Role.AUTHORITY, Role.RELAY):
        options += _server_options(node)
    if node.role is Role.AUTHORITY:
        options += [
            ("DirPort", _loopback(node.dir_port, "DirPort", node)),
            ("AuthoritativeDirectory", "1"),
            ("V3AuthoritativeDirectory", "1"),
            *VOTING,
            ("TestingV3AuthVotingStartOffset", str(voting_offset)),
        ]
    elif node.role is Role.RELAY:
        # A caching relay 404s microdescriptors early on and costs clients a 10 s retry.
        options.append(("DirCache", "0"))
    if node.role is Role.CLIENT:
        socks = _loopback(node.socks_port, "SocksPort", node)
        options.append(("SocksPort", f"{socks} ExtendedErrors IsolateSOCKSAuth"))
    else:
        options.append(("SocksPort", "0"))
    return options


def _common_options(
    node: NodeConfig, authorities: Sequence[AuthorityEntry]
) -> list[tuple[str, str]]:
    return [
        ("TestingTorNetwork", "1"),
        *(("DirAuthority", auth.dir_authority_value()) for auth in authorities),
        ("UseDefaultFallbackDirs", "0"),
        ("Nickname", node.nick),
        ("DataDirectory", str(node.data_dir)),
        ("PidFile", str(node.pid_file)),
        ("Log", "notice stdout"),
        ("SafeLogging", "0"),
        ("ControlPort", _loopback(node.control_port, "ControlPort", node)),
        ("CookieAuthentication", "1"),
        ("ClientUseIPv6", "0"),
        # KIST's default 10 ms run interval throttled onion throughput on loopback.
        ("KISTSchedRunInterval", "1"),
    ]


def _server_options(node: NodeConfig) -> list[tuple[str, str]]:
    return [
        ("ORPort", _loopback(node.or_port, "ORPort", node)),
        ("Address", LOOPBACK),
        ("AddressDisableIPv6", "1"),
        ("ExitRelay", "0"),
        # TestingTorNetwork does not imply it: without it relays miss the first consensus.
        ("AssumeReachable", "1"),
        ("ContactInfo", f"onionlab lab {node.role} {node.nick}"),
        # Relays otherwise send DNS self-test queries for public names.
        ("ServerDNSDetectHijacking", "0"),
        ("ServerDNSTestAddresses", ""),
        ("ServerDNSResolvConfFile", "/dev/null"),
    ]


def _loopback(port: int | None, option: str, node: NodeConfig) -> str:
    if port is None or not 0 < port < 65536:
        raise ValueError(f"{node.role} {node.nick} needs a valid {option}, got {port!r}")
    return f"{LOOPBACK}:{port}"
