"""The Scrapy add-on that wires onionlab into a crawl: Tor handler, resolver guard, pipelines.

One add-on instead of long settings dicts (Scrapy's own model). Settings it reads:
``TOR_SOCKS``, ``TOR_ALLOW_CLEARNET``, ``TOR_ISOLATE_BY_HOST``, ``ONIONLAB_RUN_DIR``,
``ONIONLAB_PROGRESS``.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

TOR_HANDLER = "crawler.tor.handler.TorDownloadHandler"
LOCKED = 100  # higher than Scrapy's "cmdline" priority (40)

# Tuned for onion services: latency is tens of milliseconds per hop and circuits can stall.
CRAWL_DEFAULTS: dict[str, object] = {
    "USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_TIMEOUT": 60,
    "DOWNLOAD_MAXSIZE": 16 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 4 * 1024 * 1024,
    "RETRY_TIMES": 4,
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": True,
    "CLOSESPIDER_PAGECOUNT": 50_000,
    "CLOSESPIDER_TIMEOUT": 4 * 3600,
    # AutoThrottle (crawler.throttle): an onion page's latency is mostly the circuit (about
    # 0.1 s in the lab), not the site's load, so start fast and aim at twice the per-site
    # concurrency: it then only slows a site whose answers really get slow (a 2 s answer
    # means 16 requests/s at most). Aiming at 8 halved the lab's throughput (bench).
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.1,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 32.0,
    "LOG_LEVEL": "INFO",
    # Each page's work runs in worker processes, bounded per page (crawler.pagework):
    # workers (0 = one per core, at least 2; -1 = in the crawl's own process, unbounded),
    # seconds and MB of resident memory above a worker's baseline (113-120 MB with every
    # built-in plugin, warmed up) per page. Measured on the full lab (scale 1, 1,945 pages):
    # crawl 135 MB + two workers 120 MB each = 368 MB; 48 MB leaves one page's allowance
    # (a worker ends above half of it: replaced) under 400 MB.
    "ONIONLAB_EXTRACT_WORKERS": 0,
    "ONIONLAB_EXTRACT_TIMEOUT": 10.0,
    "ONIONLAB_EXTRACT_MEMORY_MB": 48,
    "ONIONLAB_MAX_ITEMS_PER_PAGE": 2_000,
    "ONIONLAB_MAX_LINKS_PER_PAGE": 5_000,
}


# onionlab's own Scrapy components, one line each (name -> order), merged into the settings.
DOWNLOADER_MIDDLEWARES: dict[str, int] = {
    "crawler.politeness.RetryAfterMiddleware": 560,  # sees 429/503 before RetryMiddleware (550)
    "crawler.gate.ObstacleGate": 585,  # after HttpCompression (590), before MetaRefresh (580)
    "crawler.tor.health.TorHealth": 575,  # Tor outages: above Liveness (570), Retry (550)
    "crawler.liveness.LivenessMiddleware": 570,  # sees failed attempts before RetryMiddleware
}
SPIDER_MIDDLEWARES: dict[str, int] = {
    "crawler.scope.ScopeMiddleware": 600,
    "crawler.sitelimits.SiteLimitsMiddleware": 590,  # on canonical URLs, after Depth (900)
    "crawler.resume.ResumeMiddleware": 50,  # nearest the engine: records what gets scheduled
}


class OnionlabAddon:
    """Routes every download through Tor and writes results to the run directory."""

    def update_settings(self, settings: BaseSettings) -> None:
        for name, value in CRAWL_DEFAULTS.items():
            settings.set(name, value, priority="addon")
        # Only http/https exist, and both go through Tor; every other scheme is disabled.
        # Above every user priority: no settings file or flag can open a direct path.
        settings.set(
            "DOWNLOAD_HANDLERS",
            {"http": TOR_HANDLER, "https": TOR_HANDLER, "ftp": None, "s3": None, "file": None},
            priority=LOCKED,
        )
        settings.set("TWISTED_DNS_RESOLVER", "crawler.tor.resolver.RefuseAllResolver", LOCKED)
        settings.set("HTTPPROXY_ENABLED", False, priority=LOCKED)
        settings.set("TELNETCONSOLE_ENABLED", False, priority=LOCKED)
        pipelines = settings.getdict("ITEM_PIPELINES")
        pipelines["crawler.pipelines.rundir.RunDirPipeline"] = 800
        # Off (NotConfigured) unless ES_URL / ONIONLAB_ES_URL is set; after the run dir: the
        # spool it falls back on lives there.
        pipelines["crawler.sinks.elastic.pipeline.ElasticsearchPipeline"] = 900
        settings.set("ITEM_PIPELINES", pipelines, priority="addon")
        extensions = settings.getdict("EXTENSIONS")
        extensions["crawler.progress.ProgressDisplay"] = 500
        extensions["crawler.liveness.LivenessExtension"] = 510
        extensions["scrapy.extensions.throttle.AutoThrottle"] = None
        extensions["crawler.throttle.OnionAutoThrottle"] = 0
        settings.set("EXTENSIONS", extensions, priority="addon")
        for name, ours in (
            ("DOWNLOADER_MIDDLEWARES", DOWNLOADER_MIDDLEWARES),
            ("SPIDER_MIDDLEWARES", SPIDER_MIDDLEWARES),
        ):
            merged = settings.getdict(name)
            merged.update(ours)
            settings.set(name, merged, priority="addon")
