"""Brings the whole lab up and down: world → truth export → site server → Tor → onion services.

``up`` writes the lab's two exports (``truth.json`` and ``lab.json``, see
``docs/lab-contract.md``) and leaves detached processes running; ``down`` (from any
process) stops them. Depends on ``lab.world``, ``lab.sites`` (as a subprocess) and
``lab.tornet``; never on the crawler.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.tornet.network import TorNetwork, TorNetworkError
from lab.tornet.onion_keys import derive_service_key
from lab.tornet.ports import free_ports
from lab.tornet.probe import http_get_via_socks
from lab.tornet.process import find_executable
from lab.world.generate import build_world
from lab.world.truth import truth_json

LAB_SCHEMA = "onionlab-lab/1"
Progress = Callable[[str], None]


class LabError(RuntimeError):
    """The lab could not be started, found or stopped; the message says what to do."""


def _quiet(_: str) -> None:
    pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        timeout: float = 180.0,
    ) -> Path:
        """Start the lab in ``data_dir`` (the lab directory); return the path of ``lab.json``."""
        lab_dir = Path(data_dir)
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
        world = build_world(seed, scale)
        truth_path = lab_dir / "truth.json"
        truth_path.write_text(truth_json(world))

        ports = free_ports(len(world.services))
        locals_ = {
            svc.name: f"127.0.0.1:{port}" for svc, port in zip(world.services, ports, strict=False)
        }
        progress(f"starting {len(world.services)} site(s) on 127.0.0.1")
        sites_pid = self._start_sites(lab_dir, seed, scale, locals_, timeout=30)
        net = TorNetwork(lab_dir / "tor", progress=progress)
        try:
            return self._publish_and_record(
                world,
                net,
                lab_dir,
                locals_,
                ports,
                sites_pid,
                started=started,
                progress=progress,
                timeout=timeout,
            )
        except BaseException as exc:
            # Whatever went wrong (even Ctrl-C), leave nothing running behind.
            net.stop()
            _terminate(sites_pid)
            if isinstance(exc, (TorNetworkError, OSError)):
                raise LabError(str(exc)) from exc
            raise

    def _publish_and_record(
        self,
        world: Any,
        net: TorNetwork,
        lab_dir: Path,
        locals_: dict[str, str],
        ports: list[int],
        sites_pid: int,
        *,
        started: float,
        progress: Progress,
        timeout: float,
    ) -> Path:
        net.start(timeout=timeout)
        for svc, port in zip(world.services, ports, strict=True):
            onion = net.publish(derive_service_key(world.seed, svc.name), port)
            if onion != svc.onion:
                raise LabError(f"{svc.name}: tor published {onion}, expected {svc.onion}")
            progress(f"published {svc.name} at {onion}")
        for svc in world.services:
            waited = net.wait_reachable(svc.url, timeout=60)
            progress(f"{svc.name} answers through Tor ({waited:.1f} s)")
        state = {
            "schema": LAB_SCHEMA,
            "seed": world.seed,
            "scale": world.scale,
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
                    "local": locals_[svc.name],
                }
                for svc in world.services
            ],
            "truth": str(lab_dir / "truth.json"),
            "pids": {"sites": sites_pid, "tor": net.pids()},
            "tor": net.state(),
        }
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
        return {
            "running": tor_running and sites_running,
            "lab_dir": str(lab_dir),
            "seed": state["seed"],
            "started_at": state["started_at"],
            "socks": f"127.0.0.1:{state['socks']['port']}",
            "tor_running": tor_running,
            "sites_running": sites_running,
            "services": services,
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

    @staticmethod
    def _start_sites(
        lab_dir: Path, seed: int, scale: float, listen: dict[str, str], timeout: float
    ) -> int:
        ready = lab_dir / "sites.ready.json"
        ready.unlink(missing_ok=True)
        command = [sys.executable, "-m", "lab.sites.serve", "--seed", str(seed)]
        command += ["--scale", str(scale), "--ready-file", str(ready)]
        for name, address in listen.items():
            command += ["--listen", f"{name}={address}"]
        log = (lab_dir / "sites.log").open("ab")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready.exists():
                return process.pid
            if process.poll() is not None:
                raise LabError(
                    f"the site server exited with code {process.returncode}; "
                    f"see {lab_dir / 'sites.log'}"
                )
            time.sleep(0.05)
        _terminate(process.pid)
        raise LabError(f"the site server did not start within {timeout:.0f} s")


def _terminate(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM ``pid``, then SIGKILL if it is still alive after ``timeout``."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            reaped = 0
            if not _pid_alive(pid):
                return
        if reaped == pid:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
