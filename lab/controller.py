"""Brings the whole lab up and down: world → truth export → site server → Tor → onion services.

``up`` writes the lab's two exports (``truth.json`` and ``lab.json``, see
``docs/lab-contract.md``) and leaves detached processes running; ``down`` (from any
process) stops them. A profile with the ``hostile`` switch adds the malicious site and its
loopback canary (port in ``lab.json``, connections in ``canary.ndjson``). Depends on
``onionlab.lab.world``, ``onionlab.lab.profiles``, ``onionlab.lab.siteserver`` (the site
server's process), ``onionlab.lab.sites`` (the canary's log reader) and
``onionlab.lab.tornet``; never on the crawler.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onionlab.lab.profiles import ProfileError, load_profile
from onionlab.lab.sites.hostile.canary import canary_count
from onionlab.lab.sites.latency import DEFAULT_LATENCY
from onionlab.lab.siteserver import SiteServerError, start_site_server, start_timeout
from onionlab.lab.siteserver import pid_alive as _pid_alive
from onionlab.lab.siteserver import terminate as _terminate
from onionlab.lab.tornet.network import TorNetwork, TorNetworkError
from onionlab.lab.tornet.onion_keys import derive_service_key
from onionlab.lab.tornet.ports import free_ports
from onionlab.lab.tornet.probe import http_get_via_socks
from onionlab.lab.tornet.process import find_executable
from onionlab.lab.world.generate import build_world
from onionlab.lab.world.truth import truth_json

LAB_SCHEMA = "onionlab-lab/1"
CANARY_LOG = "canary.ndjson"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Address:
    """One onion address of a service: its key label and the listener that serves it."""

    service: str
    label: str
    onion: str
    listen_name: str  # "<service>" for the primary address, "<service>#mirrorN" for mirrors


def _addresses(world: Any) -> list[Address]:
    found = []
    for svc in world.services:
        for n, (label, onion) in enumerate(svc.addresses):
            name = svc.name if n == 0 else f"{svc.name}#{label.rsplit('#', 1)[1]}"
            found.append(Address(svc.name, label, onion, name))
    return found


class LabError(RuntimeError):
    """The lab could not be started, found or stopped; the message says what to do."""


def _quiet(_: str) -> None:
    pass


def _read_state(lab_dir: Path) -> dict[str, Any] | None:
    path = lab_dir / "lab.json"
    return json.loads(path.read_text()) if path.exists() else None


class Lab:
    """The lab controller (what the ``onionlab_lab`` hook returns)."""

    def up(
        self,
        *,
        seed: int = 1,
        data_dir: Path,
        progress: Progress = _quiet,
        scale: float = 1.0,
        profile: str = "default",
        timeout: float = 180.0,
        latency: float = DEFAULT_LATENCY,
    ) -> Path:
        """Start the lab in ``data_dir`` (the lab directory); return the path of ``lab.json``.
        ``latency``: the seconds each page is held (:mod:`onionlab.lab.sites.latency`)."""
        lab_dir = Path(data_dir)
        try:
            hostile = load_profile(profile).hostile
        except ProfileError as exc:
            raise LabError(str(exc)) from None
        self._refuse_if_running(lab_dir)
        try:
            find_executable("tor")
            find_executable("tor-gencert")
        except FileNotFoundError:
            raise LabError(
                "Debian's tor is not installed. Install it with `sudo apt-get install tor` "
                "(onionlab only runs it as a private network on 127.0.0.1)."
            ) from None
        lab_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        progress(f"generating the world (seed {seed}, scale {scale})")
        world = build_world(seed, scale, hostile=hostile)
        truth_path = lab_dir / "truth.json"
        truth_path.write_text(truth_json(world))

        addresses = _addresses(world)
        ports = free_ports(len(addresses) + int(hostile))
        canary = None
        if hostile:
            canary = {"host": "127.0.0.1", "port": ports.pop(), "log": str(lab_dir / CANARY_LOG)}
            (lab_dir / CANARY_LOG).unlink(missing_ok=True)  # a new lab, a new count
        listen = {
            address.listen_name: f"127.0.0.1:{port}"
            for address, port in zip(addresses, ports, strict=True)
        }
        progress(
            f"starting {len(world.services)} sites ({len(addresses)} onion addresses) "
            f"on 127.0.0.1, profile {profile!r}"
        )
        net = TorNetwork(lab_dir / "tor", progress=progress)
        sites_pid = -1
        try:
            sites_pid = start_site_server(
                lab_dir,
                seed,
                scale,
                profile,
                listen,
                timeout=start_timeout(scale),
                canary=canary,
                latency=latency,
            )
            return self._publish_and_record(
                world,
                net,
                lab_dir,
                addresses,
                listen,
                sites_pid,
                profile=profile,
                started=started,
                progress=progress,
                timeout=timeout,
                canary=canary,
                latency=latency,
            )
        except BaseException as exc:
            # Whatever went wrong (even Ctrl-C), leave nothing running behind.
            net.stop()
            if sites_pid > 0:
                _terminate(sites_pid)
            if isinstance(exc, (TorNetworkError, SiteServerError, OSError)):
                raise LabError(str(exc)) from exc
            raise

    def _publish_and_record(
        self,
        world: Any,
        net: TorNetwork,
        lab_dir: Path,
        addresses: list[Address],
        listen: dict[str, str],
        sites_pid: int,
        *,
        profile: str,
        started: float,
        progress: Progress,
        timeout: float,
        canary: dict[str, Any] | None = None,
        latency: float = DEFAULT_LATENCY,
    ) -> Path:
        net.start(timeout=timeout)

        # Each publish waits for its descriptor upload (~1-2 s); tor handles them in parallel.
        def publish(address: Address) -> None:
            port = int(listen[address.listen_name].rsplit(":", 1)[1])
            onion = net.publish(derive_service_key(world.seed, address.label), port)
            if onion != address.onion:
                raise LabError(f"{address.listen_name}: tor published {onion}, not {address.onion}")

        with ThreadPoolExecutor(max_workers=min(8, len(addresses))) as pool:
            for future in [pool.submit(publish, a) for a in addresses]:
                future.result()
        progress(f"published {len(addresses)} onion addresses")
        for address in addresses:
            waited = net.wait_reachable(f"http://{address.onion}/", timeout=60)
            progress(f"{address.listen_name} answers through Tor ({waited:.1f} s)")
        state = {
            "schema": LAB_SCHEMA,
            "seed": world.seed,
            "scale": world.scale,
            "profile": profile,
            "latency_s": latency,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "up_seconds": round(time.monotonic() - started, 2),
            "socks": {"host": "127.0.0.1", "port": net.socks_port},
            "control": {
                "host": "127.0.0.1",
                "port": net.client_control_port,
                "cookie": str(net.client_cookie_path),
            },
            "services": [
                {
                    "name": svc.name,
                    "kind": svc.kind,
                    "onion": svc.onion,
                    "url": svc.url,
                    "local": listen[svc.name],
                    "mirrors": [
                        {
                            "onion": a.onion,
                            "url": f"http://{a.onion}/",
                            "local": listen[a.listen_name],
                        }
                        for a in addresses
                        if a.service == svc.name and a.listen_name != svc.name
                    ],
                }
                for svc in world.services
            ],
            "truth": str(lab_dir / "truth.json"),
            "pids": {"sites": sites_pid, "tor": net.pids()},
            "tor": net.state(),
        }
        if canary is not None:
            state["canary"] = canary
        state_path = lab_dir / "lab.json"
        state_path.write_text(json.dumps(state, indent=2) + "\n")
        return state_path

    def down(self, *, data_dir: Path) -> bool:
        """Stop the lab in ``data_dir``; return False if none was running."""
        lab_dir = Path(data_dir)
        state = _read_state(lab_dir)
        if state is None:
            return False
        TorNetwork.attach(lab_dir / "tor", state["tor"]).stop()
        _terminate(int(state["pids"]["sites"]))
        (lab_dir / "lab.json").rename(lab_dir / "lab.stopped.json")
        return True

    def restart_tor(self, *, data_dir: Path, down_for: float = 0.0) -> float:
        """Restart the lab's client tor (ports unchanged), recording its new pid in lab.json.

        Returns the seconds it took to bootstrap again. For exercises and tests of a crawl
        surviving a Tor restart.
        """
        lab_dir = Path(data_dir)
        state = _read_state(lab_dir)
        if state is None:
            raise LabError(f"no lab is running in {lab_dir}; start one with `onionlab up`")
        net = TorNetwork.attach(lab_dir / "tor", state["tor"])
        try:
            seconds = net.restart_client(down_for=down_for)
        finally:
            state["pids"]["tor"] = net.pids()
            state["tor"] = net.state()
            (lab_dir / "lab.json").write_text(json.dumps(state, indent=2) + "\n")
        return seconds

    def status(self, *, data_dir: Path, timeout: float = 15.0) -> dict[str, Any]:
        """Which processes run and which services answer through Tor (bounded probes)."""
        lab_dir = Path(data_dir)
        state = _read_state(lab_dir)
        if state is None:
            return {"running": False, "lab_dir": str(lab_dir), "services": []}
        tor_running = TorNetwork.attach(lab_dir / "tor", state["tor"]).is_running()
        sites_running = _pid_alive(int(state["pids"]["sites"]))
        services = []
        for svc in state["services"]:
            started = time.monotonic()
            try:
                code, _ = http_get_via_socks(
                    "127.0.0.1", state["socks"]["port"], svc["url"], timeout=timeout
                )
                answer = f"HTTP {code}"
                ok = True
            except OSError as exc:
                answer, ok = str(exc) or type(exc).__name__, False
            services.append(
                {
                    **svc,
                    "answers": ok,
                    "answer": answer,
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
        report = {
            "running": tor_running and sites_running,
            "lab_dir": str(lab_dir),
            "seed": state["seed"],
            "started_at": state["started_at"],
            "socks": f"127.0.0.1:{state['socks']['port']}",
            "tor_running": tor_running,
            "sites_running": sites_running,
            "services": services,
        }
        canary = self.canary(data_dir=lab_dir)
        if canary is not None:
            report["canary"] = canary
        return report

    def canary(self, *, data_dir: Path) -> dict[str, Any] | None:
        """The running lab's canary (address, log, connections recorded), or None if none."""
        state = _read_state(Path(data_dir))
        if state is None or "canary" not in state:
            return None
        canary = state["canary"]
        log = Path(canary["log"])
        return {
            "address": f"{canary['host']}:{canary['port']}",
            "log": str(log),
            "connections": canary_count(log),
        }

    @staticmethod
    def _refuse_if_running(lab_dir: Path) -> None:
        state = _read_state(lab_dir)
        if state is None:
            return
        tor = TorNetwork.attach(lab_dir / "tor", state["tor"])
        if tor.is_running() or _pid_alive(int(state["pids"]["sites"])):
            raise LabError(
                f"a lab is already running in {lab_dir} (seed {state['seed']}, started "
                f"{state['started_at']}). `onionlab down` stops it."
            )
        (lab_dir / "lab.json").rename(lab_dir / "lab.stale.json")
