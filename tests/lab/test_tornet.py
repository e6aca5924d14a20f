"""Tests of the lab's private Tor network (onionlab.lab.tornet).

Pure tests (keys, torrc rendering, parsing, ports) need no tor. The ``tor``-marked tests
share ONE network started by a module-scoped fixture; they run in file order and the
last one stops the network from another process.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from stem.control import Controller

from onionlab.lab.tornet import consensus
from onionlab.lab.tornet.network import TorNetwork, TorNetworkError
from onionlab.lab.tornet.onion_keys import derive_service_key, onion_address
from onionlab.lab.tornet.ports import free_ports
from onionlab.lab.tornet.probe import http_get_via_socks
from onionlab.lab.tornet.torrc import (
    DESCRIPTOR_LEAD,
    DIST_DELAY,
    VOTE_DELAY,
    VOTING_INTERVAL,
    AuthorityEntry,
    NodeConfig,
    Role,
    render_torrc,
    voting_offset,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TCP_LISTEN = "0A"


# -- helpers -------------------------------------------------------------------------


def torrc_lines(text: str) -> list[tuple[str, str]]:
    """(option, value) pairs of a torrc, comments and blank lines dropped."""
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            pairs.append((key, value.strip()))
    return pairs


def assert_lab_safe_torrc(text: str, authorities: int) -> None:
    """The invariants that keep a lab tor off the public network and off non-loopback."""
    pairs = torrc_lines(text)
    keys = [key.lower() for key, _ in pairs]
    assert ("TestingTorNetwork", "1") in pairs
    assert ("UseDefaultFallbackDirs", "0") in pairs
    assert "fallbackdir" not in keys
    dir_authorities = [value for key, value in pairs if key.lower() == "dirauthority"]
    assert len(dir_authorities) == authorities
    for value in dir_authorities:
        fields = value.split()
        addresses = [f for f in fields if ":" in f and not f.startswith("orport")]
        assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), value
    for key, value in pairs:
        if key.lower().endswith("port"):
            address = value.split()[0]
            assert address == "0" or address.startswith("127.0.0.1:"), f"{key} {value}"


def inet_sockets_of(pid: int) -> list[tuple[str, str, str, int, str, int]]:
    """(table, local ip, state, local port, remote ip, remote port) of a process's sockets."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[9] not in inodes:
                continue
            local_ip, local_port = _proc_net_address(fields[1])
            remote_ip, remote_port = _proc_net_address(fields[2])
            found.append((table, local_ip, fields[3], local_port, remote_ip, remote_port))
    return found


def _proc_net_address(text: str) -> tuple[str, int]:
    # /proc/net/tcp* print each 32-bit word of the address in host (little-endian) order.
    hex_ip, hex_port = text.split(":")
    raw = bytes.fromhex(hex_ip)
    packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    ip = ipaddress.ip_address(packed)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip), int(hex_port, 16)


# -- pure tests (no tor) ---------------------------------------------------------------


def test_onion_address_is_deterministic_per_seed_and_name() -> None:
    onion = onion_address(derive_service_key(7, "market"))
    assert onion == onion_address(derive_service_key(7, "market"))
    assert onion != onion_address(derive_service_key(8, "market"))
    assert onion != onion_address(derive_service_key(7, "forum"))
    assert onion.endswith(".onion") and len(onion) == 56 + len(".onion")


def _fake_authorities(count: int) -> list[AuthorityEntry]:
    return [
        AuthorityEntry(f"auth{i}", 5000 + i, 5100 + i, f"{i:040X}", f"{i + 100:040X}")
        for i in range(count)
    ]


def _fake_node(role: Role) -> NodeConfig:
    server = role in (Role.AUTHORITY, Role.RELAY)
    return NodeConfig(
        nick=f"x{role}",
        role=role,
        data_dir=Path("/nonexistent/data"),
        pid_file=Path("/nonexistent/tor.pid"),
        control_port=6000,
        or_port=6001 if server else None,
        dir_port=6002 if role is Role.AUTHORITY else None,
        socks_port=6003 if role is Role.CLIENT else None,
    )


