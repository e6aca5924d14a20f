"""The plugin loader: entry points of group ``onionlab``, then a local plugins directory.

A plugin that fails to import is named and reported, never fatal (pluggy's own
``load_setuptools_entrypoints`` stops at the first bad import). Hook calls made through
:func:`call_each` (every plugin's answer) and :func:`call_first` (the first answer, through
pluggy: hookwrappers apply) isolate plugins from each other: one that raises is logged,
counted and skipped. Environment switches (the model: llm's ``LLM_LOAD_PLUGINS``, datasette's
``DATASETTE_TRACE_PLUGINS``):

- ``ONIONLAB_LOAD_PLUGINS``: comma-separated names to load; set but empty loads none.
- ``ONIONLAB_DISABLE_PLUGINS``: comma-separated names not to load.
- ``ONIONLAB_PLUGINS_DIR``: a directory of ``*.py`` plugins (like ``--plugins-dir``).
- ``ONIONLAB_TRACE_PLUGINS=1``: log every hook call with its plugin and duration.

Depends on pluggy and the standard library; never imports ``plugins/`` or ``lab/`` by name.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import pluggy

from onionlab.crawler import hookspecs

ENTRY_POINT_GROUP = "onionlab"
logger = logging.getLogger(__name__)


class StatsLike(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


@dataclass
class PluginInfo:
    """What ``onionlab plugins list`` shows about one plugin."""

    name: str
    source: str  # "entry point" | "directory"
    module: str
    distribution: str = ""
    version: str = ""
    hooks: list[str] = field(default_factory=list)
    error: str = ""
    traceback: str = ""

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class LoadedPlugins:
    manager: pluggy.PluginManager
    plugins: list[PluginInfo]

    @property
    def errors(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]


def _names_from_env(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _short_traceback(exc: BaseException) -> str:
    lines = traceback.format_exception(exc)
    return "".join(lines[-3:]).strip()


def _register(pm: pluggy.PluginManager, module: Any, info: PluginInfo) -> None:
    pm.register(module, name=info.name)
    info.hooks = sorted(caller.name for caller in pm.get_hookcallers(module) or [] if caller.name)


def load_plugins(plugins_dir: Path | None = None) -> LoadedPlugins:
    """Build a plugin manager with every plugin that loads; report the ones that do not."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if plugins_dir is None and os.environ.get("ONIONLAB_PLUGINS_DIR"):
        plugins_dir = Path(os.environ["ONIONLAB_PLUGINS_DIR"])
    only = _names_from_env("ONIONLAB_LOAD_PLUGINS")
    disabled = _names_from_env("ONIONLAB_DISABLE_PLUGINS") or set()
    infos: list[PluginInfo] = []

    def wanted(name: str) -> bool:
        return (only is None or name in only) and name not in disabled

    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if not wanted(ep.name) or pm.has_plugin(ep.name):
            continue
        dist = ep.dist
        info = PluginInfo(
            name=ep.name,
            source="entry point",
            module=ep.value,
            distribution=dist.name if dist else "",
            version=dist.version if dist else "",
        )
        infos.append(info)
        try:
            _register(pm, ep.load(), info)
        except Exception as exc:
            _record_failure(info, f"{info.distribution}=={info.version}", exc)

    if plugins_dir is not None:
        for path in sorted(Path(plugins_dir).glob("*.py")):
            if path.name.startswith("_") or not wanted(path.stem):
                continue
            info = PluginInfo(name=path.stem, source="directory", module=str(path))
            infos.append(info)
            try:
                _register(pm, _import_file(path), info)
            except Exception as exc:
                _record_failure(info, str(path), exc)
    return LoadedPlugins(pm, infos)


def _record_failure(info: PluginInfo, origin: str, exc: BaseException) -> None:
    info.error = f'Error importing plugin "{info.name}" ({origin}): {type(exc).__name__}: {exc}'
    info.traceback = _short_traceback(exc)
    logger.debug("%s\n%s", info.error, info.traceback)


def _import_file(path: Path) -> Any:
    module_name = f"onionlab_local_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


_observer: Callable[[str], None] | None = None


def observe_calls(observer: Callable[[str], None] | None) -> None:
    """Have ``observer(plugin_name)`` called just before every plugin call :func:`call_each`
    and :func:`call_first` make (``None`` to stop): an extraction worker records there which
    plugin is running, so the crawl can name the plugin when it cuts a page off
    (:mod:`onionlab.crawler.extraction.worker`)."""
    global _observer
    _observer = observer


