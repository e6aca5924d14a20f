"""Run the lab in the foreground until SIGTERM/SIGINT — for containers and supervisors.

``run_foreground`` brings the lab up through ``Lab.up`` (exactly the code path of
``onionlab up``), then blocks until SIGTERM or SIGINT and takes it down with ``Lab.down``.
While it waits it watches the lab's processes (tor and the site server): if one of them
dies, it takes the rest down and returns 1, so that a container exits and its restart
policy can act instead of a half-dead lab lingering. ``healthy`` answers "does every
service answer through Tor?" through ``Lab.status`` (the container's healthcheck).

The ``data_dir`` both functions take is the *lab directory*, as ``Lab.up`` takes it
(``onionlab.lab.paths.default_lab_dir(--data-dir)``). Depends on ``onionlab.lab.controller`` and
``onionlab.lab.tornet``; Linux only (reads ``/proc``); signal handlers need the main thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from onionlab.lab.controller import Lab, LabError
from onionlab.lab.tornet.network import TorNetwork, TorNetworkError

Progress = Callable[[str], None]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
WATCH_INTERVAL = 5.0
SIGNAL_POLL = 0.1

# Exit codes: 0 stopped on request after a normal run; 1 a lab process died (the rest was
# taken down); 128 + signal number when stopped during start-up (shell convention).
EXIT_OK = 0
EXIT_LAB_DIED = 1


class _StopDuringStartup(BaseException):
    """Raised from the signal handler while ``Lab.up`` runs, so that ``up`` cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _quiet(_: str) -> None:
    pass


