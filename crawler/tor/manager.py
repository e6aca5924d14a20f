"""A small stem-based Tor manager: attach to (or launch) a tor, watch bootstrap, NEWNYM.

:class:`TorController` wraps a ``stem.control.Controller``:

- :meth:`TorController.attach` connects to a running tor's ``ControlPort`` (an IP literal on
  loopback) and authenticates with its cookie file (or whatever PROTOCOLINFO offers);
- :meth:`TorController.launch` starts a tor from a torrc-less config
  (``stem.process.launch_tor_with_config``, ``take_ownership=True``: the tor dies with this
  process); :func:`launch_config` builds that config, loopback only, and
  :func:`check_loopback_only` refuses any listener that is not on 127.0.0.1/[::1];
- :meth:`TorController.wait_bootstrapped` reports bootstrap progress until 100 %,
  :meth:`TorController.get_listeners` the SOCKS listeners, :meth:`TorController.newnym`
  asks for new circuits within Tor's rate limit.

Parsing is in pure functions (:func:`parse_bootstrap_status`, :func:`parse_control_address`).
Nothing is imported from stem or opened at import time. Depends on stem (imported lazily).
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stem.control import Controller

LOOPBACK_PREFIXES = ("127.0.0.1:", "[::1]:", "unix:")


class TorControlError(RuntimeError):
    """The control port cannot be used (bad address, refused, authentication failed)."""


@dataclass(frozen=True)
class BootstrapStatus:
    """Tor's bootstrap phase: ``progress`` 0–100, a ``tag`` and a human ``summary``."""

    progress: int
    tag: str = ""
    summary: str = ""

    @property
    def done(self) -> bool:
        return self.progress >= 100


@dataclass(frozen=True)
class NewnymResult:
    """``sent``: NEWNYM was signalled; otherwise Tor's rate limit allows it in ``wait`` s."""

    sent: bool
    wait: float = 0.0


_PHASE_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def parse_bootstrap_status(phase: str) -> BootstrapStatus:
    """Parse ``GETINFO status/bootstrap-phase`` (``NOTICE BOOTSTRAP PROGRESS=… TAG=… …``)."""
    fields = {key.upper(): value.strip('"') for key, value in _PHASE_FIELD.findall(phase)}
    try:
        progress = int(fields.get("PROGRESS", "0"))
    except ValueError:
        progress = 0
    return BootstrapStatus(
        max(0, min(progress, 100)), fields.get("TAG", ""), fields.get("SUMMARY", "")
    )


