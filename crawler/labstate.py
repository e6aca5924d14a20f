"""Reads the lab's exports (``lab.json``, ``truth.json``) — all the crawler knows of the lab.

The format is documented in ``docs/lab-contract.md``. Also defines the structural type a
lab controller must have for ``onionlab demo`` (provided by a plugin, see hookspecs).
Depends on the standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

LAB_SCHEMA = "onionlab-lab/1"
TRUTH_SCHEMA = "onionlab-truth/1"


class LabNotRunning(RuntimeError):
    """No lab state where one was expected; the message says how to start one."""


class LabController(Protocol):
    def up(
        self,
        *,
        seed: int,
        scale: float,
        profile: str,
        data_dir: Path,
        progress: Callable[[str], None],
    ) -> Path: ...

    def down(self, *, data_dir: Path) -> None: ...


@dataclass(frozen=True)
class LabService:
    name: str
    kind: str
    onion: str
    url: str
    local: str
    mirrors: tuple[str, ...] = ()  # onion hosts of the service's mirrors


@dataclass(frozen=True)
class LabState:
    path: Path
    seed: int
    socks_host: str
    socks_port: int
    services: tuple[LabService, ...]
    truth_path: Path
    control: str = ""  # "IP:PORT" of the lab client's ControlPort
    control_cookie: str = ""

    @property
    def socks(self) -> str:
        return f"{self.socks_host}:{self.socks_port}"

    def site_hosts(self) -> dict[str, list[str]]:
        """Service name → its onion hosts (the main address first, then its mirrors)."""
        return {s.name: [s.onion.lower(), *(m.lower() for m in s.mirrors)] for s in self.services}

    @classmethod
    def load(cls, path: Path) -> LabState:
        if not path.exists():
            raise LabNotRunning(
                f"No running lab found ({path} does not exist). Start one with `onionlab up`."
            )
        data: dict[str, Any] = json.loads(path.read_text())
        if data.get("schema") != LAB_SCHEMA:
            raise LabNotRunning(f"{path} is not an onionlab lab state ({data.get('schema')!r})")
        return cls(
            path=path,
            seed=int(data["seed"]),
            socks_host=data["socks"]["host"],
            socks_port=int(data["socks"]["port"]),
            services=tuple(
                LabService(
                    s["name"],
                    s["kind"],
                    s["onion"],
                    s["url"],
                    s.get("local", ""),
                    tuple(
                        (m["onion"] if isinstance(m, dict) else str(m)).lower()
                        for m in s.get("mirrors", ())
                    ),
                )
                for s in data["services"]
            ),
            truth_path=Path(data["truth"]),
            control=f"{data['control']['host']}:{data['control']['port']}"
            if data.get("control")
            else "",
            control_cookie=(data.get("control") or {}).get("cookie", ""),
        )


def load_truth(path: Path) -> dict[str, Any]:
    """Load a ground-truth file, checking its schema."""
    truth: dict[str, Any] = json.loads(Path(path).read_text())
    if truth.get("schema") != TRUTH_SCHEMA:
        raise ValueError(f"{path} is not onionlab ground truth ({truth.get('schema')!r})")
    return truth