MALFORMED = "onionlab/dropped/malformed_result"
"""Stats key counting plugin results that were not what the hook promises."""


def _tracing() -> bool:
    return os.environ.get("ONIONLAB_TRACE_PLUGINS", "") not in ("", "0")


def _trace(name: str, hook_name: str, started: float) -> None:
    logger.warning(
        "trace: %s.%s took %.2f ms", name, hook_name, (time.perf_counter() - started) * 1000
    )


def call_each(
    pm: pluggy.PluginManager,
    hook_name: str,
    *,
    stats: StatsLike | None = None,
    only: Callable[[str], bool] | None = None,
    **kwargs: Any,
) -> Iterator[tuple[str, Any]]:
    """Call every implementation of ``hook_name``, isolating failures.

    ``only``, when given, says which plugins (by name) may answer; the others are skipped
    (a site's crawl profile, see :mod:`onionlab.crawler.sitepolicy`).

    Yields ``(plugin_name, result)`` for each plugin that returned normally. A plugin that
    raises is logged with its name and counted as ``plugins/<name>/errors``; the rest still
    run. Generators are drained inside the guard, so a plugin failing half-way through its
    results is caught too: that is also a malformed result (``onionlab/dropped/
    malformed_result``), as its results so far are dropped. A ``MemoryError`` is counted and
    raised again: the page, not the plugin, is then over its bound (see
    :mod:`onionlab.crawler.extraction.pool`).
    """
    trace = _tracing()
    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        name = impl.plugin_name
        if only is not None and not only(name):
            continue
        if _observer is not None:
            _observer(name)
        started = time.perf_counter()
        draining = False
        try:
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if isinstance(result, Iterator):
                draining = True
                result = list(result)
        except Exception as exc:
            if stats is not None:
                stats.inc_value(f"plugins/{name}/errors")
                if draining:
                    stats.inc_value(MALFORMED)
            if isinstance(exc, MemoryError):
                raise
            logger.error("plugin %r failed in %s: %s", name, hook_name, _short_traceback(exc))
            continue
        finally:
            if trace:
                _trace(name, hook_name, started)
        yield name, result


def call_first(
    pm: pluggy.PluginManager,
    hook_name: str,
    *,
    stats: StatsLike | None = None,
    only: Callable[[str], bool] | None = None,
    **kwargs: Any,
) -> Any:
    """The first non-None answer of ``hook_name`` (pluggy's order, as ``firstresult``),
    every plugin called through pluggy, so hookwrappers and hook-call monitoring see the call.

    Each plugin is asked alone (a subset hook caller without the hook's other plugins; a
    plugin that only wraps the hook stays), in turn, until one answers: unlike a plain
    ``firstresult`` call, a plugin that raises is logged, counted under
    ``plugins/<name>/errors`` and skipped, and the next plugin may still answer. ``only``
    says which plugins (by name) may answer. Traced like :func:`call_each`
    (``ONIONLAB_TRACE_PLUGINS``).
    """
    trace = _tracing()
    impls = [
        impl
        for impl in getattr(pm.hook, hook_name).get_hookimpls()
        if not (impl.hookwrapper or impl.wrapper)
    ]
    answering = [impl.plugin for impl in impls]
    for impl in reversed(impls):
        name = impl.plugin_name
        if only is not None and not only(name):
            continue
        others = [plugin for plugin in answering if plugin is not impl.plugin]
        caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
        if _observer is not None:
            _observer(name)
        started = time.perf_counter()
        try:
            result = caller(**kwargs)
        except Exception as exc:
            if stats is not None:
                stats.inc_value(f"plugins/{name}/errors")
            logger.error("plugin %r failed in %s: %r", name, hook_name, exc)
            continue
        finally:
            if trace:
                _trace(name, hook_name, started)
        if isinstance(result, list):  # a hook without firstresult: this plugin's one answer
            result = result[0] if result else None
        if result is not None:
            return result
    return None


_loaded: LoadedPlugins | None = None


def get_plugins(plugins_dir: Path | None = None) -> LoadedPlugins:
    """The process-wide plugin set (loaded once; ``plugins_dir`` only on first call)."""
    global _loaded
    if _loaded is None:
        _loaded = load_plugins(plugins_dir)
    return _loaded
