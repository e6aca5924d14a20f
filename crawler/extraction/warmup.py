"""The plugins' warm-up page, and the plugins warmed up once in the crawl's process for the
workers forked from it.

Every worker does one page (:data:`WARM_UP_PAGE`) before it takes crawled pages: plugins
that load lazily (a substance vocabulary, ``bip_utils``, compiled patterns) do it then, and
the worker measures its memory baseline after. That was 0.55 s of CPU a worker (0.15 s
loading the plugins, 0.4 s the page), spent by each of them at the start of the crawl, on
the cores the crawl starts on: the first pages waited for it (the first answer came 0.5 s
after the first request on the open lab, against 0.1 s through Tor).

Workers forked from the crawl's process (:mod:`~.forked`) need not each do it: before the
first fork, :func:`prepare` loads the plugins and does the warm-up page in the crawl's own
process, once, and the forked workers start with them loaded and warm (copy-on-write).
It is bounded: the page is a fixed, benign one, but a plugin that fails on it (raises, or
takes over :data:`PREPARE_TIMEOUT` seconds) must not stop the crawl, so then nothing is
kept and each worker loads and warms up its plugins itself, as a worker started as a new
interpreter always does (one stuck there is replaced by the pool). Depends on Scrapy, lxml
and :mod:`onionlab.crawler.pluginmanager` (through :mod:`~.page`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

import pluggy
from scrapy.http import HtmlResponse

from onionlab.crawler.extraction.page import CountingStats, link_extractor_for, work_on_page
from onionlab.crawler.pluginmanager import LoadedPlugins, load_plugins

logger = logging.getLogger(__name__)

WARM_UP_PAGE = """<html><head><title>warm-up</title></head><body>
<h1>Vendor profile</h1><p>Price: $120.00 (0.0021 BTC) for 3.5 g, ships from NL.</p>
<p>Мефедрон кристаллы 1 г, доставка. MDMA pills 120mg. Contact: vendor@example.onion</p>
<a href="/item/1">item</a><a href="/vendor/x" style="display:none">hidden</a>
<pre>-----BEGIN PGP PUBLIC KEY BLOCK-----
-----END PGP PUBLIC KEY BLOCK-----</pre>
<p>bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq 1BoatSLRHtKNngkdXEeobR76b53LETtpyT</p>
</body></html>"""
"""A page like the lab's, done once before a worker takes pages (see the module)."""

PREPARE_TIMEOUT = 10.0
"""Seconds the crawl's process gives the plugins' warm-up before each worker does its own."""

# What load_plugins reads: plugins are prepared again when it changes (tests, several crawls).
_ENVIRONMENT = ("ONIONLAB_PLUGINS_DIR", "ONIONLAB_LOAD_PLUGINS", "ONIONLAB_DISABLE_PLUGINS")
_prepared: dict[tuple[Any, ...], LoadedPlugins | str] = {}  # plugins warm here, or why not


def _key() -> tuple[Any, ...]:
    return (*(os.environ.get(name) for name in _ENVIRONMENT), tuple(sys.path))


class _TookTooLong(BaseException):  # not an Exception: the plugin manager counts those
    pass


def _page() -> HtmlResponse:
    url = "http://" + "w" * 56 + ".onion/warm-up"
    return HtmlResponse(url, body=WARM_UP_PAGE.encode(), encoding="utf-8")


def warm_up(pm: pluggy.PluginManager) -> None:
    """Do the warm-up page with every plugin of ``pm``; a plugin that fails on it is left to
    fail again, counted, on a crawled page."""
    with contextlib.suppress(Exception):
        work_on_page(pm, _page(), link_extractor_for([]), stats=CountingStats())


def prepared() -> LoadedPlugins | None:
    """The plugins :func:`prepare` loaded and warmed up in this process for the environment
    they load from now (a forked worker inherits them), or None."""
    loaded = _prepared.get(_key())
    return None if isinstance(loaded, str) else loaded


def prepare() -> LoadedPlugins | None:
    """Load the plugins and warm them up in this process, once, within
    :data:`PREPARE_TIMEOUT` seconds; the result (None if they failed or took too long: each
    worker then does it itself). Call from the main thread only (it times itself with
    ``SIGALRM``), before forking workers."""
    key = _key()
    if key in _prepared:
        return prepared()
    if threading.current_thread() is not threading.main_thread():
        return None
    _prepared.clear()  # one set of warm plugins at most

    def too_long(_signum: int, _frame: Any) -> None:
        raise _TookTooLong

    started = time.monotonic()
    before = signal.signal(signal.SIGALRM, too_long)
    signal.setitimer(signal.ITIMER_REAL, PREPARE_TIMEOUT)
    # What plugins log about the warm-up page is no news (a worker's warm-up logs nothing).
    logged_before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        try:
            loaded = load_plugins()
            _warm_up_strictly(loaded.manager)
        finally:  # no alarm after this, whatever happened; one just before it is caught
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _TookTooLong:
        _prepared[key] = f"their warm-up took over {PREPARE_TIMEOUT:g} s"
    except Exception as exc:  # a plugin that fails on the warm-up page
        _prepared[key] = f"the warm-up page failed: {exc}"
    else:
        _prepared[key] = loaded
    finally:
        signal.signal(signal.SIGALRM, before)
        logging.disable(logged_before)
    if isinstance(_prepared[key], str):
        logger.info("each extraction worker warms its plugins up itself: %s", _prepared[key])
    else:
        logger.debug("plugins warmed up for the workers in %.2f s", time.monotonic() - started)
    return prepared()


def _warm_up_strictly(pm: pluggy.PluginManager) -> None:
    stats = CountingStats()
    work_on_page(pm, _page(), link_extractor_for([]), stats=stats)
    failed = sorted(
        key.split("/")[1]
        for key in stats.values
        if key.startswith("plugins/") and key.endswith("/errors")
    )
    if failed:  # work_on_page counts a plugin's exception and goes on: here it is a failure
        raise RuntimeError(f"it raised in {', '.join(failed)}")
