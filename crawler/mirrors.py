"""A site's official mirror list (dark.fail's ``/mirrors.txt`` convention) (crawler layer).

Each line of ``/mirrors.txt`` that starts with ``http://`` (or ``https://``) names one
official address, scheme and host only; ``#`` starts a comment. Markets clearsign the file
with their admin key. This module reads the list and says whether it came inside a
clearsigned message; it does not verify the signature (that needs the site's key: see the
lab's exercise "Verify the official addresses"). Depends on the standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MIRRORS_PATH = "/mirrors.txt"
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


def parse_mirror_list(text: str) -> MirrorList:
    """Read the official onion hosts of a ``mirrors.txt`` (signed or not)."""
    signed = _SIGNED_BEGIN in text and _SIGNATURE_BEGIN in text
    body = text
    if signed:
        body = text.split(_SIGNED_BEGIN, 1)[1].split(_SIGNATURE_BEGIN, 1)[0]
    hosts: list[str] = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("- "):  # clearsign dash-escaping
            line = line[2:]
        if not line.startswith(("http://", "https://")):
            continue
        host = (urlsplit(line).hostname or "").lower()
        if _ONION_HOST.match(host) and host not in hosts:
            hosts.append(host)
    return MirrorList(tuple(hosts), signed)


def with_host(url: str, host: str) -> str:
    """``url`` on another host (same scheme, port, path, query)."""
    parts = urlsplit(url)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()
