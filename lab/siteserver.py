"""The lab's site server as a process: start it and wait until it listens, stop it.

The site server (``python -m onionlab.lab.sites.serve``) builds the world from its seed and
serves every site on loopback; :func:`start_site_server` runs it detached and waits for its
ready file within :func:`start_timeout`, which grows with the scale. Depends on the standard
library only (the server is a subprocess).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Seconds the site server may take to build its world and listen: it builds the world
# again (2.5 s per unit of scale here, single-threaded), so a scale-25 lab on a slow or
# busy machine needs minutes, not the 60 s that serve the default scale.
SITES_START_SECONDS = 60.0
SITES_START_PER_SCALE = 8.0


class SiteServerError(RuntimeError):
    """The site server exited or did not start in time; the message says where to look."""


def start_timeout(scale: float) -> float:
    """Seconds the site server of a lab of ``scale`` may take to start."""
    return SITES_START_SECONDS + SITES_START_PER_SCALE * scale


def start_site_server(
    lab_dir: Path,
    seed: int,
    scale: float,
    profile: str,
    listen: dict[str, str],
    timeout: float,
    canary: dict[str, Any] | None = None,
    latency: float = 0.0,
) -> int:
    """Start the site server for ``listen`` (site name → ``IP:PORT``) and wait until it
    listens (its ready file), at most ``timeout`` seconds; its pid. SiteServerError when it
    exits or does not start in time (it is stopped: no orphan)."""
    ready = lab_dir / "sites.ready.json"
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "onionlab.lab.sites.serve", "--seed", str(seed)]
    command += ["--scale", str(scale), "--ready-file", str(ready), "--profile", profile]
    command += ["--admin-socket", str(lab_dir / "sites.sock"), "--latency", str(latency)]
    for name, address in listen.items():
        command += ["--listen", f"{name}={address}"]
    if canary is not None:
        command += ["--canary", f"{canary['host']}:{canary['port']}"]
        command += ["--canary-log", canary["log"]]
    log = (lab_dir / "sites.log").open("ab")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if ready.exists():
                return process.pid
            if process.poll() is not None:
                raise SiteServerError(
                    f"the site server exited with code {process.returncode}; "
                    f"see {lab_dir / 'sites.log'}"
                )
            time.sleep(0.05)
    except BaseException:
        terminate(process.pid)  # Ctrl-C or an error while waiting: no orphan
        raise
    terminate(process.pid)
    raise SiteServerError(f"the site server did not start within {timeout:.0f} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def terminate(pid: int, timeout: float = 5.0) -> None:
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
            if not pid_alive(pid):
                return
        if reaped == pid:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
