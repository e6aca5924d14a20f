"""The Scrapy add-on that wires onionlab into a crawl: Tor handler, resolver guard, pipelines.

One add-on instead of long settings dicts (Scrapy's own model). Settings it reads:
``TOR_SOCKS``, ``TOR_ALLOW_CLEARNET``, ``TOR_ISOLATE_BY_HOST``, ``ONIONLAB_RUN_DIR``,
``ONIONLAB_PROGRESS``, ``ONIONLAB_SITE_PROFILES`` (its ``[defaults]`` concurrency and
delay). Locked off, whatever the user's settings: every scheme but http/https, Scrapy's
Telnet console and its RemoteControl extension, HTTP proxies, DNS resolution.
"""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, default_settings

TOR_HANDLER = "onionlab.crawler.tor.handler.TorDownloadHandler"
LOCKED = 100  # higher than Scrapy's "cmdline" priority (40)
SCHEMES = ("http", "https")  # the only schemes a crawl can fetch, both through Tor


def download_handlers() -> dict[str, str | None]:
    """``DOWNLOAD_HANDLERS``: Tor for http/https, every other scheme Scrapy knows off.

    Read from Scrapy's own ``DOWNLOAD_HANDLERS_BASE`` (2.19: data, file, ftp, s3), so a
    scheme a later Scrapy adds is off as well, never quietly on.
    """
    handlers: dict[str, str | None] = dict.fromkeys(default_settings.DOWNLOAD_HANDLERS_BASE)
    handlers.update(dict.fromkeys(SCHEMES, TOR_HANDLER))
    return handlers


# Tuned for onion services: latency is tens of milliseconds per hop and circuits can stall.
CRAWL_DEFAULTS: dict[str, object] = {
    "USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_TIMEOUT": 60,
    # 8 MiB: far above any onion page's HTML, and what a hostile body (or a bomb inflating)
    # may cost the crawl's own memory while it downloads, per request in flight.
    "DOWNLOAD_MAXSIZE": 8 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 4 * 1024 * 1024,
    "RETRY_TIMES": 4,
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": True,
    "CLOSESPIDER_PAGECOUNT": 50_000,
    "CLOSESPIDER_TIMEOUT": 4 * 3600,
    # AutoThrottle (onionlab.crawler.extensions.throttle): an onion page's latency is mostly the
    # circuit (about 0.1 s in the lab), not the site's load, so start fast and aim at twice the
    # per-site concurrency: it then only slows a site whose answers really get slow (a 2 s answer
    # means 16 requests/s at most). Aiming at 8 halved the lab's throughput (bench).
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.1,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 32.0,
    "LOG_LEVEL": "INFO",
    # Each page's work runs in worker processes, bounded per page
    # (onionlab.crawler.extraction.pool): workers (0 = one per core, at least 2; -1 = in the
    # crawl's own process, unbounded), seconds and MB of resident memory above a worker's baseline
    # (about 100 MB with every built-in plugin, warmed up) per page. The crawl (120-170 MB beside a
    # hostile site) and two workers leave one page 32 MB under 400 MB (a worker that ends a page
    # above half of it is replaced): lxml and the plugins need about 15 MB for a 1 MB page, 175 MB
    # for a 4 MB page of 100,000 links (a hostile link flood: cut off, counted). Measured: the
    # hostile lab peaked at 413 MB with 48.
    "ONIONLAB_EXTRACT_WORKERS": 0,
    "ONIONLAB_EXTRACT_TIMEOUT": 10.0,
    "ONIONLAB_EXTRACT_MEMORY_MB": 32,
    "ONIONLAB_MAX_ITEMS_PER_PAGE": 2_000,
    "ONIONLAB_MAX_LINKS_PER_PAGE": 5_000,
}


# onionlab's own Scrapy components, one line each (name -> order), merged into the settings.
DOWNLOADER_MIDDLEWARES: dict[str, int] = {
    # sees a 3xx before Redirect (600)
    "onionlab.crawler.downloadermiddlewares.offsite.OffsiteRedirectMiddleware": 610,
    # after the gate (585), before MetaRefresh
    "onionlab.crawler.downloadermiddlewares.offsite.OffsiteRefreshMiddleware": 583,
    # sees 429/503 before RetryMiddleware (550)
    "onionlab.crawler.downloadermiddlewares.politeness.RetryAfterMiddleware": 560,
    # after HttpCompression (590), before MetaRefresh (580)
    "onionlab.crawler.downloadermiddlewares.gate.ObstacleGate": 585,
    # Tor outages: above Liveness (570), Retry (550)
    "onionlab.crawler.downloadermiddlewares.torhealth.TorHealth": 575,
    # sees failed attempts before RetryMiddleware
    "onionlab.crawler.downloadermiddlewares.liveness.LivenessMiddleware": 570,
}
SPIDER_MIDDLEWARES: dict[str, int] = {
    "onionlab.crawler.spidermiddlewares.scope.ScopeMiddleware": 600,
    # on canonical URLs, after Depth (900)
    "onionlab.crawler.spidermiddlewares.sitelimits.SiteLimitsMiddleware": 590,
    # nearest the engine: records what gets scheduled
    "onionlab.crawler.spidermiddlewares.resume.ResumeMiddleware": 50,
}


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
        pipelines = settings.getdict("ITEM_PIPELINES")
        pipelines["onionlab.crawler.pipelines.rundir.RunDirPipeline"] = 800
        # Only when ES_URL / ONIONLAB_ES_URL is set (or set wrong: the pipeline then says
        # why it is off), so a crawl without Elasticsearch never loads its client; after the
        # run dir: the spool it falls back on lives there.
        if _elasticsearch_wanted(settings):
            pipelines["onionlab.crawler.sinks.elastic.pipeline.ElasticsearchPipeline"] = 900
        settings.set("ITEM_PIPELINES", pipelines, priority="addon")
        apply_profile_defaults(settings)
        extensions = settings.getdict("EXTENSIONS")
        extensions["onionlab.crawler.extensions.progress.ProgressDisplay"] = 500
        extensions["onionlab.crawler.downloadermiddlewares.liveness.LivenessExtension"] = 510
        extensions["onionlab.crawler.spidermiddlewares.sitelimits.CrawlCapReport"] = 520
        extensions["scrapy.extensions.throttle.AutoThrottle"] = None
        extensions["onionlab.crawler.extensions.throttle.OnionAutoThrottle"] = 0
        extensions["scrapy.extensions.remote_control.RemoteControl"] = None
        settings.set("EXTENSIONS", extensions, priority="addon")
        for name, ours in (
            ("DOWNLOADER_MIDDLEWARES", DOWNLOADER_MIDDLEWARES),
            ("SPIDER_MIDDLEWARES", SPIDER_MIDDLEWARES),
        ):
            merged = settings.getdict(name)
            merged.update(ours)
            settings.set(name, merged, priority="addon")
