"""Site accounts from configuration, for plugins that pass login walls (crawler layer).

Looked up per onion host, with ``*`` as the fallback for every other host. Sources, first
found wins (flags > environment > config file, as everywhere in onionlab):

- ``ONIONLAB_CREDENTIALS`` (Scrapy setting or environment variable): a TOML file path;
- ``onionlab.toml`` in the working directory (or the file ``ONIONLAB_CONFIG`` names).

Either file holds one table per host under ``[credentials]``::

    [credentials."abc…xyz.onion"]
    username = "trainee"
    password = "trainee-lab-pass"

    [credentials."*"]
    username = "someone"
    password = "secret"

(the file named by ``ONIONLAB_CREDENTIALS`` may also leave out the ``credentials`` level).
Passwords are never logged: :class:`Credentials` hides them in its ``repr``.
Depends on the standard library and :mod:`onionlab.crawler.config` (which reads the TOML).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onionlab.crawler.config import ConfigError, read_toml

CONFIG_FILE = "onionlab.toml"
WILDCARD = "*"


class CredentialsError(ValueError):
    """A credentials file is missing or malformed; the message says which and why."""


@dataclass(frozen=True)
class Credentials:
    """One account on one site."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class CredentialStore:
    """Accounts by lower-case onion host, ``*`` for any other host."""

    accounts: Mapping[str, Credentials] = field(default_factory=dict)
    source: str = ""

    def for_host(self, host: str | None) -> Credentials | None:
        """The account for ``host`` (a host name, port ignored), else the ``*`` one, else None."""
        name = (host or "").lower().partition(":")[0]
        return self.accounts.get(name) or self.accounts.get(WILDCARD)

    def __len__(self) -> int:
        return len(self.accounts)


def parse_credentials(data: Mapping[str, Any], source: str = "") -> CredentialStore:
    """Build a store from parsed TOML (with or without the ``credentials`` level)."""
    table = data.get("credentials", data)
    if not isinstance(table, Mapping):
        raise CredentialsError(f"{source}: [credentials] must be a table of hosts")
    accounts: dict[str, Credentials] = {}
    for host, entry in table.items():
        if not isinstance(entry, Mapping):
            if "credentials" not in data:
                continue  # a top-level key of another section of the file
            raise CredentialsError(f"{source}: credentials for {host!r} must be a table")
        username, password = entry.get("username"), entry.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise CredentialsError(
                f"{source}: credentials for {host!r} need string 'username' and 'password'"
            )
        if not username or not password:
            raise CredentialsError(f"{source}: credentials for {host!r} are empty")
        accounts[str(host).lower()] = Credentials(username, password)
    return CredentialStore(accounts, source)


def _read(path: Path) -> dict[str, Any]:
    try:  # missing, unreadable, not UTF-8, not TOML: one line (onionlab.crawler.config)
        return read_toml(path, "credentials file")
    except ConfigError as exc:
        raise CredentialsError(str(exc)) from None


def load_credentials(
    setting: str | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> CredentialStore:
    """Load accounts: ``setting`` (a path), else ``$ONIONLAB_CREDENTIALS``, else the config file.

    A file named explicitly must exist; a missing ``onionlab.toml`` just means no accounts.
    """
    env = os.environ if env is None else env
    explicit = setting or env.get("ONIONLAB_CREDENTIALS")
    if explicit:
        path = Path(explicit).expanduser()
        return parse_credentials(_read(path), str(path))
    config = Path(env.get("ONIONLAB_CONFIG") or (cwd or Path.cwd()) / CONFIG_FILE).expanduser()
    if not config.is_file():
        return CredentialStore()
    data = _read(config)
    if "credentials" not in data:
        return CredentialStore(source=str(config))
    return parse_credentials({"credentials": data["credentials"]}, str(config))
