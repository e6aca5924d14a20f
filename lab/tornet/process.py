"""Launching, watching and stopping detached tor processes.

Standard library only (Linux ``/proc``). A tor started here runs in its own session, so
it outlives the Python process that started it; another process can later watch or stop
it from its pid alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .waiting import poll

# Debian puts tor in /usr/sbin, which is not on every user's PATH.
_SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def find_executable(name: str) -> str:
    """Return the absolute path of ``name`` (``tor``, ``tor-gencert``).

    Raises FileNotFoundError when it is nowhere to be found.
    """
    found = shutil.which(name)
    if found:
        return found
    for directory in _SEARCH_DIRS:
        candidate = Path(directory) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise FileNotFoundError(f"{name} not found on PATH or in {', '.join(_SEARCH_DIRS)}")


def log_tail(path: Path, lines: int = 15) -> str:
    """Return the last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class TorProcess:
    """One running (or finished) tor, known by pid and the torrc it was started with.

    ``popen`` is set only in the process that launched tor; it lets that process reap
    its child instead of seeing a zombie as alive.
    """

    pid: int
    torrc: Path
    log: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def is_alive(self) -> bool:
        """True while this pid is a live tor started with our torrc (not a reused pid)."""
        if self.popen is not None:
            return self.popen.poll() is None
        return _proc_state(self.pid) not in (None, "Z") and self._owns_pid()

    def _owns_pid(self) -> bool:
        # A pid from a state file may have been reused by an unrelated process since.
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return os.fsencode(str(self.torrc)) in cmdline

    def signal(self, signum: int) -> None:
        """Send ``signum`` if the process is still ours and alive; ignore it otherwise."""
        if not self.is_alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may itself contain spaces or ')'.
    return stat.rsplit(")", 1)[1].split()[0]


def launch_tor(
    torrc: Path, defaults_torrc: Path, log: Path, *, preload: Path | None = None
) -> TorProcess:
    """Start ``tor -f torrc`` detached (own session), stdout and stderr appended to ``log``.

    ``defaults_torrc`` should be an empty file: it replaces /etc/tor/torrc-defaults so no
    system-wide setting can apply to a lab tor. ``preload``: a shared library tor is
    started with (``LD_PRELOAD``; the lab's TCP_NODELAY shim, :mod:`.nodelay`).
    """
    command = [find_executable("tor"), "--defaults-torrc", str(defaults_torrc), "-f", str(torrc)]
    env = None
    if preload is not None:
        env = {**os.environ, "LD_PRELOAD": str(preload)}
    with open(log, "ab") as log_file:
        popen = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=torrc.parent,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    return TorProcess(pid=popen.pid, torrc=torrc, log=log, popen=popen)


def stop_processes(processes: list[TorProcess], timeout: float = 10.0) -> list[TorProcess]:
    """SIGTERM every live process, wait up to ``timeout`` s, SIGKILL the rest.

    Returns the processes still alive afterwards (normally none).
    """
    for proc in processes:
        proc.signal(signal.SIGTERM)
    if _wait_all_dead(processes, timeout):
        return []
    for proc in processes:
        proc.signal(signal.SIGKILL)
    _wait_all_dead(processes, 2.0)
    return [proc for proc in processes if proc.is_alive()]


def _wait_all_dead(processes: list[TorProcess], timeout: float) -> bool:
    for _ in poll(timeout, 0.05):
        # Ask every process (no short-circuit): asking is what reaps our own dead children.
        alive = [proc for proc in processes if proc.is_alive()]
        if not alive:
            return True
    return False
