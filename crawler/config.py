"""Where onionlab keeps its data, the defaults every command shares, and reading TOML files.

Precedence: command-line flags > ``ONIONLAB_*`` environment variables > defaults.
Every mistake here is a :class:`ConfigError` whose message names the path and says what to
do (the CLI shows it as one line, exit 2). Depends on the standard library only.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = "onionlab-data"


class ConfigError(ValueError):
    """A data directory or configuration file onionlab cannot use; the message says why."""


def data_dir(flag: str | Path | None = None) -> Path:
    """The data directory: ``--data-dir``, else ``$ONIONLAB_DATA``, else ``./onionlab-data``.

    :class:`ConfigError` when it exists and is not a directory (it need not exist yet).
    """
    from_env = not flag and bool(os.environ.get("ONIONLAB_DATA"))
    value = flag or os.environ.get("ONIONLAB_DATA") or DEFAULT_DATA_DIR
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        origin = "$ONIONLAB_DATA" if from_env else "the data directory"
        raise ConfigError(
            f"{origin} {path} is a file, not a directory: give --data-dir (or "
            "$ONIONLAB_DATA) a directory"
        )
    return path


def lab_dir(base: Path) -> Path:
    """Where the running lab keeps its state (``lab.json``, ``truth.json``, tor data)."""
    return base / "lab"


def runs_dir(base: Path) -> Path:
    """Where crawl run directories are created."""
    return base / "runs"


CONFIG_FILE = "onionlab.toml"


def config_file(cwd: Path | None = None) -> Path:
    """The configuration file: ``$ONIONLAB_CONFIG``, else ``onionlab.toml`` in ``cwd``
    (Elasticsearch settings, site accounts); it need not exist."""
    named = os.environ.get("ONIONLAB_CONFIG")
    return Path(named or (cwd or Path.cwd()) / CONFIG_FILE).expanduser()


def check_config_file(cwd: Path | None = None) -> None:
    """:class:`ConfigError` when the configuration file exists but cannot be used (not
    readable, not UTF-8, not TOML): said once, before a crawl starts, instead of each
    component that reads it failing on its own inside the crawl."""
    path = config_file(cwd)
    if path.exists() or os.environ.get("ONIONLAB_CONFIG"):
        read_toml(path, "configuration file")


def read_toml(path: Path, what: str = "file") -> dict[str, Any]:
    """Parse a TOML file; :class:`ConfigError` (``path: what is wrong``) when it is missing,
    unreadable, not UTF-8 (TOML files are UTF-8) or not valid TOML. ``what`` names the
    file in messages (e.g. ``"site profile file"``)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}): TOML "
            "files are UTF-8; save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
