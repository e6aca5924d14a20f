"""The paste site's URL scheme: every page's path, shared by the world and the site.

The truth lists these pages and the site (``onionlab.lab.sites.paste``) renders and links
them. Depends on nothing.
"""

from __future__ import annotations

HOME = "/"
ABOUT = "/about"


def index_path(number: int = 1) -> str:
    return "/" if number == 1 else f"/archive/{number}"


def paste_path(paste_id: str) -> str:
    return f"/p/{paste_id}"


def raw_path(paste_id: str) -> str:
    return f"/raw/{paste_id}"
