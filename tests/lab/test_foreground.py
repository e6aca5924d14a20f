"""Unit tests of ``onionlab.lab.foreground`` with a fake lab: signals, process death, health.

No tor here: a fake object stands in for ``onionlab.lab.controller.Lab`` and real signals are sent
to this process from a timer thread (pytest runs tests in the main thread).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from onionlab.lab import foreground
from onionlab.lab.foreground import healthy, lab_processes_alive, run_foreground


class FakeLab:
    """Records calls; ``up`` writes lab.json like the real one, or blocks if ``slow_up``."""

    def __init__(self, *, slow_up: bool = False, services: list[dict[str, Any]] | None = None):
        self.slow_up = slow_up
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.cleaned_up = False
        self.services = services if services is not None else []

    def up(self, **kwargs: Any) -> Path:
        self.calls.append(("up", kwargs))
        if self.slow_up:
            try:
                for _ in range(200):  # at most 10 s
                    time.sleep(0.05)
            except BaseException:
                self.cleaned_up = True  # the real Lab.up stops what it started here
                raise
        state = Path(kwargs["data_dir"]) / "lab.json"
        state.write_text("{}")
        return state

    def down(self, **kwargs: Any) -> bool:
        self.calls.append(("down", kwargs))
        (Path(kwargs["data_dir"]) / "lab.json").unlink(missing_ok=True)
        return True

    def status(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("status", kwargs))
        return {"running": bool(self.services), "services": self.services}


def _signal_later(signum: int, delay: float) -> threading.Timer:
    timer = threading.Timer(delay, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


def _names(lab: FakeLab) -> list[str]:
    return [name for name, _ in lab.calls]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_running_lab(tmp_path: Path, signum: int) -> None:
    lab = FakeLab()
    before = signal.getsignal(signum)
    messages: list[str] = []
    ready: list[Path] = []
    timer = _signal_later(signum, 0.3)
    started = time.monotonic()
    code = run_foreground(
        lab,  # type: ignore[arg-type]
        seed=3,
        scale=1.0,
        data_dir=tmp_path,
        profile=None,
        progress=messages.append,
        on_ready=ready.append,
        alive=lambda _: True,
        max_seconds=10,
    )
    timer.join()
    assert code == 0
    assert time.monotonic() - started < 5
    assert _names(lab) == ["up", "down"]
    assert lab.calls[0][1] == {
        "seed": 3,
        "scale": 1.0,
        "data_dir": tmp_path,
        "progress": messages.append,
    }
    assert "profile" not in lab.calls[0][1]
    assert ready == [tmp_path / "lab.json"]
    assert any(signal.Signals(signum).name in m for m in messages)
    assert signal.getsignal(signum) == before


def test_profile_is_passed_when_given(tmp_path: Path) -> None:
    lab = FakeLab()
    code = run_foreground(
        lab,  # type: ignore[arg-type]
        seed=1,
        scale=2.0,
        data_dir=tmp_path,
        profile="hard",
        alive=lambda _: True,
        max_seconds=0.2,
    )
    assert code == 0
    assert lab.calls[0][1]["profile"] == "hard"
    assert _names(lab) == ["up", "down"]


def test_a_dead_lab_process_stops_the_lab_and_fails(tmp_path: Path) -> None:
    lab = FakeLab()
    checks: list[Path] = []

    def alive(lab_dir: Path) -> bool:
        checks.append(lab_dir)
        return len(checks) < 3

    code = run_foreground(
        lab,  # type: ignore[arg-type]
        seed=1,
        scale=1.0,
        data_dir=tmp_path,
        alive=alive,
        watch_interval=0.05,
        max_seconds=10,
    )
    assert code == 1
    assert len(checks) == 3
    assert _names(lab) == ["up", "down"]


def test_signal_during_start_up_lets_up_clean_up(tmp_path: Path) -> None:
    lab = FakeLab(slow_up=True)
    before = signal.getsignal(signal.SIGTERM)
    timer = _signal_later(signal.SIGTERM, 0.3)
    started = time.monotonic()
    code = run_foreground(
        lab,  # type: ignore[arg-type]
        seed=1,
        scale=1.0,
        data_dir=tmp_path,
        alive=lambda _: True,
        max_seconds=10,
    )
    timer.join()
    assert code == 128 + signal.SIGTERM
    assert time.monotonic() - started < 5
    assert lab.cleaned_up
    assert _names(lab) == ["up"]  # nothing was up, so nothing to take down
    assert signal.getsignal(signal.SIGTERM) == before


def test_refuses_to_run_outside_the_main_thread(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_foreground(FakeLab(), seed=1, scale=1.0, data_dir=tmp_path)  # type: ignore[arg-type]
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=5)
    assert errors and "main thread" in str(errors[0])


def test_healthy_needs_every_service_to_answer(tmp_path: Path) -> None:
    ok = {"name": "market", "answers": True}
    down = {"name": "forum", "answers": False}
    assert healthy(tmp_path, lab=FakeLab(services=[ok]))  # type: ignore[arg-type]
    assert not healthy(tmp_path, lab=FakeLab(services=[ok, down]))  # type: ignore[arg-type]
    assert not healthy(tmp_path, lab=FakeLab(services=[]))  # type: ignore[arg-type]


def test_a_site_scammed_on_purpose_keeps_the_lab_healthy(tmp_path: Path) -> None:
    ok = {"name": "market", "answers": True}
    gone = {"name": "forum", "answers": False}
    lab = FakeLab(services=[ok, gone])
    assert healthy(tmp_path, lab=lab, scammed=lambda *_: {"forum"})  # type: ignore[arg-type]
    assert not healthy(tmp_path, lab=lab, scammed=lambda *_: {"paste"})  # type: ignore[arg-type]
    assert not healthy(tmp_path, lab=lab, scammed=lambda *_: set())  # type: ignore[arg-type]


def test_healthy_without_a_lab(tmp_path: Path) -> None:
    assert not healthy(tmp_path / "nothing-here", timeout=1)


def test_process_liveness(tmp_path: Path) -> None:
    assert not lab_processes_alive(tmp_path)  # no lab.json
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert foreground._proc_alive(child.pid)
        child.terminate()
        deadline = time.monotonic() + 5
        # Not reaped yet: a zombie must count as dead.
        while foreground._proc_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not foreground._proc_alive(child.pid)
    finally:
        child.kill()
        child.wait(timeout=5)
