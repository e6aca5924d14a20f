"""The paste site's content model (``Paste``, ``PasteBin``) and its sizes.

Depends on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from dataclasses import dataclass

from onionlab.lab.world.model import find_by

PASTES_PER_SCALE = 140
PER_PAGE = 15
MIN_PASTES = 12


@dataclass(frozen=True)
class Paste:
    """One paste. ``found``/``decoys`` are the ``(type, value)`` identifiers in ``body``."""

    paste_id: str
    title: str
    author: str
    created: str  # "2026-09-14 13:22:07 UTC"
    expires: str  # "Never" or a time like ``created``
    syntax: str
    kind: str  # prices_en, prices_ru, pgp, mirrors, contacts, crypto, chatter, link, encrypted
    body: str  # "" for the encrypted paste
    views: int
    found: tuple[tuple[str, str], ...] = ()
    decoys: tuple[tuple[str, str], ...] = ()
    cipher: str = ""  # the encrypted paste's JSON envelope (v, adata, iv, ct)

    @property
    def encrypted(self) -> bool:
        return bool(self.cipher)


@dataclass(frozen=True)
class PasteBin:
    pastes: tuple[Paste, ...]  # newest first
    encrypted_id: str
    fragment: str  # the key (base64url) that only the full link carries
    link_id: str  # the paste quoting the full link

    def paste(self, paste_id: str) -> Paste:
        return find_by(self.pastes, "paste_id", paste_id)