def parse_control_address(value: str) -> tuple[str, int]:
    """``"127.0.0.1:9051"`` → ``("127.0.0.1", 9051)``; only loopback IP literals are allowed."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"a control port must look like 127.0.0.1:9051, not {value!r}")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the control host must be an IP address, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the control port must be on loopback, not {host}")
    return host, int(port)


def check_loopback_only(config: Mapping[str, str | list[str]]) -> None:
    """Raise ValueError if any ``*Port`` option of a tor config listens off loopback.

    Accepted: ``0`` (off), an explicit ``127.0.0.1:N``, ``[::1]:N`` or ``unix:…`` (flags after
    a space are fine). A bare port or ``auto`` is refused: tor binds some (ORPort) to every
    interface. ``HiddenServicePort`` targets are not listeners and are not checked.
    """
    for key, value in config.items():
        if not key.lower().endswith("port") or key.lower().startswith("hiddenservice"):
            continue
        for item in [value] if isinstance(value, str) else value:
            address = item.split()[0] if item.split() else ""
            if address == "0" or address.startswith(LOOPBACK_PREFIXES):
                continue
            raise ValueError(f"{key} {item!r} is not loopback-only; use 127.0.0.1:PORT")


def launch_config(
    socks_port: int,
    control_port: int,
    data_dir: Path,
    extra: Mapping[str, str | list[str]] | None = None,
) -> dict[str, str | list[str]]:
    """A minimal torrc-less client config: SOCKS and control on 127.0.0.1, cookie auth.

    ``extra`` adds or overrides options (e.g. ``TestingTorNetwork``/``DirAuthority`` for the
    lab); the result is checked with :func:`check_loopback_only`.
    """
    config: dict[str, str | list[str]] = {
        "SocksPort": f"127.0.0.1:{socks_port} ExtendedErrors IsolateSOCKSAuth",
        "ControlPort": f"127.0.0.1:{control_port}",
        "CookieAuthentication": "1",
        "DataDirectory": str(data_dir),
        "ClientOnly": "1",
        "AvoidDiskWrites": "1",
        "Log": "notice stdout",
    }
    config.update(extra or {})
    check_loopback_only(config)
    return config


class TorController:
    """A connected, authenticated stem ``Controller`` (and the tor process if we launched it)."""

    def __init__(
        self, controller: Controller, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        self.controller = controller
        self.process = process

    @classmethod
    def attach(
        cls,
        address: str,
        *,
        cookie: str | Path | None = None,
        controller_factory: Callable[..., Controller] | None = None,
    ) -> TorController:
        """Connect to ``address`` (``"127.0.0.1:PORT"``) and authenticate (cookie file if given)."""
        import stem
        import stem.connection
        from stem.control import Controller

        host, port = parse_control_address(address)
        factory = controller_factory or Controller.from_port
        try:
            controller = factory(address=host, port=port)
        except stem.SocketError as exc:
            raise TorControlError(f"cannot reach Tor's control port {address}: {exc}") from None
        try:
            if cookie is not None:
                stem.connection.authenticate_cookie(controller, str(cookie))
            else:
                controller.authenticate()
        except (stem.connection.AuthenticationFailure, OSError) as exc:
            controller.close()
            raise TorControlError(f"Tor's control port {address} refused us: {exc}") from None
        return cls(controller)

    @classmethod
    def launch(
        cls,
        config: Mapping[str, str | list[str]],
        *,
        tor_cmd: str = "tor",
        timeout: float = 90,
        on_message: Callable[[str], None] | None = None,
        cookie: str | Path | None = None,
    ) -> TorController:
        """Launch tor with ``config`` (see :func:`launch_config`), owned by this process."""
        import stem.process

        check_loopback_only(config)
        control = config.get("ControlPort")
        if not isinstance(control, str):
            raise ValueError("the config needs one ControlPort 127.0.0.1:PORT")
        process = stem.process.launch_tor_with_config(
            config=dict(config),
            tor_cmd=tor_cmd,
            timeout=timeout,
            take_ownership=True,
            init_msg_handler=on_message,
        )
        if cookie is None and "DataDirectory" in config:
            cookie = Path(str(config["DataDirectory"])) / "control_auth_cookie"
        try:
            attached = cls.attach(control.split()[0], cookie=cookie)
        except Exception:
            process.kill()
            process.wait()
            raise
        attached.process = process
        return attached

    def bootstrap_status(self) -> BootstrapStatus:
        return parse_bootstrap_status(self.controller.get_info("status/bootstrap-phase"))

    def wait_bootstrapped(
        self,
        progress_callback: Callable[[BootstrapStatus], Any] | None = None,
        timeout: float = 60.0,
        *,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> BootstrapStatus:
        """Poll bootstrap progress until 100 %; call ``progress_callback`` on every change.

        Raises TimeoutError (with the last phase) after ``timeout`` seconds.
        """
        deadline = clock() + timeout
        last: BootstrapStatus | None = None
        for _ in range(int(timeout / interval) + 2):  # bounded even if the clock stalls
            status = self.bootstrap_status()
            if status != last and progress_callback is not None:
                progress_callback(status)
            last = status
            if status.done:
                return status
            if clock() >= deadline:
                break
            sleep(interval)
        raise TimeoutError(
            f"tor did not bootstrap within {timeout:g} s (at {last.progress if last else 0} %: "
            f"{last.summary if last else 'no answer'})"
        )

    def get_listeners(self) -> list[tuple[str, int]]:
        """The SOCKS listeners as ``(ip, port)``."""
        from stem.control import Listener

        return [(host, int(port)) for host, port in self.controller.get_listeners(Listener.SOCKS)]

    def newnym(self) -> NewnymResult:
        """Signal NEWNYM unless Tor's rate limit (one per ~10 s) says to wait."""
        from stem import Signal

        if not self.controller.is_newnym_available():
            return NewnymResult(False, float(self.controller.get_newnym_wait()))
        self.controller.signal(Signal.NEWNYM)
        return NewnymResult(True)

    def close(self) -> None:
        """Close the control connection; stop tor if we launched it."""
        try:
            self.controller.close()
        finally:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()

    def __enter__(self) -> TorController:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