@pytest.mark.parametrize("role", list(Role))
def test_torrc_of_every_role_has_the_safety_lines(role: Role) -> None:
    text = render_torrc(_fake_node(role), _fake_authorities(3), voting_offset=4)
    pairs = torrc_lines(text)
    assert_lab_safe_torrc(text, authorities=3)
    assert ("ControlPort", "127.0.0.1:6000") in pairs
    assert ("CookieAuthentication", "1") in pairs
    socks = [value for key, value in pairs if key == "SocksPort"]
    if role is Role.CLIENT:
        assert socks == ["127.0.0.1:6003 ExtendedErrors IsolateSOCKSAuth"]
    else:
        assert socks == ["0"], "a non-client tor must not open tor's default SocksPort 9050"
    if role in (Role.AUTHORITY, Role.RELAY):
        for line in [
            ("ORPort", "127.0.0.1:6001"),
            ("Address", "127.0.0.1"),
            ("ExitRelay", "0"),
            ("AssumeReachable", "1"),
            ("ServerDNSDetectHijacking", "0"),
            ("ServerDNSTestAddresses", ""),
            ("ServerDNSResolvConfFile", "/dev/null"),
        ]:
            assert line in pairs
    else:
        assert not any(key in ("ORPort", "DirPort") for key, _ in pairs)
    if role is Role.AUTHORITY:
        for line in [
            ("DirPort", "127.0.0.1:6002"),
            ("AuthoritativeDirectory", "1"),
            ("V3AuthoritativeDirectory", "1"),
            ("V3AuthVotingInterval", "10"),
            ("TestingV3AuthVotingStartOffset", "4"),
        ]:
            assert line in pairs
    if role is Role.RELAY:
        assert ("DirCache", "0") in pairs


def test_torrc_without_local_authority_is_refused() -> None:
    with pytest.raises(ValueError, match="DirAuthority"):
        render_torrc(_fake_node(Role.CLIENT), [])


def test_torrc_refuses_a_missing_port() -> None:
    node = _fake_node(Role.CLIENT)
    broken = NodeConfig(node.nick, node.role, node.data_dir, node.pid_file, 6000)
    with pytest.raises(ValueError, match="SocksPort"):
        render_torrc(broken, _fake_authorities(1))


@pytest.mark.parametrize("launch", [1_000_000.0, 1_000_003.2, 1_000_006.5, 1_000_009.99])
def test_voting_offset_puts_the_first_vote_just_after_the_lead(launch: float) -> None:
    offset = voting_offset(launch)
    assert 0 <= offset < VOTING_INTERVAL
    # Valid-after times fall on offset (mod interval); votes go out DELAYs before them.
    first_vote = next(
        t - VOTE_DELAY - DIST_DELAY
        for t in range(int(launch), int(launch) + 3 * VOTING_INTERVAL)
        if t % VOTING_INTERVAL == offset and t - VOTE_DELAY - DIST_DELAY >= launch + DESCRIPTOR_LEAD
    )
    assert first_vote < launch + DESCRIPTOR_LEAD + 1


def test_listed_fingerprints_reads_r_lines() -> None:
    fingerprints = ["54AAA814F0ECBF15495E2B6D16E186A86ABEAAFB", "00FF" * 10]
    # Consensus "r" lines carry the identity digest in base64 without padding.
    identities = [base64.b64encode(bytes.fromhex(fp)).decode().rstrip("=") for fp in fingerprints]
    text = (
        "network-status-version 3 microdesc\n"
        f"r auth0 {identities[0]} 2038-01-01 00:00:00 127.0.0.1 58101 40701\n"
        "s Authority Running Valid\n"
        f"r relay0 {identities[1]} 2038-01-01 00:00:00 127.0.0.1 46707 0\n"
        "m sha256=abc\n"
    )
    assert consensus.listed_fingerprints(text) == set(fingerprints)


