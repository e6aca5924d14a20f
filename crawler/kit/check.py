"""The ``onionlab plugins test`` service: one plugin alone, on saved pages or on a live lab site.

Saved pages go through :mod:`onionlab.crawler.extraction.offline` with a plugin manager holding only
that plugin. A live site is crawled by ``onionlab crawl`` in a child process with only that plugin's
item hooks enabled (``ONIONLAB_LOAD_PLUGINS``; plugins without item hooks, such as the lab's
obstacle gate, stay on so the crawl gets past queues and logins), and its run directory is
read back. Depends on :mod:`onionlab.crawler.extraction.offline`,
:mod:`onionlab.crawler.pluginmanager` and :mod:`onionlab.crawler.runs.rundir`.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onionlab.crawler.extraction.offline import (
    ExtractResult,
    expand_paths,
    extract_files,
    plugin_manager,
)
from onionlab.crawler.items import Entity, Item
from onionlab.crawler.pluginmanager import LoadedPlugins
from onionlab.crawler.runs.rundir import RunDir

ITEM_HOOKS = frozenset({"onionlab_extract", "onionlab_normalize_item", "onionlab_link_items"})
"""The hooks that make or change items: a plugin under test is the only one using them."""


class CheckError(RuntimeError):
    """The plugin cannot be tested; ``exit_code`` follows ``onionlab --help``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def find_plugin(loaded: LoadedPlugins, name: str) -> object:
    """The plugin called ``name`` in ``loaded``; :class:`CheckError` if absent or broken."""
    info = next((p for p in loaded.plugins if p.name == name), None)
    if info is None:
        names = sorted(p.name for p in loaded.plugins)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise CheckError(
            f"no plugin named {name!r}; {hint}installed: {', '.join(names) or 'none'} "
            "(a plugin in a directory needs --plugins-dir DIR or ONIONLAB_PLUGINS_DIR)"
        )
    if info.error:
        raise CheckError(f"{info.error}\n{info.traceback}")
    plugin = loaded.manager.get_plugin(name)
    if plugin is None:  # pragma: no cover - registered whenever it loaded without error
        raise CheckError(f"plugin {name!r} is not registered")
    return plugin


def _label(kind: str, entity_type: str | None) -> str:
    return f"{kind}:{entity_type}" if kind == Entity.kind and entity_type else kind


def count_items(items: Iterable[Item]) -> dict[str, int]:
    """How many items of each kind, identifiers by type: ``{"listing": 1, "identifier:btc": 2}``."""
    counts = Counter(
        _label(item.kind, item.type if isinstance(item, Entity) else None) for item in items
    )
    return dict(sorted(counts.items()))


def check_pages(plugin: object, paths: Iterable[str | Path]) -> ExtractResult:
    """Run ``plugin`` alone over saved pages (files or directories), then its linking."""
    return extract_files(plugin_manager(plugin), expand_paths(paths))


@dataclass
class SiteCheck:
    """What one plugin found on a live site, page by page, from a crawl's run directory."""

    run_dir: Path
    pages: dict[str, dict[str, int]]  # url → counts, in crawl order
    errors: int
    error_lines: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def plugins_for_site_check(loaded: LoadedPlugins, name: str) -> list[str]:
    """``name`` and every plugin that makes no items (gates, commands): the crawl's plugin set."""
    quiet = (p.name for p in loaded.plugins if p.name != name and not ITEM_HOOKS & set(p.hooks))
    return [name, *sorted(quiet)]


def check_site(
    loaded: LoadedPlugins,
    name: str,
    url: str,
    *,
    pages: int,
    socks: str,
    data_dir: Path,
    plugins_dir: Path | None = None,
    timeout: float = 1800,
) -> SiteCheck:
    """Crawl up to ``pages`` pages of ``url`` through Tor with only ``name`` making items."""
    env = {**os.environ, "ONIONLAB_LOAD_PLUGINS": ",".join(plugins_for_site_check(loaded, name))}
    env.pop("ONIONLAB_DISABLE_PLUGINS", None)
    if plugins_dir is not None:
        env["ONIONLAB_PLUGINS_DIR"] = str(plugins_dir.resolve())
    command = [sys.executable, "-m", "onionlab", "crawl", "--json", "--no-score"]
    command += ["--max-pages", str(pages), "--socks", socks, "--data-dir", str(data_dir), url]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise CheckError(f"the crawl failed: {message[0]}", done.returncode)
    summary = json.loads(done.stdout)
    run = RunDir(Path(summary["run_dir"]))
    # Items of a page may be written before the page itself: pages first, then the rest.
    docs = [doc for _action, doc in run.iter_docs()]
    by_page: dict[str, Counter[str]] = {
        doc["url"]: Counter() for doc in docs if doc.get("kind") == "page"
    }
    for doc in docs:
        if doc.get("kind") != "page" and doc.get("url") in by_page:
            by_page[doc["url"]][_label(doc["kind"], doc.get("type"))] += 1
    marker = f"plugin {name!r} failed in"
    log = run.log.read_text(encoding="utf-8", errors="replace") if run.log.exists() else ""
    return SiteCheck(
        run_dir=run.path,
        pages={page: dict(sorted(counts.items())) for page, counts in by_page.items()},
        errors=int(summary.get("plugin_errors", {}).get(name, 0)),
        error_lines=[line.strip() for line in log.splitlines() if marker in line],
        summary=summary,
    )


def has_plugin_errors(result: ExtractResult) -> bool:
    """Whether the plugin raised on any page or while linking."""
    return bool(result.link_errors) or any(page.errors for page in result.pages)
