"""The lab's private Tor network: start it, publish onion services, probe, stop.

Orchestrates the other :mod:`onionlab.lab.tornet` modules (layout, keys, torrc, process,
consensus, control, probe) and :mod:`onionlab.lab.tornet.onion_keys`. Every tor binds 127.0.0.1
only and knows only the local authorities. The tor processes are detached: another
process can :meth:`TorNetwork.attach` to them from :meth:`TorNetwork.state` and stop them.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import stem
import stem.connection
from stem.control import Controller

from . import consensus, control, keys
from .layout import CLIENT_NICK, HS_NICK, Node, node_from_state, plan_nodes
from .nodelay import PreloadUnavailable, build_preload
from .onion_keys import onion_address, tor_key_blob
from .ports import LOOPBACK
from .probe import http_get_via_socks
from .process import TorProcess, launch_tor, log_tail, stop_processes
from .torrc import AuthorityEntry, Role, render_torrc, voting_offset
from .waiting import poll

STATE_SCHEMA = "onionlab-tornet/1"
# Fewer than four relays (authorities included) never make a consensus.
MIN_SERVERS = 4


class TorNetworkError(RuntimeError):
    """The lab's Tor network failed to start, publish or answer; the message says where."""


class TorNetwork:
    """Authorities, relays, one onion-service tor and one client tor on 127.0.0.1."""

    def __init__(
        self,
        run_dir: Path,
        *,
        authorities: int = 3,
        relays: int = 3,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if authorities < 1 or relays < 0 or authorities + relays < MIN_SERVERS:
            raise ValueError(
                f"need >= 1 authority and >= {MIN_SERVERS} relays counting authorities, "
                f"got {authorities} authorities + {relays} relays"
            )
        self.run_dir = Path(run_dir)
        self.authorities = authorities
        self.relays = relays
        self._progress = progress or (lambda _message: None)
        self._nodes: list[Node] = []

    # -- public API ------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        """Generate keys and torrcs, start every tor, wait for consensus and bootstrap.

        Authorities and relays start first; the onion-service and client tors start only
        once an authority's consensus lists every relay (earlier, they back off for up
        to 15 s). On failure everything started is stopped and TorNetworkError raised.
        """
        if self.is_running():
            raise TorNetworkError(f"the Tor network in {self.run_dir} is already running")
        began = time.monotonic()
        deadline = began + timeout
        try:
            self._prepare()
            servers = [n for n in self._nodes if n.role in (Role.AUTHORITY, Role.RELAY)]
            self._progress(
                f"starting {self.authorities} directory authorities and {self.relays} relays"
            )
            self._launch(servers)
            self._wait_for_consensus(servers, deadline)
            self._progress("starting the onion-service tor and the client tor")
            self._launch([self._node(HS_NICK), self._node(CLIENT_NICK)])
            self._wait_for_bootstrap(deadline)
            self._progress(f"client bootstrapped 100% ({time.monotonic() - began:.1f} s)")
        except TorNetworkError:
            self.stop()
            raise
        except Exception as exc:
            self.stop()
            raise TorNetworkError(f"starting the lab's Tor network failed: {exc}") from exc
        except BaseException:
            self.stop()
            raise

    def publish(
        self, key: bytes, target_port: int, *, virtual_port: int = 80, timeout: float = 60.0
    ) -> str:
        """Publish an onion service mapping ``virtual_port`` to 127.0.0.1:``target_port``.

        Uses the deterministic ``key`` (an ed25519 seed from :mod:`.onion_keys`) and waits
        until a directory has the descriptor. Returns ``'<56 chars>.onion'``.
        """
        expected = onion_address(key)
        hs = self._node(HS_NICK)
        with self._controller(hs, timeout) as controller:
            try:
                service_id = control.add_onion(
                    controller, tor_key_blob(key), virtual_port, target_port, timeout=timeout
                )
            except stem.Timeout as exc:
                raise self._error(
                    hs, f"{expected}: descriptor not published within {timeout:.0f} s"
                ) from exc
            except stem.ControllerError as exc:
                raise self._error(hs, f"publishing {expected} failed: {exc}") from exc
            onion = f"{service_id}.onion"
            if onion != expected:
                control.remove_onion(controller, service_id)
                raise TorNetworkError(f"tor published {onion}, expected {expected} for this key")
        return onion

    def unpublish(self, onion: str) -> None:
        """Remove a published onion service; unknown services are ignored."""
        hs = self._node(HS_NICK)
        with self._controller(hs, 10.0) as controller:
            try:
                control.remove_onion(controller, onion.removesuffix(".onion"))
            except stem.ControllerError as exc:
                raise self._error(hs, f"unpublishing {onion} failed: {exc}") from exc

    def wait_reachable(self, url: str, *, timeout: float = 60.0) -> float:
        """GET ``url`` through the client's SOCKS port about once a second until any HTTP
        answer; return the seconds it took. Raises TorNetworkError after ``timeout``."""
        began = time.monotonic()
        deadline = began + timeout
        last_error: Exception | None = None
        for _ in poll(timeout, 1.0):
            remaining = deadline - time.monotonic()
            try:
                http_get_via_socks(
                    LOOPBACK, self.socks_port, url, timeout=max(1.0, min(10.0, remaining))
                )
                return time.monotonic() - began
            except OSError as exc:
                # Expected until the descriptor reaches the HSDirs (tor's SOCKS error F0-F7).
                last_error = exc
        raise self._error(
            self._node(CLIENT_NICK),
            f"{url} gave no HTTP answer through SOCKS 127.0.0.1:{self.socks_port} "
            f"within {timeout:.0f} s (last error: {last_error!r})",
        )

    @property
    def socks_port(self) -> int:
        """The client tor's SOCKS5 port on 127.0.0.1."""
        port = self._node(CLIENT_NICK).config.socks_port
        if port is None:
            raise TorNetworkError("the client tor has no SocksPort")
        return port

    @property
    def client_control_port(self) -> int:
        """The client tor's ControlPort on 127.0.0.1 (cookie authentication)."""
        return self._node(CLIENT_NICK).config.control_port

    @property
    def client_cookie_path(self) -> Path:
        """The client tor's control cookie file."""
        return self._node(CLIENT_NICK).cookie

    @property
    def hs_control_port(self) -> int:
        """The onion-service tor's ControlPort on 127.0.0.1 (cookie authentication)."""
        return self._node(HS_NICK).config.control_port

    @property
    def hs_cookie_path(self) -> Path:
        """The onion-service tor's control cookie file."""
        return self._node(HS_NICK).cookie

    def pids(self) -> list[int]:
        """The pids of every tor this network launched."""
        return [n.process.pid for n in self._nodes if n.process is not None]

    def state(self) -> dict[str, Any]:
        """A JSON-able description (ports, pids, dirs, cookies) for :meth:`attach`."""
        if not self._nodes:
            raise TorNetworkError("the Tor network has not been started")
        return {
            "schema": STATE_SCHEMA,
            "run_dir": str(self.run_dir),
            "authorities": self.authorities,
            "relays": self.relays,
            "socks": {"host": LOOPBACK, "port": self.socks_port},
            "client_control": {
                "host": LOOPBACK,
                "port": self.client_control_port,
                "cookie": str(self.client_cookie_path),
            },
            "hs_control": {
                "host": LOOPBACK,
                "port": self.hs_control_port,
                "cookie": str(self.hs_cookie_path),
            },
            "nodes": [node.to_state() for node in self._nodes],
        }

    @classmethod
    def attach(cls, run_dir: Path, state: dict[str, Any]) -> TorNetwork:
        """Rebuild a handle on a network started by another process, from its :meth:`state`."""
        if state.get("schema") != STATE_SCHEMA:
            raise TorNetworkError(f"unknown Tor network state schema {state.get('schema')!r}")
        network = cls(run_dir, authorities=state["authorities"], relays=state["relays"])
        network._nodes = [node_from_state(record) for record in state["nodes"]]
        return network

    def is_running(self) -> bool:
        """True when every tor of the network is alive."""
        launched = [n.process for n in self._nodes if n.process is not None]
        # Ask every process (no short-circuit): asking is what reaps our own dead children.
        alive = [proc.is_alive() for proc in launched]
        return bool(alive) and len(alive) == len(self._nodes) and all(alive)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every tor, wait up to ``timeout`` s, SIGKILL stragglers. Idempotent."""
        processes = [n.process for n in self._nodes if n.process is not None]
        survivors = stop_processes(processes, timeout)
        if survivors:
            pids = ", ".join(str(proc.pid) for proc in survivors)
            raise TorNetworkError(f"tor processes survived SIGKILL: {pids}")

    def restart_client(self, *, down_for: float = 0.0, timeout: float = 60.0) -> float:
        """Stop the client tor (the one crawlers use), wait ``down_for`` s, start it again.

        The same torrc, ports and data directory, so its SOCKS and control ports come back
        where they were (a trainee's "Tor restarted under my crawl"). Returns the seconds
        from the restart until the client had bootstrapped again.
        """
        client = self._node(CLIENT_NICK)
        if client.process is not None and stop_processes([client.process], 10.0):
            raise self._error(client, f"the client tor (pid {client.process.pid}) did not stop")
        time.sleep(max(0.0, down_for))
        started = time.monotonic()
        client.process = launch_tor(
            client.torrc, self.run_dir / "tor" / "torrc-defaults", client.log,
            preload=self._preload(),
        )  # fmt: skip
        self._wait_for_bootstrap(time.monotonic() + timeout)
        return time.monotonic() - started

    # -- start-up phases -------------------------------------------------------------

    def _prepare(self) -> None:
        tor_dir = self.run_dir / "tor"
        self._refuse_if_leftover_running(tor_dir)
        shutil.rmtree(tor_dir, ignore_errors=True)
        tor_dir.mkdir(parents=True)
        # Replaces /etc/tor/torrc-defaults, so no system-wide setting reaches a lab tor.
        defaults = tor_dir / "torrc-defaults"
        defaults.write_text("")
        try:
            build_preload(tor_dir)
            self._progress("tor's sockets without Nagle's delay (TCP_NODELAY shim built)")
        except PreloadUnavailable as exc:
            self._progress(f"warning: {exc}; pages will take 50-130 ms by the relays' timing")
        self._nodes = plan_nodes(tor_dir, self.authorities, self.relays)
        for node in self._nodes:
            node.node_dir.mkdir(parents=True)
        auths = [n for n in self._nodes if n.role is Role.AUTHORITY]
        # Only the authorities' identities must be known before launch (they go into
        # every torrc); relays create their own keys when they start.
        self._progress(f"generating keys for {len(auths)} directory authorities")
        v3idents = keys.authority_v3idents(
            [keys.KeyRequest(n.nick, n.config.data_dir, n.config.dir_port or 0) for n in auths]
        )
        fingerprints = keys.relay_fingerprints(
            [keys.KeyRequest(n.nick, n.config.data_dir, n.config.or_port or 0) for n in auths],
            defaults,
        )
        entries = []
        for node in auths:
            node.v3ident, node.fingerprint = v3idents[node.nick], fingerprints[node.nick]
            entries.append(
                AuthorityEntry(
                    nick=node.nick,
                    or_port=node.config.or_port or 0,
                    dir_port=node.config.dir_port or 0,
                    v3ident=node.v3ident,
                    fingerprint=node.fingerprint,
                )
            )
        # The servers are launched right after this, so now is their launch time.
        offset = voting_offset(time.time())
        for node in self._nodes:
            node.torrc.write_text(render_torrc(node.config, entries, voting_offset=offset))

    def _refuse_if_leftover_running(self, tor_dir: Path) -> None:
        # Wiping the directory of a lab that is still running would orphan its tors.
        for pid_file in tor_dir.glob("*/tor.pid"):
            try:
                pid = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
            node_dir = pid_file.parent
            leftover = TorProcess(pid=pid, torrc=node_dir / "torrc", log=node_dir / "tor.log")
            if leftover.is_alive():
                raise TorNetworkError(
                    f"a lab tor (pid {pid}) is still running from {pid_file.parent}; stop it first"
                )

    def _preload(self) -> Path | None:
        """The TCP_NODELAY shim tor is started with, when it could be built (:mod:`.nodelay`)."""
        shim = self.run_dir / "tor" / "nodelay.so"
        return shim if shim.is_file() else None

    def _launch(self, nodes: list[Node]) -> None:
        defaults = self.run_dir / "tor" / "torrc-defaults"
        for node in nodes:
            node.process = launch_tor(node.torrc, defaults, node.log, preload=self._preload())

    def _wait_for_consensus(self, servers: list[Node], deadline: float) -> None:
        auths = [n for n in servers if n.role is Role.AUTHORITY]
        best = 0
        reported = -1
        for _ in poll(deadline - time.monotonic(), 0.25):
            self._raise_if_any_died(servers)
            for node in servers:
                if node.fingerprint is None:
                    node.fingerprint = keys.read_fingerprint(node.config.data_dir, node.nick)
            expected = {n.fingerprint for n in servers if n.fingerprint}
            for auth in auths:
                try:
                    text = consensus.fetch_consensus(auth.config.dir_port or 0)
                except OSError:
                    continue  # not listening yet
                if text:
                    best = max(best, len(consensus.listed_fingerprints(text) & expected))
            if best != reported:
                reported = best
                self._progress(f"waiting for consensus: {best}/{len(servers)} relays")
            if best == len(servers):
                return
        raise self._error(
            auths[0],
            f"no consensus listed all {len(servers)} relays before the start timeout "
            f"(best: {best}/{len(servers)})",
        )

    def _wait_for_bootstrap(self, deadline: float) -> None:
        client, hs = self._node(CLIENT_NICK), self._node(HS_NICK)
        connect_timeout = max(1.0, min(15.0, deadline - time.monotonic()))
        with (
            self._controller(client, connect_timeout) as client_ctl,
            self._controller(hs, connect_timeout) as hs_ctl,
        ):
            reported = -1
            progress = {CLIENT_NICK: 0, HS_NICK: 0}
            for _ in poll(deadline - time.monotonic(), 0.25):
                self._raise_if_any_died(self._nodes)
                progress[CLIENT_NICK] = control.bootstrap_progress(client_ctl)
                progress[HS_NICK] = control.bootstrap_progress(hs_ctl)
                if progress[CLIENT_NICK] != reported and progress[CLIENT_NICK] < 100:
                    reported = progress[CLIENT_NICK]
                    self._progress(f"waiting for client bootstrap: {reported}%")
                if min(progress.values()) == 100:
                    return
        laggard = client if progress[CLIENT_NICK] < 100 else hs
        raise self._error(
            laggard, f"{laggard.nick} tor bootstrapped only {progress[laggard.nick]}% in time"
        )

    # -- helpers ---------------------------------------------------------------------

    def _node(self, nick: str) -> Node:
        for node in self._nodes:
            if node.nick == nick:
                return node
        raise TorNetworkError("the Tor network has not been started")

    def _controller(self, node: Node, timeout: float) -> Controller:
        try:
            return control.connect(node.config.control_port, timeout=timeout)
        except (stem.ControllerError, stem.connection.AuthenticationFailure) as exc:
            raise self._error(node, f"cannot use the ControlPort of {node.nick}: {exc}") from exc

    def _raise_if_any_died(self, nodes: list[Node]) -> None:
        for node in nodes:
            if node.process is not None and not node.process.is_alive():
                raise self._error(node, f"tor {node.nick} (pid {node.process.pid}) exited")

    @staticmethod
    def _error(node: Node, message: str) -> TorNetworkError:
        tail = log_tail(node.log)
        return TorNetworkError(f"{message}; log {node.log}:\n{tail}")
