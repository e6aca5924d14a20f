"""The running lab, as the commands that crawl or score it read it (its ``lab.json``).

Depends on :mod:`onionlab.crawler.config`, :mod:`onionlab.crawler.labstate` and
:mod:`.errors`; never on the lab itself (that is a plugin).
"""

from __future__ import annotations

from pathlib import Path

from onionlab.crawler import config, exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.labstate import LabNotRunning, LabState


def running_lab(data_dir: Path) -> LabState:
    """The lab running under ``data_dir``, or exit 4 with how to start one."""
    try:
        return LabState.load(config.lab_dir(data_dir) / "lab.json")
    except LabNotRunning as exc:
        fail(str(exc), exitcodes.NO_LAB)


def running_lab_or_none(data_dir: Path) -> LabState | None:
    """The lab running under ``data_dir``, or ``None`` when there is none."""
    try:
        return LabState.load(config.lab_dir(data_dir) / "lab.json")
    except LabNotRunning:
        return None
