"""Lab profiles: which crawler obstacles the mock sites put up, and with which parameters.

A :class:`LabProfile` has one switch per obstacle (EndGame-style queue, entry CAPTCHA,
login wall, rate limit, link traps) plus their parameters, the exit-scam schedule and the
mirror rotation period, and the switch of the lab's malicious site (``hostile``). Three
named profiles exist: ``default`` (every obstacle on, all solvable by a careful crawler),
``open`` (no obstacle at all) and ``hostile`` (``default`` plus the malicious site and its
loopback canary). An instructor's TOML file overrides ``default`` (or another profile with
``base = "open"``/``"hostile"``) key by key::

    name = "week-2"
    queue_wait = 5
    captcha_max_wrong = 2
    trap_honeypot = false
    hostile = true        # add the malicious site "abyss" (see lab/README.md)
    [exit_scam]
    market = 900          # the market vanishes 15 minutes after the lab starts

Depends on the standard library only (``tomllib``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any


class ProfileError(ValueError):
    """A profile name or file is unknown or invalid; the message says what to fix."""


@dataclass(frozen=True)
class LabProfile:
    """Every obstacle switch and parameter of the lab (times in seconds)."""

    name: str = "default"
    # EndGame-style queue: a "Please Wait" page, then pass after queue_wait seconds.
    queue: bool = True
    queue_wait: float = 2.0
    # Entry CAPTCHA: more than captcha_max_wrong wrong answers → 429 for captcha_lockout s.
    captcha: bool = True
    captcha_max_wrong: int = 3
    captcha_lockout: float = 60.0
    # Login wall on each site's protected paths; sessions expire session_ttl after login.
    login: bool = True
    registration: bool = True
    session_ttl: float = 600.0
    account_username: str = "trainee"
    account_password: str = "trainee-lab-pass"
    # Token bucket per session: rate requests/s, burst requests at once.
    rate_limit: bool = True
    rate: float = 40.0
    burst: int = 80
    # Link traps injected into every HTML page.
    trap_calendar: bool = True
    trap_sort: bool = True
    trap_sid: bool = True
    trap_logout: bool = True
    trap_honeypot: bool = True
    honeypot_ban: float = 120.0
    # Site name → seconds after the lab starts at which it vanishes (exit scam).
    exit_scam: Mapping[str, float] = field(default_factory=dict)
    # Seconds between mirror rotations (0: mirrors never rotate).
    mirror_rotation: float = 0.0
    # The malicious site (onionlab.lab.world.kinds.hostile) and its canary; off unless switched on.
    hostile: bool = False
    hostile_hold: float = 120.0  # seconds a drip, endless body or hang holds its connection
    hostile_dark_after: int = 200  # requests after its forged mirrors.txt until it goes dark

    def __post_init__(self) -> None:
        object.__setattr__(self, "exit_scam", MappingProxyType(dict(self.exit_scam)))
        _validate(self)

    @property
    def any_obstacle(self) -> bool:
        """True if at least one request-level obstacle (middleware) is switched on."""
        return any(getattr(self, name) for name in _SWITCHES)

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain JSON-serialisable data."""
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        return data | {"exit_scam": dict(self.exit_scam)}

    def replace(self, **changes: Any) -> LabProfile:
        """A copy with ``changes`` applied (validated)."""
        return dataclasses.replace(self, **changes)


_SWITCHES = (
    "queue",
    "captcha",
    "login",
    "rate_limit",
    "trap_calendar",
    "trap_sort",
    "trap_sid",
    "trap_logout",
    "trap_honeypot",
)
_FIELDS = {f.name: f for f in dataclasses.fields(LabProfile)}
_FIELD_NAMES = tuple(_FIELDS)


def _validate(p: LabProfile) -> None:
    nonneg = ("queue_wait", "captcha_lockout", "honeypot_ban", "mirror_rotation")
    for name in nonneg:
        if getattr(p, name) < 0:
            raise ProfileError(f"profile {p.name!r}: {name} must be >= 0")
    positive = ("session_ttl", "rate", "hostile_hold")
    for name in positive:
        if getattr(p, name) <= 0:
            raise ProfileError(f"profile {p.name!r}: {name} must be > 0")
    if p.burst < 1:
        raise ProfileError(f"profile {p.name!r}: burst must be >= 1")
    if p.hostile_dark_after < 0:
        raise ProfileError(f"profile {p.name!r}: hostile_dark_after must be >= 0")
    if p.captcha_max_wrong < 0:
        raise ProfileError(f"profile {p.name!r}: captcha_max_wrong must be >= 0")
    if not p.account_username or not p.account_password:
        raise ProfileError(f"profile {p.name!r}: the lab account needs a username and password")
    for site, after in p.exit_scam.items():
        if not isinstance(site, str) or isinstance(after, bool):
            raise ProfileError(f"profile {p.name!r}: exit_scam maps site names to seconds")
        if not isinstance(after, int | float) or after < 0:
            raise ProfileError(f"profile {p.name!r}: exit_scam.{site} must be seconds >= 0")


DEFAULT = LabProfile()
OPEN = LabProfile(name="open", **{name: False for name in _SWITCHES})
HOSTILE = LabProfile(name="hostile", hostile=True)
PROFILES: dict[str, LabProfile] = {"default": DEFAULT, "open": OPEN, "hostile": HOSTILE}


def _coerce(name: str, value: Any, source: str) -> Any:
    if name not in _FIELDS:
        known = ", ".join(sorted(set(_FIELDS) | {"base"}))
        raise ProfileError(f"{source}: unknown key {name!r}; known keys: {known}")
    current = getattr(DEFAULT, name)
    if name == "exit_scam":
        if not isinstance(value, dict):
            raise ProfileError(
                f"{source}: exit_scam must be a table, e.g. [exit_scam] market = 900"
            )
        return value
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ProfileError(f"{source}: {name} must be true or false, not {value!r}")
        return value
    if isinstance(current, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProfileError(f"{source}: {name} must be a number, not {value!r}")
        if isinstance(current, int):
            if value != int(value):
                raise ProfileError(f"{source}: {name} must be a whole number, not {value!r}")
            return int(value)
        return float(value)
    if not isinstance(value, str):
        raise ProfileError(f"{source}: {name} must be a string, not {value!r}")
    return value


def profile_from_mapping(data: Mapping[str, Any], *, name: str, source: str) -> LabProfile:
    """Build a profile from TOML-like ``data`` overriding ``default`` (or ``data["base"]``)."""
    data = dict(data)
    base_name = data.pop("base", "default")
    if base_name not in PROFILES:
        choices = ", ".join(PROFILES)
        raise ProfileError(f"{source}: base must be one of {choices}, not {base_name!r}")
    changes = {key: _coerce(key, value, source) for key, value in data.items()}
    changes.setdefault("name", name)
    return PROFILES[base_name].replace(**changes)


def load_profile(name_or_path: str) -> LabProfile:
    """The named profile (``default``, ``open``, ``hostile``) or the one a TOML file describes."""
    if name_or_path in PROFILES:
        return PROFILES[name_or_path]
    path = Path(name_or_path).expanduser()
    names = list(PROFILES)
    if not path.is_file():
        raise ProfileError(
            f"unknown lab profile {name_or_path!r}: use {', '.join(names[:-1])} or {names[-1]}, "
            "or the path of a TOML profile file"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc}") from None
    return profile_from_mapping(data, name=path.stem, source=str(path))
