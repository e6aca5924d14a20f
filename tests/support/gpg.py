"""Check OpenPGP signatures with the real ``gpg`` binary, in a throw-away home (test-only).

``GnuPG(home)`` runs ``gpg --batch`` in its own home directory: ``import_keys(armored)``
and ``verify(text)``, which returns the exit status and the ``VALIDSIG`` fingerprint.
``gpg_verify(text, armored_key)`` is the one-shot form in a temporary home.
``needs_gpg`` skips a test where ``gpg`` is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the gpg binary")


@dataclass(frozen=True)
class Verified:
    returncode: int
    signer: str | None  # the fingerprint of a VALIDSIG status line
    stdout: str  # the status lines
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.signer is not None


class GnuPG:
    """``gpg`` with its own home directory (``home`` is created, mode 0700)."""

    def __init__(self, home: Path) -> None:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.home = home
        self.env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin", "LC_ALL": "C"}

    def run(self, *args: str, data: str | bytes) -> subprocess.CompletedProcess[str]:
        data = data.decode() if isinstance(data, bytes) else data
        return subprocess.run(
            ["gpg", "--homedir", str(self.home), "--batch", "--no-tty", "--no-autostart",
             "--status-fd", "1", *args],
            input=data, env=self.env, capture_output=True, text=True,
        )  # fmt: skip

    def import_keys(self, armored: str | bytes) -> None:
        done = self.run("--import", data=armored)
        assert done.returncode == 0, done.stderr

    def verify(self, signed: str | bytes) -> Verified:
        done = self.run("--verify", data=signed)
        valid = re.search(r"^\[GNUPG:\] VALIDSIG ([0-9A-F]{40})", done.stdout, re.M)
        return Verified(
            done.returncode, valid.group(1) if valid else None, done.stdout, done.stderr
        )


def gpg_verify(text: str | bytes, armored_key: str | bytes) -> bool:
    """Whether ``text`` is validly signed by ``armored_key`` (a fresh temporary home)."""
    with tempfile.TemporaryDirectory(prefix="gpg") as home:
        gpg = GnuPG(Path(home) / "gnupg")
        gpg.import_keys(armored_key)
        return gpg.verify(text).ok
