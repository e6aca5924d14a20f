"""Writes a new plugin project for ``onionlab plugins new`` (the model: datasette-plugin).

A project is a directory holding the plugin module (the directory is what ``--plugins-dir``
loads), its pytest tests and a saved sample page the plugin reads; the tests pass as written.
Depends on the standard library only.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

PLUGIN = '''\
"""The {{name}} plugin: extracts listings from one site's product pages.

An onionlab plugin: load it with ``--plugins-dir DIR`` or ``ONIONLAB_PLUGINS_DIR=DIR``
(DIR: this file's directory); test it with ``pytest tests``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from onionlab import hookimpl
from onionlab.items import Listing
from onionlab.parsing import number, text
from scrapy.http import TextResponse


@hookimpl
def onionlab_extract(response: TextResponse) -> list[Listing] | None:
    product = response.css("article.product")
    if not product:
        return None  # not this layout: the other plugins will look at the page
    listing_id = product.attrib.get("data-listing-id", "")
    title = text(product, "h1.product-title")
    if not listing_id or not title:
        return []
    return [
        Listing(
            site=(urlsplit(response.url).hostname or "").lower(),
            listing_id=listing_id,
            url=response.url,
            title=title,
            vendor=text(product, "dd.vendor") or None,
            category=text(product, "dd.category") or None,
            weight_g=number(text(product, "dd.weight")),
            price_usd=number(text(product, "dd.price")),
            ships_from=text(product, "dd.ships-from") or None,
        )
    ]
'''

TEST = '''\
"""Tests of the {{name}} plugin, run on saved pages as onionlab runs it."""

from __future__ import annotations

from pathlib import Path

from onionlab.items import Listing
from onionlab.testing import (
    extract,
    load_plugin_file,
    response_from_file,
    response_from_text,
)

HERE = Path(__file__).parent
plugin = load_plugin_file(HERE.parent / "{{name}}.py")
SITE = "a" * 56 + ".onion"  # any v3 onion address: plugins read the site from the URL
SAMPLE = HERE / "pages" / "sample.html"


def test_reads_the_listing_on_the_sample_page() -> None:
    page = response_from_file(SAMPLE, url=f"http://{SITE}/item/1001")

    [listing] = extract(plugin, page)

    assert isinstance(listing, Listing)
    assert (listing.site, listing.listing_id) == (SITE, "1001")
    assert listing.title == "Northern Lights 3.5 g"
    assert listing.vendor == "greenleaf"
    assert listing.category == "Cannabis"
    assert (listing.weight_g, listing.price_usd) == ("3.5", "45.00")
    assert listing.ships_from == "Netherlands"


def test_leaves_other_layouts_to_other_plugins() -> None:
    page = response_from_text("<html><body><h1>Welcome</h1></body></html>")

    assert plugin.onionlab_extract(page) is None
'''

SAMPLE_PAGE = """\
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Northern Lights 3.5 g — {{name}}</title>
</head>
<body>
  <article class="product" data-listing-id="1001">
    <h1 class="product-title">Northern Lights 3.5 g</h1>
    <dl class="product-facts">
      <dt>Vendor</dt><dd class="vendor"><a href="/vendor/greenleaf">greenleaf</a></dd>
      <dt>Category</dt><dd class="category">Cannabis</dd>
      <dt>Weight</dt><dd class="weight">3.5 g</dd>
      <dt>Price</dt><dd class="price">$45.00</dd>
      <dt>Ships from</dt><dd class="ships-from">Netherlands</dd>
    </dl>
  </article>
</body>
</html>
"""


class ScaffoldError(ValueError):
    """The project cannot be written; the message says why and what to do instead."""


def check_name(name: str, taken: frozenset[str] | set[str] = frozenset()) -> None:
    """Refuse a plugin name that is not a lower-case Python identifier or is already in use.

    :param taken: names of installed plugins (a second plugin of the same name would not load).
    """
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
        hint = f" such as {suggestion!r}" if _NAME.fullmatch(suggestion) else ""
        raise ScaffoldError(
            f"invalid plugin name {name!r}: use a lower-case Python identifier{hint} "
            "(letters, digits and _, starting with a letter, at most 40 characters)"
        )
    if name.startswith("test"):
        raise ScaffoldError(f"invalid plugin name {name!r}: pytest would collect it as a test")
    if name in taken:
        raise ScaffoldError(
            f"a plugin named {name!r} is already installed (see `onionlab plugins list`): "
            "choose another name"
        )


@dataclass(frozen=True)
class Project:
    """The files of a new plugin project."""

    root: Path  # the directory to load with --plugins-dir
    plugin: Path
    test: Path
    sample: Path


def new_plugin(name: str, parent: Path, taken: frozenset[str] | set[str] = frozenset()) -> Project:
    """Write the project of plugin ``name`` into ``parent / name``, which must not exist.

    :raises ScaffoldError: an invalid or taken name, or an existing target.
    """
    check_name(name, taken)
    root = parent / name
    if root.exists():
        raise ScaffoldError(f"{root} already exists: choose another name or --dir")
    project = Project(
        root=root,
        plugin=root / f"{name}.py",
        test=root / "tests" / f"test_{name}.py",
        sample=root / "tests" / "pages" / "sample.html",
    )
    project.sample.parent.mkdir(parents=True)
    for path, template in (
        (project.plugin, PLUGIN),
        (project.test, TEST),
        (project.sample, SAMPLE_PAGE),
    ):
        path.write_text(template.replace("{{name}}", name), encoding="utf-8")
    return project
