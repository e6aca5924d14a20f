"""A site's official mirror list (dark.fail's ``/mirrors.txt`` convention) (crawler layer).

Each line of ``/mirrors.txt`` that starts with ``http://`` (or ``https://``) names one
official address, scheme and host only; ``#`` starts a comment. Markets clearsign the file
with their admin key and publish that key as ``/pgp.txt`` (an ASCII-armored public key),
on every one of their addresses.

This module reads a list (:func:`parse_mirror_list`) and checks signatures
(:class:`SignatureChecker`): :meth:`~SignatureChecker.key_fingerprint` says which key a
``pgp.txt`` holds, :meth:`~SignatureChecker.verify` whether a ``mirrors.txt`` is validly
clearsigned by one given key and what exactly was signed (only the signed text is read:
anything around or after the signed block is ignored, a second signed block is refused).
The trust rules built on it (pin the key on first contact, accept a mirror only when it
proves the same key) are :mod:`onionlab.crawler.mirrortrust`'s. Depends on the
standard library and python-gnupg, which runs the ``gpg`` binary in a throw-away home holding the
one key (no keyring, no agent, no key server: nothing but the given key can make a list valid).
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

MIRRORS_PATH = "/mirrors.txt"
KEY_PATH = "/pgp.txt"
MAX_SIGNED_FILE = 64 * 1024  # a mirror list or a key: a few KiB; more is not read
# Options for every gpg run: no agent, no dirmngr, no key server, no trust database.
_GPG_OPTIONS = [
    "--no-autostart",
    "--no-auto-key-retrieve",
    "--auto-key-locate=clear,nodefault",
    "--trust-model=always",
]
_SIGNED_BEGIN = "-----BEGIN PGP SIGNED MESSAGE-----"
_SIGNATURE_BEGIN = "-----BEGIN PGP SIGNATURE-----"
_ONION_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*[a-z2-7]{56}\.onion$")


@dataclass(frozen=True)
class MirrorList:
    """The onion hosts a ``mirrors.txt`` names, in order, and whether it was clearsigned."""

    hosts: tuple[str, ...]
    signed: bool


def is_mirror_list(url: str) -> bool:
    """True for a site's ``/mirrors.txt``."""
    return urlsplit(url).path == MIRRORS_PATH


def is_key_file(url: str) -> bool:
    """True for a site's published key, ``/pgp.txt``."""
    return urlsplit(url).path == KEY_PATH


def onion_hosts(text: str) -> tuple[str, ...]:
    """The onion hosts named by ``http(s)://`` lines of (already unwrapped) list text."""
    hosts: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("- "):  # clearsign dash-escaping
            line = line[2:]
        if not line.startswith(("http://", "https://")):
            continue
        try:
            host = (urlsplit(line).hostname or "").lower()
        except ValueError:
            continue
        if _ONION_HOST.match(host) and host not in hosts:
            hosts.append(host)
    return tuple(hosts)


@dataclass(frozen=True)
class Verified:
    """What a signature check found: ``ok`` with the ``signer``'s fingerprint and the
    ``signed`` text, or not ``ok`` with a ``reason`` (``unsigned``, ``several_signed_blocks``,
    ``too_large``, ``bad_signature``, ``wrong_key``, ``no_gpg``)."""

    ok: bool
    reason: str = ""
    signer: str | None = None
    signed: str = ""

    @property
    def hosts(self) -> tuple[str, ...]:
        """The onion hosts the signed text names (empty unless ``ok``)."""
        return onion_hosts(self.signed) if self.ok else ()


class SignatureChecker:
    """OpenPGP checks with ``gpg`` (python-gnupg), each in a fresh home with one key."""

    def __init__(self, binary: str = "gpg") -> None:
        self.binary = shutil.which(binary)

    @property
    def available(self) -> bool:
        return self.binary is not None

    def _gpg(self, home: str):  # type: ignore[no-untyped-def]
        import gnupg

        return gnupg.GPG(gpgbinary=self.binary, gnupghome=home, options=list(_GPG_OPTIONS))

    def key_fingerprint(self, armored: str) -> str | None:
        """The fingerprint of the one public key ``armored`` holds; None for anything else
        (no key, several keys, a secret key, garbage)."""
        if not self.available or len(armored) > MAX_SIGNED_FILE:
            return None
        if "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in armored:
            return None
        with tempfile.TemporaryDirectory(prefix="onionlab-gpg-") as home:
            result = self._gpg(home).import_keys(armored)
            fingerprints = sorted(set(result.fingerprints or []))
        if len(fingerprints) != 1 or getattr(result, "sec_imported", 0):
            return None
        return str(fingerprints[0]).upper()

    def verify(self, text: str, armored_key: str, fingerprint: str) -> Verified:
        """Whether ``text`` is one clearsigned message validly signed by the key
        ``fingerprint`` (given as ``armored_key``), and what it signed."""
        if _SIGNED_BEGIN not in text or _SIGNATURE_BEGIN not in text:
            return Verified(False, "unsigned")
        if text.count(_SIGNED_BEGIN) != 1:
            return Verified(False, "several_signed_blocks")
        if len(text) > MAX_SIGNED_FILE:
            return Verified(False, "too_large")
        if not self.available:
            return Verified(False, "no_gpg")
        with tempfile.TemporaryDirectory(prefix="onionlab-gpg-") as home:
            gpg = self._gpg(home)
            gpg.import_keys(armored_key)
            result = gpg.decrypt(text)
        signer = (result.pubkey_fingerprint or result.fingerprint or "").upper() or None
        if not result.valid or result.returncode != 0:
            reason = "wrong_key" if result.status == "no public key" else "bad_signature"
            return Verified(False, reason, signer)
        if signer != fingerprint.upper():
            return Verified(False, "wrong_key", signer)
        return Verified(True, "", signer, result.data.decode("utf-8", errors="replace"))


def parse_mirror_list(text: str) -> MirrorList:
    """Read the official onion hosts of a ``mirrors.txt`` (signed or not)."""
    signed = _SIGNED_BEGIN in text and _SIGNATURE_BEGIN in text
    body = text
    if signed:
        body = text.split(_SIGNED_BEGIN, 1)[1].split(_SIGNATURE_BEGIN, 1)[0]
    return MirrorList(onion_hosts(body), signed)


def with_host(url: str, host: str) -> str:
    """``url`` on another host (same scheme, port, path, query)."""
    parts = urlsplit(url)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()
