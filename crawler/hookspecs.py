"""Every hook onionlab offers to plugins, in one place (the model: pytest's ``hookspec.py``).

A plugin is a module (or object) with functions named like the hooks below and decorated
with :data:`hookimpl`; register it through the ``onionlab`` entry-point group. Plugins may
import :data:`hookimpl` and the item types from :mod:`crawler.items`, nothing else of the core.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from scrapy.http import TextResponse

    from crawler.items import Item

PROJECT = "onionlab"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def onionlab_extract(response: TextResponse) -> Iterable[Item] | None:
    """Extract items (listings, vendors, …) from one fetched page.

    Called for every HTML or text page the crawler fetches, and by ``onionlab extract``
    on saved pages. Every plugin is called; their results are merged. A plugin that
    raises is named in the log, counted under ``plugins/<name>/errors`` in the crawl's
    stats and skipped for that page only; the other plugins still see the page.

    :param response: the page, a Scrapy ``TextResponse`` (``.url``, ``.status``,
        ``.text``, ``.css()``, ``.xpath()``, ``.urljoin()``); ``urlparse(response.url)
        .hostname`` is the onion host.
    :return: an iterable of items from :mod:`crawler.items` (``Listing``, ``Vendor``), or
        ``None`` when the page is not one this plugin understands.
    """


@hookspec
def onionlab_register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``onionlab`` command line (the model: datasette's hook).

    The lab registers ``up``, ``status``, ``down`` and ``lab`` this way, so the core never
    imports it.

    :param cli: the top-level ``click.Group``; call ``cli.command()``/``cli.add_command()``.
    :return: nothing.
    """


@hookspec(firstresult=True)
def onionlab_lab() -> Any | None:
    """Return the controller of a local lab, for ``onionlab demo``; stops at first non-None result.

    The controller is any object with these methods (see :class:`crawler.labstate.LabController`):
    ``up(*, seed, scale, profile, data_dir, progress) -> Path`` which starts the lab (``profile``
    names its obstacles) and returns the path of its ``lab.json``, and
    ``down(*, data_dir: Path) -> None``.

    :return: the controller, or ``None`` when this plugin provides no lab.
    """
