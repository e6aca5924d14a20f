"""Every hook onionlab offers to plugins, in one place (the model: pytest's ``hookspec.py``).

A plugin is a module (or object) with functions named like the hooks below and decorated
with :data:`hookimpl`; register it through the ``onionlab`` entry-point group. Plugins may
import :data:`hookimpl` and the item types from :mod:`onionlab.crawler.items`, nothing else of the
core.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    import scrapy
    from scrapy.http import TextResponse

    from onionlab.crawler.credentials import Credentials
    from onionlab.crawler.items import Item

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
    :return: an iterable of items from :mod:`onionlab.crawler.items` (``Listing``, ``Vendor``), or
        ``None`` when the page is not one this plugin understands.
    """


@hookspec
def onionlab_normalize_item(item: Item) -> None:
    """Normalise one extracted item in place (canonical substance, price per gram, …).

    Called for every item any plugin's :func:`onionlab_extract` returned, after all of them
    ran, on a crawl and in ``onionlab extract``. Every plugin is called, in load order; each
    changes only the fields it owns (for example a substance normaliser sets
    ``Listing.substance`` to the canonical name and keeps the site's wording in
    ``extra["substance_raw"]``). A plugin that raises is counted like in
    :func:`onionlab_extract`; the item is kept as the other plugins left it.

    :param item: a :mod:`onionlab.crawler.items` item (``Listing``, ``Vendor``, ``Entity``, …).
    :return: nothing; change ``item`` itself.
    """


@hookspec
def onionlab_link_items(items: Collection[Item]) -> Iterable[Item] | None:
    """Derive items that need the whole crawl at once, such as vendor identities across sites.

    Called once when a crawl has finished (over every item of the run, resumed sessions
    included) and once per ``onionlab extract`` call (over all the files given). Every
    plugin is called; their results are merged and written like extracted items.

    :param items: every ``Listing``, ``Vendor`` and ``Entity`` of the run: a collection
        (``len``, ``in``, iterated as often as needed), not a list. After a crawl it reads
        them from the run directory as it is iterated, so a crawl of millions of pages is
        linked without holding them all: keep only what the plugin needs of each.
    :return: an iterable of new items (e.g. :class:`onionlab.crawler.items.VendorIdentity`), or
        ``None``.
    """


@hookspec
def onionlab_index_fields() -> dict[str, dict[str, Any]] | None:
    """Contribute Elasticsearch mapping fields for the fields a plugin adds under ``extra``.

    ``onionlab index setup`` merges every plugin's answer into the index templates, so a
    plugin's own fields are searchable in Kibana like the built-in ones.

    :return: ``{kind: {field: mapping}}``, e.g. ``{"listing": {"strain": {"type":
        "keyword"}}}`` maps ``extra.strain`` of listings; or ``None``.
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

    The controller is any object with these methods (see
    :class:`onionlab.crawler.labstate.LabController`): ``up(*, seed, scale, profile, data_dir,
    progress) -> Path`` which starts the lab (``profile`` names its obstacles) and returns the path
    of its ``lab.json``, and ``down(*, data_dir: Path) -> None``.

    :return: the controller, or ``None`` when this plugin provides no lab.
    """


@hookspec(firstresult=True)
def onionlab_page_state(response: TextResponse) -> str | None:
    """Say whether a page is an obstacle in front of the content; stops at first non-None result.

    Called by the obstacle gate (:mod:`onionlab.crawler.downloadermiddlewares.gate`) for every HTML
    or text page before the spider sees it (the model: CRATOR's per-market page detectors). Answer
    only for layouts this plugin knows; the gate then asks :func:`onionlab_gate_request` how to pass
    it. It runs in an extraction worker, on the same parsed page as :func:`onionlab_extract` (one
    parse per page: ``response.css``/``xpath`` reuse it), bounded in time and memory like it; on
    an obstacle page no plugin is asked to extract.

    :param response: the page, a Scrapy ``TextResponse`` (see :func:`onionlab_extract`).
    :return: ``"wait"`` (a queue page), ``"captcha"``, ``"login"`` (a login wall or an
        expired session), ``"banned"``, or ``None`` when the page is normal content.
    """


@hookspec(firstresult=True)
def onionlab_gate_request(
    response: TextResponse, state: str, credentials: Credentials | None
) -> scrapy.Request | dict[str, float] | None:
    """Return what passes the obstacle ``response`` shows; stops at first non-None result.

    The gate sends the returned request (a CAPTCHA answer or a login form: a
    ``scrapy.FormRequest`` with the form's fields, see ``form_request`` in
    ``plugins/lab_gate.py``; Scrapy 2.19 deprecates ``FormRequest.from_response``) in the
    site's cookie session, ignores its response, then fetches the original page again.
    One site's gate is passed once and shared by all its requests; attempts are bounded
    and counted under ``onionlab/gate/*``. Unlike the other hooks it runs in the crawl's own
    process, on its event loop (it only sees obstacle pages, and its request goes out through
    the crawl): keep it quick.

    :param response: the obstacle page, as classified by :func:`onionlab_page_state`.
    :param state: the state that hook returned (``"wait"``, ``"captcha"``, ``"login"``, …).
    :param credentials: the configured account for this onion host (``.username``,
        ``.password``; see :mod:`onionlab.crawler.credentials`), or ``None`` when none is configured
        (a plugin may then register an account itself).
    :return: a ``scrapy.Request`` to send; ``{"wait": seconds}`` to wait before fetching the
        page again (a queue); or ``None`` when this plugin cannot pass the obstacle.
    """
