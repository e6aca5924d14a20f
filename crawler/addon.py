"""The Scrapy add-on that wires onionlab into a crawl: Tor handler, resolver guard, pipelines.

One add-on instead of long settings dicts (Scrapy's own model). Settings it reads:
``TOR_SOCKS``, ``TOR_ALLOW_CLEARNET``, ``TOR_ISOLATE_BY_HOST``, ``ONIONLAB_RUN_DIR``,
``ONIONLAB_PROGRESS``, ``ONIONLAB_SITE_PROFILES`` (its ``[defaults]`` concurrency and
delay). Locked off, whatever the user's settings: every scheme but http/https, Scrapy's
Telnet console and its RemoteControl extension, HTTP proxies, DNS resolution.
"""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.settings import default_settings as scrapy_defaults

from onionlab.crawler import default_settings

TOR_HANDLER = "onionlab.crawler.tor.handler.TorDownloadHandler"
LOCKED = 100  # higher than Scrapy's "cmdline" priority (40)
SCHEMES = ("http", "https")  # the only schemes a crawl can fetch, both through Tor


def download_handlers() -> dict[str, str | None]:
    """``DOWNLOAD_HANDLERS``: Tor for http/https, every other scheme Scrapy knows off.

    Read from Scrapy's own ``DOWNLOAD_HANDLERS_BASE`` (2.19: data, file, ftp, s3), so a
    scheme a later Scrapy adds is off as well, never quietly on.
    """
    handlers: dict[str, str | None] = dict.fromkeys(scrapy_defaults.DOWNLOAD_HANDLERS_BASE)
    handlers.update(dict.fromkeys(SCHEMES, TOR_HANDLER))
    return handlers


# onionlab's settings and component tables: :mod:`onionlab.crawler.default_settings`.
CRAWL_DEFAULTS: dict[str, object] = {
    **default_settings.CRAWL_DEFAULTS,
    **default_settings.EXTRACT_DEFAULTS,
}
DOWNLOADER_MIDDLEWARES = default_settings.DOWNLOADER_MIDDLEWARES
SPIDER_MIDDLEWARES = default_settings.SPIDER_MIDDLEWARES


def apply_profile_defaults(settings: BaseSettings) -> None:
    """A site-profile file's ``[defaults]`` concurrency and delay, for every site.

    ``DOWNLOAD_SLOTS`` (set by the runner) covers the sites with a table of their own; the
    others get ``[defaults]`` through Scrapy's per-domain settings (see
    :meth:`onionlab.crawler.sitepolicy.SiteProfiles.crawl_settings`), over the crawl's own values.
    """
    path = settings.get("ONIONLAB_SITE_PROFILES")
    if not path:
        return
    from pathlib import Path

    from onionlab.crawler.sitepolicy import load_profiles

    services = settings.getdict("ONIONLAB_SITE_SERVICES")
    profiles = load_profiles(Path(path), services=services)
    for name, value in profiles.crawl_settings().items():
        priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["cmdline"])
        settings.set(name, value, priority=priority)


def _elasticsearch_wanted(settings: BaseSettings) -> bool:
    """Whether Elasticsearch is configured (Scrapy setting, environment or onionlab.toml),
    or configured wrongly (the pipeline then logs why it is off)."""
    from onionlab.crawler.sinks.elastic.client import (
        ElasticConfigError,
        resolve_settings,
        scrapy_flags,
    )

    try:
        return resolve_settings(scrapy_flags(settings)).configured
    except ElasticConfigError:
        return True


REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"


class OnionlabAddon:
    """Routes every download through Tor and writes results to the run directory."""

    def update_settings(self, settings: BaseSettings) -> None:
        for name, value in CRAWL_DEFAULTS.items():
            settings.set(name, value, priority="addon")
        # Only http/https exist, and both go through Tor; every other scheme (data:, file:,
        # ftp:, s3:) is disabled. Above every user priority, the base table included: no
        # settings file or flag can open a direct path or another scheme.
        settings.set("DOWNLOAD_HANDLERS_BASE", dict.fromkeys(SCHEMES, TOR_HANDLER), LOCKED)
        settings.set("DOWNLOAD_HANDLERS", download_handlers(), priority=LOCKED)
        settings.set(
            "TWISTED_DNS_RESOLVER", "onionlab.crawler.tor.resolver.RefuseAllResolver", LOCKED
        )
        settings.set("HTTPPROXY_ENABLED", False, priority=LOCKED)
        # Consoles that run code in the crawling process: the Telnet console, and Scrapy
        # 2.19's RemoteControl (an HTTP server on localhost executing posted Python code).
        settings.set("TELNETCONSOLE_ENABLED", False, priority=LOCKED)
        settings.set("REMOTE_CONTROL_ENABLED", False, priority=LOCKED)
        # Not even imported: Scrapy imports every listed component, None ones included, and
        # RemoteControl's aiohttp took 0.2 s of every crawl's start.
        base = settings.getdict("EXTENSIONS_BASE")
        base.pop(REMOTE_CONTROL, None)
        settings.set("EXTENSIONS_BASE", base, priority=LOCKED)
        pipelines = dict(default_settings.ITEM_PIPELINES)
        # Only when ES_URL / ONIONLAB_ES_URL is set (or set wrong: the pipeline then says
        # why it is off), so a crawl without Elasticsearch never loads its client.
        if _elasticsearch_wanted(settings):
            pipelines.update(default_settings.ELASTICSEARCH_PIPELINES)
        _merge(settings, "ITEM_PIPELINES", pipelines)
        apply_profile_defaults(settings)
        for name, ours in (
            ("EXTENSIONS", default_settings.EXTENSIONS),
            ("DOWNLOADER_MIDDLEWARES", DOWNLOADER_MIDDLEWARES),
            ("SPIDER_MIDDLEWARES", SPIDER_MIDDLEWARES),
        ):
            _merge(settings, name, ours)


def _merge(settings: BaseSettings, name: str, ours: dict[str, int | None]) -> None:
    """Add onionlab's components (name -> order) to the component dict setting ``name``."""
    merged = settings.getdict(name)
    merged.update(ours)
    settings.set(name, merged, priority="addon")