def _proc_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (a dead child not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def lab_processes_alive(lab_dir: Path) -> bool:
    """Cheap liveness check (no Tor probe): every tor and the site server still run."""
    try:
        state: dict[str, Any] = json.loads((Path(lab_dir) / "lab.json").read_text())
        tor = TorNetwork.attach(Path(lab_dir) / "tor", state["tor"])
        return tor.is_running() and _proc_alive(int(state["pids"]["sites"]))
    except (OSError, ValueError, KeyError, TypeError, TorNetworkError):
        return False


def run_foreground(
    lab: Lab,
    *,
    seed: int,
    scale: float,
    data_dir: Path,
    profile: str | None = None,
    latency: float | None = None,
    progress: Progress = _quiet,
    on_ready: Callable[[Path], None] | None = None,
    alive: Callable[[Path], bool] = lab_processes_alive,
    watch_interval: float = WATCH_INTERVAL,
    max_seconds: float | None = None,
) -> int:
    """Start the lab, block until SIGTERM/SIGINT (or a lab process dies), stop it.

    ``profile`` and ``latency`` are passed to ``Lab.up`` only when not None.
    ``on_ready(state_path)`` is called once the lab answers (e.g. to print the table
    ``onionlab up`` prints).
    ``max_seconds`` bounds the wait (None: until a signal). Returns the exit code: 0 after
    a requested stop, 1 if a lab process died, 128 + signal if stopped during start-up.
    ``LabError`` from ``Lab.up`` (tor missing, a lab already running) propagates, as in
    ``onionlab up``. Must be called from the main thread (it installs signal handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_foreground must run in the main thread (signal handlers)")
    lab_dir = Path(data_dir)
    received: list[int] = []
    starting = True

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if starting:
            raise _StopDuringStartup(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        kwargs: dict[str, Any] = {
            "seed": seed,
            "scale": scale,
            "data_dir": lab_dir,
            "progress": progress,
        }
        if profile is not None:
            kwargs["profile"] = profile
        if latency is not None:
            kwargs["latency"] = latency
        try:
            state_path = lab.up(**kwargs)
            starting = False
        except _StopDuringStartup as exc:
            # Lab.up stops whatever it had started before re-raising (it catches BaseException);
            # if the signal came just as up() returned, the lab is complete: take it down.
            progress(f"stopped by {signal.Signals(exc.signum).name} during start-up")
            if (lab_dir / "lab.json").exists():
                _down(lab, lab_dir, progress)
            _stop_orphan_sites(lab_dir)
            return 128 + exc.signum
        if received:  # a signal arrived between up() returning and the flag flip
            progress(f"{signal.Signals(received[0]).name} received, stopping the lab")
            return EXIT_OK if _down(lab, lab_dir, progress) else EXIT_LAB_DIED
        if on_ready is not None:
            on_ready(Path(state_path))
        progress("lab running in the foreground; SIGTERM or Ctrl-C stops it")
        code = _wait(received, lab_dir, alive, watch_interval, max_seconds, progress)
        if received:
            progress(f"{signal.Signals(received[0]).name} received, stopping the lab")
        stopped = _down(lab, lab_dir, progress)
        return code if stopped else EXIT_LAB_DIED
    finally:
        _restore(previous)


def _wait(
    received: list[int],
    lab_dir: Path,
    alive: Callable[[Path], bool],
    interval: float,
    max_seconds: float | None,
    progress: Progress,
) -> int:
    """Wait for a stop signal, the death of a lab process or ``max_seconds``.

    The signal handler only appends to ``received`` (setting a ``threading.Event`` from a
    handler can deadlock the main thread), so this polls it every ``SIGNAL_POLL`` s and
    checks the lab's processes every ``interval`` s.
    """
    started = time.monotonic()
    next_check = started
    # Ends only on a signal, a dead lab process or the optional deadline: that is what
    # running in the foreground means.
    while not received:
        now = time.monotonic()
        if max_seconds is not None and now - started >= max_seconds:
            return EXIT_OK
        if now >= next_check:
            if not alive(lab_dir):
                progress("a lab process (tor or the site server) died; stopping the rest")
                return EXIT_LAB_DIED
            next_check = now + interval
        time.sleep(SIGNAL_POLL)
    return EXIT_OK


def _stop_orphan_sites(lab_dir: Path, timeout: float = 5.0) -> None:
    """Stop a site server that ``Lab.up`` started but did not clean up (signal mid start-up).

    ``Lab.up`` starts the site server before its cleanup ``try``; its ready file names the
    pid. Only a process whose command line is ``onionlab.lab.sites.serve`` is signalled.
    """
    try:
        pid = int(json.loads((lab_dir / "sites.ready.json").read_text())["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        return
    if b"onionlab.lab.sites.serve" not in cmdline or not _proc_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _proc_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if _proc_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for sig, handler in handlers.items():
        # None: the handler was not set from Python; the default is the closest match.
        signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def _down(lab: Lab, lab_dir: Path, progress: Progress) -> bool:
    """Take the lab down, ignoring further stop signals until done; False if that failed."""
    ignored = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        if lab.down(data_dir=lab_dir):
            progress("lab stopped")
        else:
            progress("no lab was running")
        return True
    except (LabError, TorNetworkError, OSError) as exc:
        progress(f"stopping the lab failed: {exc}")
        return False
    finally:
        _restore(ignored)


def _scammed(data_dir: Path, timeout: float) -> set[str]:
    """Sites down on purpose (``onionlab lab scam``/``move``), if any."""
    from onionlab.lab.admin import AdminError, site_status

    try:
        sites = site_status(Path(data_dir), timeout=timeout).get("sites", {})
    except (AdminError, OSError, ValueError):
        return set()
    return {name for name, state in sites.items() if state.get("scammed") or state.get("moved")}


def healthy(
    data_dir: Path,
    *,
    timeout: float = 10.0,
    lab: Lab | None = None,
    scammed: Callable[[Path, float], set[str]] = _scammed,
) -> bool:
    """True when a lab runs in ``data_dir`` and every one of its services answers through Tor.

    A site taken down on purpose (an exit scam the profile scheduled or an instructor
    triggered) is part of the exercise, not a fault: it does not make the lab unhealthy.
    """
    report = (lab or Lab()).status(data_dir=Path(data_dir), timeout=timeout)
    services = report.get("services") or []
    if not report.get("running") or not services:
        return False
    down = {s["name"] for s in services if not s["answers"]}
    return not down or down <= scammed(Path(data_dir), timeout)
