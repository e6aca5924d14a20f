"""Identity keys of the lab's relays and directory authorities.

Runs Debian's ``tor-gencert`` and ``tor --list-fingerprint`` (found via :mod:`.process`);
neither opens a network connection. Keys land in each node's tor DataDirectory. Each
kind of key is made for all nodes in parallel: RSA key generation is the slow part.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .ports import LOOPBACK
from .process import find_executable

# --list-fingerprint only generates keys and exits, but it still parses a full
# configuration: give it a dummy local authority so no default one is ever configured.
_PLACEHOLDER_AUTHORITY = f"placeholder {LOOPBACK}:1 " + "f" * 40
_KEYGEN_TIMEOUT = 60.0


@dataclass(frozen=True)
class KeyRequest:
    """One server needing keys: its nickname, tor DataDirectory and loopback port.

    ``port`` is the ORPort for relay identity keys and the DirPort for an authority
    certificate (tor-gencert writes it into the certificate).
    """

    nick: str
    data_dir: Path
    port: int


def authority_v3idents(requests: list[KeyRequest]) -> dict[str, str]:
    """Create each authority's v3 identity key, signing key and certificate.

    Returns ``{nick: v3ident}``.
    """
    gencert = find_executable("tor-gencert")
    return _run_parallel(
        requests,
        lambda req: _gencert_command(gencert, req),
        # An empty passphrase: the lab's identity keys protect nothing of value.
        stdin=b"\n",
        result=lambda req: parse_v3ident(
            (req.data_dir / "keys" / "authority_certificate").read_text()
        ),
    )


def relay_fingerprints(requests: list[KeyRequest], empty_torrc: Path) -> dict[str, str]:
    """Create each server's relay identity keys; return ``{nick: 40-hex RSA fingerprint}``.

    ``empty_torrc`` must be an existing empty file (tor refuses /dev/null as a torrc):
    every option comes from the command line.
    """
    tor = find_executable("tor")
    return _run_parallel(
        requests,
        lambda req: _list_fingerprint_command(tor, req, empty_torrc),
        stdin=b"",
        result=lambda req: parse_fingerprint_file(
            (req.data_dir / "fingerprint").read_text(), req.nick
        ),
    )


def parse_v3ident(certificate: str) -> str:
    """Return the ``fingerprint`` line's value of a v3 authority key certificate."""
    for line in certificate.splitlines():
        key, _, value = line.partition(" ")
        if key == "fingerprint" and value.strip():
            return value.strip().upper()
    raise ValueError("authority certificate has no fingerprint line")


def read_fingerprint(data_dir: Path, nick: str) -> str | None:
    """Return the fingerprint a running tor wrote into its DataDirectory, None until it has."""
    try:
        text = (data_dir / "fingerprint").read_text()
    except FileNotFoundError:
        return None
    return parse_fingerprint_file(text, nick) if text.strip() else None


def parse_fingerprint_file(text: str, nick: str) -> str:
    """Return the 40-hex RSA fingerprint from tor's ``fingerprint`` file (``NICK FP``)."""
    name, _, fingerprint = text.strip().partition(" ")
    fingerprint = fingerprint.replace(" ", "").upper()
    if name != nick or len(fingerprint) != 40:
        raise ValueError(f"unexpected fingerprint file for {nick}: {text!r}")
    return fingerprint


def _gencert_command(gencert: str, req: KeyRequest) -> list[str]:
    keys_dir = req.data_dir / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True)
    return [
        gencert,
        "--create-identity-key",
        "--passphrase-fd",
        "0",
        "-m",
        "12",
        "-a",
        f"{LOOPBACK}:{req.port}",
        "-i",
        str(keys_dir / "authority_identity_key"),
        "-s",
        str(keys_dir / "authority_signing_key"),
        "-c",
        str(keys_dir / "authority_certificate"),
    ]


def _list_fingerprint_command(tor: str, req: KeyRequest, empty_torrc: Path) -> list[str]:
    req.data_dir.mkdir(parents=True, exist_ok=True)
    return [
        tor,
        "--defaults-torrc",
        str(empty_torrc),
        "-f",
        str(empty_torrc),
        "--list-fingerprint",
        "--DataDirectory",
        str(req.data_dir),
        "--Nickname",
        req.nick,
        "--ORPort",
        f"{LOOPBACK}:{req.port}",
        "--DirAuthority",
        _PLACEHOLDER_AUTHORITY,
        "--UseDefaultFallbackDirs",
        "0",
    ]


def _run_parallel(
    requests: list[KeyRequest],
    command: Callable[[KeyRequest], list[str]],
    *,
    stdin: bytes,
    result: Callable[[KeyRequest], str],
) -> dict[str, str]:
    running: list[tuple[KeyRequest, subprocess.Popen[bytes]]] = []
    try:
        for req in requests:
            proc = subprocess.Popen(
                command(req),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            running.append((req, proc))
        answers: dict[str, str] = {}
        for req, proc in running:
            output, _ = proc.communicate(stdin, timeout=_KEYGEN_TIMEOUT)
            if proc.returncode != 0:
                text = output.decode(errors="replace").strip()
                raise RuntimeError(
                    f"key generation for {req.nick} failed (exit {proc.returncode}): {text}"
                )
            answers[req.nick] = result(req)
        return answers
    finally:
        for _, proc in running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
