"""The forum's URL scheme: the path of every page, shared by the world and the site.

The truth lists these paths and the site (``onionlab.lab.sites.forum``) renders and links
them, so both cannot drift apart. ``PROTECTED_PREFIXES`` are the paths behind the lab's
login wall. Depends on nothing.
"""

from __future__ import annotations

PROTECTED_PREFIXES: tuple[str, ...] = ("/u/",)


def board_path(slug: str, number: int = 1) -> str:
    return f"/d/{slug}" if number == 1 else f"/d/{slug}?page={number}"


def thread_path(tid: str, number: int = 1) -> str:
    return f"/t/{tid}" if number == 1 else f"/t/{tid}?page={number}"


def user_path(handle: str) -> str:
    return f"/u/{handle}"


PGP_PATH = "/pgp"
