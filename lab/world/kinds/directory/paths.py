"""The directory's URL scheme: every page's path, shared by the world and the site.

The truth lists these pages and the site (``onionlab.lab.sites.directory``) renders and
links them. Depends on the directory's content.
"""

from __future__ import annotations

from onionlab.lab.world.kinds.directory.content import DirectoryContent
from onionlab.lab.world.model import Service

PROTECTED_PREFIXES: tuple[str, ...] = ()


def category_path(slug: str) -> str:
    return f"/c/{slug}"


def site_path(slug: str) -> str:
    return f"/site/{slug}"


STATUS_PATH = "/status"
WARNINGS_PATH = "/warnings"
ABOUT_PATH = "/about"


def content_of(service: Service) -> DirectoryContent:
    content = service.content
    assert isinstance(content, DirectoryContent)
    return content


def _bare(onion: str) -> str:
    return onion.removesuffix(".onion")
