"""The ``onionlab extract`` service: saved pages → Scrapy responses → every plugin's items.

Reads HTML or plain-text files (a directory means every file inside it), runs them through
:func:`onionlab.crawler.extraction.items.extract_items` and, over all files at once,
:func:`onionlab.crawler.extraction.items.link_items`, and reports per file what was found and which
plugin raised. Depends on :mod:`onionlab.crawler.extraction.items`, :mod:`onionlab.crawler.items`
and Scrapy; no I/O but reading the given files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from scrapy.http import HtmlResponse, TextResponse

from onionlab.crawler import hookspecs, pluginmanager
from onionlab.crawler.extraction.items import extract_items, link_items
from onionlab.crawler.items import Entity, Item, Listing, Vendor

HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".asc", ".md"})
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<div", b"<p>", b"<a ")
_SNIFF_BYTES = 2048


class PageUnreadable(OSError):
    """A saved page that cannot be read or is not text; the message says which and why."""


def is_html(path: Path, body: bytes) -> bool:
    """Whether a saved page is HTML: by its extension, else by its first bytes."""
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return True
    if suffix in TEXT_SUFFIXES:
        return False
    head = body[:_SNIFF_BYTES].lstrip().lower()
    return any(marker in head for marker in _HTML_MARKERS)


def response_from_bytes(body: bytes, url: str, *, html: bool) -> TextResponse:
    """A Scrapy response for a page's bytes, as the crawler would have received it."""
    if html:
        return HtmlResponse(url, body=body, headers={"Content-Type": "text/html"})
    return TextResponse(url, body=body, headers={"Content-Type": "text/plain"})


def response_from_file(path: str | Path, url: str | None = None) -> TextResponse:
    """A Scrapy response for a saved page: ``HtmlResponse`` for HTML, else ``TextResponse``.

    :param url: the URL the page is given; default the ``file://`` URI of its absolute path
        (plugins that key on the onion host then see none: pass the page's onion URL).
    :raises PageUnreadable: the file is missing, unreadable, or binary.
    """
    path = Path(path)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise PageUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if b"\x00" in body[:_SNIFF_BYTES]:
        raise PageUnreadable(f"cannot read {path}: not a text or HTML page (binary content)")
    return response_from_bytes(body, url or path.resolve().as_uri(), html=is_html(path, body))


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The files to read: each path as given, a directory as every file under it (sorted).

    Hidden files and directories (``.name``) inside a directory are skipped; a missing path is
    kept so that reading it reports the error.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            files.append(path)
    return files


@dataclass(frozen=True)
class PluginError:
    """A plugin that raised in one hook call (it was skipped; the others still ran)."""

    plugin: str
    hook: str
    error: str  # the exception, one line: "ValueError: layout changed"
    traceback: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"plugin": self.plugin, "hook": self.hook, "error": self.error}


class _PluginErrorHandler(logging.Handler):
    """Collects the failures :func:`~onionlab.crawler.pluginmanager.call_each` logs, quietly."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[PluginError] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg != "plugin %r failed in %s: %s" or len(args) != 3:
            return
        name, hook, trace = (str(arg) for arg in args)
        last = trace.strip().splitlines()[-1] if trace.strip() else "unknown error"
        self.errors.append(PluginError(name, hook, last, trace))


@contextmanager
def capture_plugin_errors() -> Iterator[list[PluginError]]:
    """Within the block, collect every plugin failure instead of logging it to stderr."""
    logger = logging.getLogger(pluginmanager.__name__)
    handler = _PluginErrorHandler()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.errors
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def plugin_manager(*plugins: object) -> pluggy.PluginManager:
    """A plugin manager with onionlab's hook specifications and exactly ``plugins``.

    Each plugin is a module, class or object with ``@hookimpl`` functions; it is registered
    under its module's last name (or its class name), as ``onionlab plugins list`` shows it.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        if isinstance(plugin, ModuleType):
            name = plugin.__name__.rsplit(".", 1)[-1]
        else:
            name = getattr(plugin, "__name__", type(plugin).__name__)
        pm.register(plugin, name=name)
    return pm


def entity_summaries(items: Iterable[Item]) -> list[dict[str, str]]:
    """The entities among ``items`` as ``{"type", "value", "context"}``, each once, in order."""
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, Entity) and (item.type, item.value) not in seen:
            seen.add((item.type, item.value))
            out.append({"type": item.type, "value": item.value, "context": item.context})
    return out


@dataclass
class PageResult:
    """What the plugins found on one saved page (or why the page could not be read)."""

    file: str
    url: str = ""
    content: str = ""  # "html" | "text"
    items: list[Item] = field(default_factory=list)
    errors: list[PluginError] = field(default_factory=list)
    read_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON object ``onionlab extract --json`` prints for this page."""
        known = (Entity, Listing, Vendor)
        return {
            "file": self.file,
            "url": self.url,
            "content": self.content,
            "entities": entity_summaries(self.items),
            "listings": [i.to_doc() for i in self.items if isinstance(i, Listing)],
            "vendors": [i.to_doc() for i in self.items if isinstance(i, Vendor)],
            "other": [i.to_doc() for i in self.items if not isinstance(i, known)],
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class ExtractResult:
    """Every page's result, the items linked across all of them, and the linking errors."""

    pages: list[PageResult]
    linked: list[Item] = field(default_factory=list)
    link_errors: list[PluginError] = field(default_factory=list)

    @property
    def unreadable(self) -> list[PageResult]:
        return [page for page in self.pages if page.read_error]


def extract_page(pm: pluggy.PluginManager, path: Path, url: str | None = None) -> PageResult:
    """Run every plugin of ``pm`` over one saved page."""
    result = PageResult(file=str(path))
    try:
        response = response_from_file(path, url)
    except PageUnreadable as exc:
        result.read_error = str(exc)
        return result
    result.url = response.url
    result.content = "html" if isinstance(response, HtmlResponse) else "text"
    with capture_plugin_errors() as errors:
        result.items = extract_items(pm, response)
    result.errors = errors
    return result


def extract_files(
    pm: pluggy.PluginManager, files: Iterable[Path], url: str | None = None
) -> ExtractResult:
    """Run every plugin over the saved pages ``files``, then link across all of them.

    :param files: page files (see :func:`expand_paths` for directories).
    :param url: the URL of the page when exactly one file is given (see
        :func:`response_from_file`).
    """
    pages = [extract_page(pm, path, url) for path in files]
    with capture_plugin_errors() as errors:
        linked = link_items(pm, [item for page in pages for item in page.items])
    return ExtractResult(pages, linked, errors)
