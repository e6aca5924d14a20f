"""The stem-based Tor manager with a mocked stem Controller: bootstrap progress, listeners,
NEWNYM within Tor's rate limit, loopback-only configs and control addresses."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from onionlab.crawler.downloadermiddlewares.torhealth import is_tor_down, onion_failure_host
from onionlab.crawler.tor.errors import SocksTransientError, error_for_reply
from onionlab.crawler.tor.manager import (
    BootstrapStatus,
    TorController,
    check_loopback_only,
    launch_config,
    parse_bootstrap_status,
    parse_control_address,
)


def test_parse_bootstrap_phase() -> None:
    status = parse_bootstrap_status(
        'NOTICE BOOTSTRAP PROGRESS=75 TAG=enough_dirinfo SUMMARY="Loaded enough directory info"'
    )
    assert status == BootstrapStatus(75, "enough_dirinfo", "Loaded enough directory info")
    assert not status.done
    assert parse_bootstrap_status("NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=Done").done
    assert parse_bootstrap_status("garbage").progress == 0


def test_control_address_must_be_a_loopback_ip() -> None:
    assert parse_control_address("127.0.0.1:9051") == ("127.0.0.1", 9051)
    assert parse_control_address("[::1]:9051") == ("::1", 9051)
    for bad in ("localhost:9051", "10.0.0.1:9051", "127.0.0.1", "127.0.0.1:0"):
        with pytest.raises(ValueError):
            parse_control_address(bad)


def test_launch_config_is_minimal_and_loopback_only(tmp_path: Path) -> None:
    config = launch_config(9050, 9051, tmp_path)
    assert config["SocksPort"].startswith("127.0.0.1:9050 ")
    assert config["ControlPort"] == "127.0.0.1:9051"
    assert config["CookieAuthentication"] == "1"
    for bad in ({"ORPort": "9001"}, {"SocksPort": "0.0.0.0:9050"}, {"DirPort": ["auto"]}):
        with pytest.raises(ValueError, match="loopback"):
            launch_config(9050, 9051, tmp_path, extra=bad)
    check_loopback_only({"ORPort": "0", "HiddenServicePort": "80 127.0.0.1:8080"})


def _controller(phases: list[str]) -> mock.Mock:
    controller = mock.Mock()
    controller.get_info.side_effect = phases
    return controller


def test_wait_bootstrapped_reports_each_change() -> None:
    phases = [f"NOTICE BOOTSTRAP PROGRESS={p} TAG=t SUMMARY=s" for p in (5, 5, 50, 100)]
    seen: list[int] = []
    tor = TorController(_controller(phases))
    status = tor.wait_bootstrapped(lambda s: seen.append(s.progress), 10, sleep=lambda _: None)
    assert status.done
    assert seen == [5, 50, 100]


def test_wait_bootstrapped_times_out() -> None:
    now = iter(range(100))
    tor = TorController(_controller(["NOTICE BOOTSTRAP PROGRESS=10 TAG=t SUMMARY=stuck"] * 100))
    with pytest.raises(TimeoutError, match="10 %"):
        tor.wait_bootstrapped(None, 5, interval=1, clock=lambda: next(now), sleep=lambda _: None)


def test_listeners_and_newnym_respect_the_rate_limit() -> None:
    from stem import Signal
    from stem.control import Listener

    controller = mock.Mock()
    controller.get_listeners.return_value = [("127.0.0.1", 9050)]
    tor = TorController(controller)
    assert tor.get_listeners() == [("127.0.0.1", 9050)]
    controller.get_listeners.assert_called_once_with(Listener.SOCKS)

    controller.is_newnym_available.return_value = True
    assert tor.newnym().sent
    controller.signal.assert_called_once_with(Signal.NEWNYM)

    controller.is_newnym_available.return_value = False
    controller.get_newnym_wait.return_value = 7.5
    result = tor.newnym()
    assert not result.sent and result.wait == 7.5
    assert controller.signal.call_count == 1


def test_attach_authenticates_with_the_cookie(tmp_path: Path) -> None:
    controller = mock.Mock()
    factory = mock.Mock(return_value=controller)
    cookie = tmp_path / "control_auth_cookie"
    with mock.patch("stem.connection.authenticate_cookie") as auth:
        tor = TorController.attach("127.0.0.1:9051", cookie=cookie, controller_factory=factory)
    factory.assert_called_once_with(address="127.0.0.1", port=9051)
    auth.assert_called_once_with(controller, str(cookie))
    tor.close()
    controller.close.assert_called_once()


def test_which_failures_mean_tor_is_down() -> None:
    assert is_tor_down(SocksTransientError("cannot connect", None, "x.onion"))
    assert not is_tor_down(error_for_reply(0xF0, "x.onion"))
    assert onion_failure_host(error_for_reply(0xF2, "X.onion")) == "x.onion"
    assert onion_failure_host(error_for_reply(0x05, "x.onion")) is None
    assert onion_failure_host(error_for_reply(0xF6, "x.onion")) is None  # permanent