def test_free_ports_are_distinct_and_bindable_on_loopback() -> None:
    ports = free_ports(8)
    assert len(set(ports)) == 8
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_proc_net_address_decodes_kernel_byte_order() -> None:
    assert _proc_net_address("0100007F:1F90") == ("127.0.0.1", 8080)
    assert _proc_net_address("00000000000000000000000001000000:0050") == ("::1", 80)
    assert _proc_net_address("0000000000000000FFFF00000100007F:0050") == ("127.0.0.1", 80)


def test_socket_inspection_sees_this_process_sockets() -> None:
    """The loopback check below is only as good as the inode mapping: prove it finds sockets."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            client_port = client.getsockname()[1]
            found = inet_sockets_of(os.getpid())
    assert ("tcp", "127.0.0.1", TCP_LISTEN, port, "0.0.0.0", 0) in found
    assert any(row[3] == client_port and row[4:] == ("127.0.0.1", port) for row in found)


# -- one real network for the tor tests -------------------------------------------------


class _LabHTTPServer(ThreadingHTTPServer):
    # http.server's default backlog of 5 stalls under concurrent onion fetches.
    request_queue_size = 128
    daemon_threads = True


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[int, bytes, list[str]]]:
    """A real threaded HTTP server on 127.0.0.1: (port, body it serves, paths it saw)."""
    body = f"onionlab tornet test page {secrets.token_hex(8)}\n".encode()
    seen: list[str] = []

    class PageHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _LabHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], body, seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tornet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TorNetwork]:
    messages: list[str] = []
    net = TorNetwork(tmp_path_factory.mktemp("tornet"), progress=messages.append)
    net.start(timeout=120)
    assert messages[-1].startswith("client bootstrapped 100%")
    yield net
    net.stop()


@pytest.mark.tor
def test_published_service_serves_the_page_through_the_client(
    tornet: TorNetwork, site: tuple[int, bytes, list[str]]
) -> None:
    port, body, seen = site
    key = derive_service_key(4242, "x")
    onion = tornet.publish(key, port)
    assert onion == onion_address(key)
    url = f"http://{onion}/probe?n=1"
    assert 0 <= tornet.wait_reachable(url, timeout=60) < 60
    status, answer = http_get_via_socks(
        "127.0.0.1", tornet.socks_port, url, timeout=20, socks_username="test-isolated"
    )
    assert (status, answer) == (200, body)
    assert "/probe?n=1" in seen


@pytest.mark.tor
def test_unpublish_removes_the_service(
    tornet: TorNetwork, site: tuple[int, bytes, list[str]]
) -> None:
    key = derive_service_key(4242, "short-lived")
    onion = tornet.publish(key, site[0])
    service_id = onion.removesuffix(".onion")
    with Controller.from_port(address="127.0.0.1", port=tornet.hs_control_port) as ctl:
        ctl.authenticate()
        assert service_id in ctl.get_info("onions/detached").split()
        tornet.unpublish(onion)
        assert service_id not in ctl.get_info("onions/detached").split()


@pytest.mark.tor
def test_client_control_port_answers_with_its_cookie(tornet: TorNetwork) -> None:
    with Controller.from_port(address="127.0.0.1", port=tornet.client_control_port) as ctl:
        ctl.authenticate()
        assert "PROGRESS=100" in ctl.get_info("status/bootstrap-phase")
    assert len(tornet.client_cookie_path.read_bytes()) == 32


@pytest.mark.tor
def test_every_tor_socket_is_on_loopback(tornet: TorNetwork) -> None:
    state = tornet.state()
    assert tornet.pids() and len(tornet.pids()) == len(state["nodes"])
    for node in state["nodes"]:
        sockets = inet_sockets_of(node["pid"])
        listening = {
            lport for table, _, st, lport, _, _ in sockets if table == "tcp" and st == TCP_LISTEN
        }
        # Not vacuous: every tor's ControlPort listener must be among what we checked.
        assert node["control_port"] in listening, node["nick"]
        for table, local_ip, st, lport, remote_ip, rport in sockets:
            where = f"{node['nick']} {table} {local_ip}:{lport} -> {remote_ip}:{rport}"
            assert local_ip == "127.0.0.1", where
            if table.startswith("tcp") and st == TCP_LISTEN:
                assert remote_ip == "0.0.0.0" and rport == 0, where
            else:
                assert remote_ip in ("127.0.0.1", "0.0.0.0"), where


@pytest.mark.tor
def test_every_written_torrc_is_bound_to_the_lab(tornet: TorNetwork) -> None:
    tor_dir = tornet.run_dir / "tor"
    torrcs = sorted(tor_dir.glob("*/torrc"))
    assert len(torrcs) == tornet.authorities + tornet.relays + 2
    for torrc in torrcs:
        assert_lab_safe_torrc(torrc.read_text(), authorities=tornet.authorities)
    defaults = tor_dir / "torrc-defaults"
    assert defaults.read_text() == ""
    for pid in tornet.pids():
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        assert argv[argv.index("--defaults-torrc") + 1] == str(defaults)


@pytest.mark.tor
def test_every_tor_runs_with_the_nodelay_shim(tornet: TorNetwork) -> None:
    """Debian's tor, started with the lab's TCP_NODELAY shim preloaded (tests/lab/test_nodelay.py
    shows what it does): the machines running the tests have a C compiler."""
    shim = str(tornet.run_dir / "tor" / "nodelay.so")
    pids = tornet.pids()
    assert len(pids) == 8
    for pid in pids:
        assert shim in Path(f"/proc/{pid}/maps").read_text(), pid
        assert Path(f"/proc/{pid}/exe").resolve().name == "tor"


@pytest.mark.tor
def test_tors_run_in_their_own_sessions(tornet: TorNetwork) -> None:
    for pid in tornet.pids():
        assert os.getsid(pid) == pid != os.getsid(0)


@pytest.mark.tor
def test_wait_reachable_gives_up_in_bounded_time(tornet: TorNetwork) -> None:
    never_published = onion_address(derive_service_key(4242, "never-published"))
    began = time.monotonic()
    with pytest.raises(TorNetworkError, match="no HTTP answer"):
        tornet.wait_reachable(f"http://{never_published}/", timeout=2)
    assert time.monotonic() - began < 2 + 2


_STOP_FROM_ANOTHER_PROCESS = """
import json, sys
from pathlib import Path
from onionlab.lab.tornet.network import TorNetwork, TorNetworkError
state = json.loads(Path(sys.argv[1]).read_text())
net = TorNetwork.attach(Path(state["run_dir"]), state)
before = net.is_running()
net.stop()
print(json.dumps({"before": before, "after": net.is_running(), "pids": net.pids()}))
"""


@pytest.mark.tor
def test_another_process_attaches_and_stops_the_network(tornet: TorNetwork, tmp_path: Path) -> None:
    """Runs last: it stops the shared network."""
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(tornet.state()))
    result = subprocess.run(
        [sys.executable, "-c", _STOP_FROM_ANOTHER_PROCESS, str(state_file)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report == {"before": True, "after": False, "pids": tornet.pids()}
    assert not tornet.is_running()  # also reaps our children
    for pid in tornet.pids():
        assert not Path(f"/proc/{pid}").exists(), f"tor {pid} still exists"


@pytest.mark.tor
def test_failed_start_stops_what_it_started(tmp_path: Path) -> None:
    """A start that cannot finish in time (no consensus within 4 s) cleans up after itself."""
    net = TorNetwork(tmp_path)
    with pytest.raises(TorNetworkError) as failure:
        net.start(timeout=4)
    message = str(failure.value)
    assert "consensus" in message and "tor.log" in message
    assert net.pids(), "the servers should have been launched before the timeout"
    assert not net.is_running()
    for pid in net.pids():
        assert not Path(f"/proc/{pid}").exists(), f"tor {pid} left running"
