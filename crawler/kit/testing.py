"""Helpers and pytest fixtures for testing an onionlab plugin (the model: pytest's pytester).

Part of the public plugin API, for plugin authors' tests::

    from onionlab.testing import extract, load_plugin_file, response_from_file

    plugin = load_plugin_file("my_market.py")        # imported as onionlab imports it
    page = response_from_file("pages/sample.html", url="http://<56 chars>.onion/item/1")
    [listing] = extract(plugin, page)                 # extract + normalise, like a crawl

- :func:`response_from_file` / :func:`response_from_text`: a Scrapy response for a saved
  page or for inline HTML/text;
- :func:`plugin_manager`: a plugin manager with onionlab's hooks and only the given plugins;
- :func:`extract`: the items plugins make of one page, through the crawler's own
  :func:`onionlab.crawler.extraction.items.extract_items`; it raises :class:`PluginFailed` when a
  plugin raised (a crawl would log and skip it: a test should fail);
- :func:`load_plugin_file`: import a plugin file the way ``--plugins-dir`` does.

Fixtures (when this module is loaded as a pytest plugin: ``-p onionlab.testing``, or
``pytest_plugins = ["onionlab.testing"]`` in a root ``conftest.py``): ``onionlab_page`` and
``onionlab_extract``, factories that resolve relative paths against the test file's
directory. Depends on :mod:`onionlab.crawler.extraction.offline`,
:mod:`onionlab.crawler.extraction.items`, pluggy and Scrapy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
import pytest
from scrapy.http import TextResponse

from onionlab.crawler.extraction.items import extract_items
from onionlab.crawler.extraction.offline import (
    capture_plugin_errors,
    plugin_manager,
    response_from_bytes,
    response_from_file,
)
from onionlab.crawler.items import Item
from onionlab.crawler.pluginmanager import _import_file

__all__ = [
    "PluginFailed",
    "extract",
    "load_plugin_file",
    "onionlab_extract",
    "onionlab_page",
    "plugin_manager",
    "response_from_file",
    "response_from_text",
]

DEFAULT_URL = "http://example.onion/"
"""The URL :func:`response_from_text` gives a page unless told otherwise."""


class PluginFailed(AssertionError):
    """A plugin raised while handling a page; the message names it and shows the traceback."""


def response_from_text(
    text: str | bytes, url: str = DEFAULT_URL, *, html: bool = True
) -> TextResponse:
    """A Scrapy response for inline page content (``HtmlResponse`` unless ``html=False``)."""
    body = text.encode("utf-8") if isinstance(text, str) else text
    return response_from_bytes(body, url, html=html)


def load_plugin_file(path: str | Path) -> ModuleType:
    """Import a plugin file exactly as ``--plugins-dir`` / ``ONIONLAB_PLUGINS_DIR`` do."""
    module: ModuleType = _import_file(Path(path))
    return module


def extract(plugin_or_manager: object, response: TextResponse) -> list[Item]:
    """Every item the plugin(s) make of ``response``: extracted, then normalised.

    :param plugin_or_manager: a plugin (see :func:`plugin_manager`) or a plugin manager.
    :raises PluginFailed: a plugin raised in ``onionlab_extract`` or
        ``onionlab_normalize_item``.
    """
    if isinstance(plugin_or_manager, pluggy.PluginManager):
        pm = plugin_or_manager
    else:
        pm = plugin_manager(plugin_or_manager)
    with capture_plugin_errors() as errors:
        items = extract_items(pm, response)
    if errors:
        raise PluginFailed(
            "\n".join(
                f"plugin {e.plugin!r} raised in {e.hook} on {response.url}:\n{e.traceback}"
                for e in errors
            )
        )
    return items


def _resolver(request: pytest.FixtureRequest) -> Callable[[str | Path], Path]:
    here = Path(request.path).parent

    def resolve(path: str | Path) -> Path:
        return path if Path(path).is_absolute() else here / path

    return resolve


@pytest.fixture
def onionlab_page(request: pytest.FixtureRequest) -> Callable[..., TextResponse]:
    """``onionlab_page(path, url=None)``: a saved page as a response (path relative to the test)."""
    resolve = _resolver(request)

    def make(path: str | Path, url: str | None = None) -> TextResponse:
        return response_from_file(resolve(path), url)

    return make


@pytest.fixture
def onionlab_extract(request: pytest.FixtureRequest) -> Callable[..., list[Item]]:
    """``onionlab_extract(plugin, page, url=None)``: the plugin's items for a page.

    ``page`` is a response or a saved page's path (relative to the test file);
    ``plugin`` a plugin, a plugin file's path (relative to the test file) or a manager.
    """
    resolve = _resolver(request)

    def run(plugin: Any, page: TextResponse | str | Path, url: str | None = None) -> list[Item]:
        if isinstance(plugin, (str, Path)):
            plugin = load_plugin_file(resolve(plugin))
        response = (
            page if isinstance(page, TextResponse) else response_from_file(resolve(page), url)
        )
        return extract(plugin, response)

    return run
