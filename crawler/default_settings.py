"""onionlab's settings: every one with its default and a line on what it does, and the
order tables of onionlab's Scrapy components (Scrapy's own model:
``scrapy/settings/default_settings.py``).

:data:`CRAWL_DEFAULTS` are the Scrapy settings onionlab sets for a crawl (the add-on,
:mod:`onionlab.crawler.addon`, sets them at its priority). :data:`SETTINGS` are onionlab's own
Scrapy settings: a module reads one with :func:`getint`, :func:`getfloat`, :func:`getbool`,
:func:`getlist`, :func:`getdict` or :func:`get`, which take the default from here, so no
module writes a default inline (the value counts as unset when it is missing or ``None``,
as with Scrapy's ``settings.getint(name, default)``). :func:`from_env` reads a bound that an
environment variable of the same name may set instead (the crawl command has no flag for
it). :data:`ENVIRONMENT` lists the ``ONIONLAB_*`` names read from the environment only.
Depends on nothing of onionlab.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# --- Scrapy settings onionlab sets (the add-on, at its priority) ---------------------------

# Tuned for onion services: latency is tens of milliseconds per hop and circuits can stall.
CRAWL_DEFAULTS: dict[str, object] = {
    "USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    # Scrapy starts this many asyncio tasks for every response's output, however few items
    # it holds (100 by default: 11 % of the crawl's CPU). The item pipelines write to
    # files and buffer for Elasticsearch, so 4 lose nothing: the open lab went from 185
    # to 201 pages/s (bench.transport_ceiling; 16 gave 191).
    "CONCURRENT_ITEMS": 4,
    # CONCURRENT_REQUESTS counts the requests that can be on the wire, not the pages still
    # in the downloader middlewares waiting for an extraction worker, nor the requests
    # queued for a site at its own concurrency or paused (see the module).
    "DOWNLOADER": "onionlab.crawler.downloader.OnionDownloader",
    # Requests queued in memory up to ONIONLAB_SCHEDULER_MEMORY, then on disk (JOBDIR).
    "SCHEDULER_DISK_QUEUE": "onionlab.crawler.scheduler.MemoryFirstDiskQueue",
    # Scrapy's collector without its per-access deprecation wrapper (3 % of the CPU).
    "STATS_CLASS": "onionlab.crawler.stats.OnionStatsCollector",
    "DOWNLOAD_TIMEOUT": 60,
    # 8 MiB: far above any onion page's HTML, and what a hostile body (or a bomb inflating)
    # may cost the crawl's own memory while it downloads, per request in flight.
    "DOWNLOAD_MAXSIZE": 8 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 4 * 1024 * 1024,
    "RETRY_TIMES": 4,
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": True,
    "CLOSESPIDER_PAGECOUNT": 1_000_000,
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
}


# --- onionlab's own Scrapy settings: name -> (default, what it does) ----------------------

SETTINGS: dict[str, tuple[Any, str]] = {
    # Extraction (onionlab.crawler.extraction.pool): each page's work runs in worker
    # processes, bounded per page in seconds and in MB of resident memory above a worker's
    # baseline (about 100 MB with every built-in plugin, warmed up). The crawl (120-170 MB
    # beside a hostile site) and two workers leave one page 32 MB under 400 MB (a worker that
    # ends a page above half of it is replaced): lxml and the plugins need about 15 MB for a
    # 1 MB page, 175 MB for a 4 MB page of 100,000 links (a hostile link flood: cut off,
    # counted). Measured: the hostile lab peaked at 413 MB with 48. The environment may set
    # these too (from_env); the add-on sets them at its priority (EXTRACT_DEFAULTS).
    "ONIONLAB_EXTRACT_WORKERS": (0, "worker processes: 0 = one per core (at least 2), -1 = none"),
    "ONIONLAB_EXTRACT_TIMEOUT": (10.0, "seconds one page's work may run before it is cut off"),
    "ONIONLAB_EXTRACT_MEMORY_MB": (32, "MB one page may add to a worker's resident memory"),
    "ONIONLAB_MAX_ITEMS_PER_PAGE": (2_000, "items kept from one page; the rest counted, dropped"),
    "ONIONLAB_MAX_LINKS_PER_PAGE": (5_000, "links followed from one page; the rest dropped"),
    # the run
    "ONIONLAB_RUN_DIR": (None, "the run directory (results, ledger, sites.json); None: none"),
    "ONIONLAB_PROGRESS": (False, "show the live progress display on stderr"),
    "ONIONLAB_STOP_TIMEOUT": (None, "seconds a Ctrl-C'd crawl may take (None: $env, else 10)"),
    "ONIONLAB_RESUME_FSYNC": (False, "fsync the resume ledger after every event"),
    # evidence capture (onionlab.crawler.downloadermiddlewares.capture): WARC files in <run>/warc
    "ONIONLAB_CAPTURE": (True, "write every response and its request to WARC files"),
    "ONIONLAB_WARC_MAX_BYTES": (1024**3, "bytes a WARC file may reach before the next one"),
    "ONIONLAB_LAB_SEED": ("", "the lab's seed, recorded in each WARC file's warcinfo"),
    # onionlab.crawler.scheduler: the frontier in memory up to this, on disk beyond
    "ONIONLAB_SCHEDULER_MEMORY": (2_000, "requests queued in memory before the disk queue"),
    # sites
    "ONIONLAB_SITE_PROFILES": (None, "the site-profile TOML file (per-site crawl policy)"),
    "ONIONLAB_SITE_SERVICES": ({}, "service name -> its onion hosts (profiles, reports)"),
    "ONIONLAB_SITE_MAX_PAGES": (50_000, "pages per site at most (a profile may change it)"),
    "ONIONLAB_CREDENTIALS": (None, "the TOML file of site accounts (else $env, onionlab.toml)"),
    # scope (onionlab.crawler.spidermiddlewares.scope)
    "ONIONLAB_SCOPE_ENABLED": (True, "canonicalise links and apply the never-follow rules"),
    "ONIONLAB_SCOPE_SESSION_KEYS": ([], "query keys dropped as session ids, beyond the built-in"),
    "ONIONLAB_SCOPE_PERMUTATION_KEYS": ([], "query keys dropped as view permutations, extra"),
    "ONIONLAB_SCOPE_DENY": ([], "regular expressions (path + query) never followed"),
    "ONIONLAB_SCOPE_TRAP_BUDGET": (24, "distinct URLs per trap-shaped URL family and site"),
    "ONIONLAB_SCOPE_FAMILY_BUDGET": (20_000, "distinct URLs per other URL family and site"),
    "ONIONLAB_SCOPE_MAX_DEPTH": (12, "path segments beyond which a URL is trap-shaped"),
    # the obstacle gate (onionlab.crawler.downloadermiddlewares.gate)
    "ONIONLAB_GATE_ENABLED": (True, "pass queues, CAPTCHAs and login walls through plugins"),
    "ONIONLAB_GATE_MAX_ATTEMPTS": (5, "gate retries of one page"),
    "ONIONLAB_GATE_MAX_FAILURES": (5, "solves in a row that fail before a site's gate gives up"),
    "ONIONLAB_GATE_MAX_WAIT": (60.0, "seconds a plugin's {'wait': s} answer may sleep"),
    "ONIONLAB_GATE_WAIT_MARGIN": (0.5, "seconds added to every such wait"),
    "ONIONLAB_GATE_MAX_BYTES": (1024 * 1024, "a larger page is never shown to gate plugins"),
    # politeness (onionlab.crawler.downloadermiddlewares.politeness)
    # timeouts (onionlab.crawler.downloadermiddlewares.timeouts): a timed-out download is
    # tried again this many times (RETRY_TIMES for every other failure), never when its
    # body was already arriving
    "ONIONLAB_TIMEOUT_RETRIES": (1, "times a download that timed out is tried again"),
    "ONIONLAB_RETRY_AFTER_MAX": (None, "seconds one request waits in all (None: POLITENESS_…)"),
    "POLITENESS_HTTP_CODES": ([429, 503], "statuses whose Retry-After is honoured"),
    "POLITENESS_MAX_RETRIES": (6, "retries of one request after such an answer"),
    "POLITENESS_MAX_WAIT": (60.0, "seconds one request waits in all (ONIONLAB_RETRY_AFTER_MAX)"),
    "POLITENESS_DEFAULT_WAIT": (5.0, "seconds waited when the answer has no Retry-After"),
    # The first step is 20 ms (50 requests/s), doubled at each further pause: a 0.1 s first
    # step held the default lab's rate-limited sites (40 requests/s) at 10 for a minute after
    # one 429 and halved the crawl (112 -> 57 pages/s); at 20 ms it made 126.
    "POLITENESS_SLOWDOWN_DELAY": (0.02, "a site's delay floor after its first such answer"),
    "POLITENESS_MAX_DELAY": (10.0, "a site's delay at most, after slowing down"),
    "POLITENESS_SLOWDOWN_SECONDS": (60.0, "seconds a site stays slowed after its last answer"),
    # liveness and mirrors (onionlab.crawler.sitestate, onionlab.crawler.mirrortrust)
    "ONIONLAB_GONE_AFTER": (5, "failures in a row after which a site that answered is gone"),
    "ONIONLAB_MIRRORS": ({}, "host -> its official mirror addresses, trusted as given"),
    "ONIONLAB_SITE_KEYS": ({}, "host -> the fingerprint its mirror lists must be signed with"),
    "ONIONLAB_TRUST_UNSIGNED_MIRRORS": (False, "believe unsigned mirror lists (trusted sites)"),
}

EXTRACT_DEFAULTS: dict[str, object] = {
    name: SETTINGS[name][0]
    for name in (
        "ONIONLAB_EXTRACT_WORKERS",
        "ONIONLAB_EXTRACT_TIMEOUT",
        "ONIONLAB_EXTRACT_MEMORY_MB",
        "ONIONLAB_MAX_ITEMS_PER_PAGE",
        "ONIONLAB_MAX_LINKS_PER_PAGE",
    )
}
"""Set by the add-on at its priority, like :data:`CRAWL_DEFAULTS` (see the comment above)."""

ENVIRONMENT: dict[str, str] = {
    "ONIONLAB_CONFIG": "the onionlab.toml to read (default: ./onionlab.toml)",
    "ONIONLAB_DATA": "the data directory of runs (default: ./data)",
    "ONIONLAB_DEBUG": "show tracebacks of the CLI's errors",
    "ONIONLAB_SITES": "the lab's sites file the CLI reads seeds and services from",
    "ONIONLAB_PLUGINS_DIR": "a folder of plugin modules to load beside the entry points",
    "ONIONLAB_LOAD_PLUGINS": "only these plugins (comma-separated names)",
    "ONIONLAB_DISABLE_PLUGINS": "not these plugins (comma-separated names)",
    "ONIONLAB_TRACE_PLUGINS": "log every plugin hook call (1) with its duration",
    "ONIONLAB_STOP_TIMEOUT": "seconds a Ctrl-C'd crawl may take to stop (default 10)",
    "ONIONLAB_CREDENTIALS": "the TOML file of site accounts",
    "ONIONLAB_ES_URL": "Elasticsearch URL (also ES_URL)",
    "ONIONLAB_ES_USER": "Elasticsearch user",
    "ONIONLAB_ES_PASSWORD": "Elasticsearch password",
    "ONIONLAB_ES_API_KEY": "Elasticsearch API key",
    "ONIONLAB_ES_CA_CERT": "CA certificate for Elasticsearch and Kibana (also ONIONLAB_CA_CERT)",
    "ONIONLAB_KIBANA_URL": "Kibana URL",
    "ONIONLAB_KIBANA_USER": "Kibana user",
    "ONIONLAB_KIBANA_PASSWORD": "Kibana password",
    "ONIONLAB_KIBANA_OBJECTS": "the saved-objects file to import into Kibana",
}
"""``ONIONLAB_*`` names read from the environment (by the CLI, the plugin loader, the
Elasticsearch and Kibana clients, onionlab.toml's loader); some are also settings above, and
the Elasticsearch ones may be Scrapy settings too
(:func:`onionlab.crawler.sinks.elastic.client.scrapy_flags`)."""

# --- onionlab's Scrapy components, name -> order (merged by the add-on) -------------------

DOWNLOADER_MIDDLEWARES: dict[str, int] = {
    # sees a 3xx before Redirect (600)
    "onionlab.crawler.downloadermiddlewares.offsite.OffsiteRedirectMiddleware": 610,
    # after the gate (585), before MetaRefresh
    "onionlab.crawler.downloadermiddlewares.offsite.OffsiteRefreshMiddleware": 583,
    # Scrapy's, at its place, searching only pages that can have a refresh
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "onionlab.crawler.downloadermiddlewares.metarefresh.MetaRefreshMiddleware": 580,
    # sees 429/503 before RetryMiddleware (550)
    "onionlab.crawler.downloadermiddlewares.politeness.RetryAfterMiddleware": 560,
    # after HttpCompression (590), before MetaRefresh (580)
    "onionlab.crawler.downloadermiddlewares.gate.ObstacleGate": 585,
    # Tor outages: above Liveness (570), Retry (550)
    "onionlab.crawler.downloadermiddlewares.torhealth.TorHealth": 575,
    # sees failed attempts before RetryMiddleware
    "onionlab.crawler.downloadermiddlewares.liveness.LivenessMiddleware": 570,
    # sees a timeout before RetryMiddleware (550) does, after Liveness counted it
    "onionlab.crawler.downloadermiddlewares.timeouts.TimeoutRetryPolicy": 555,
    # next to the downloader: every response as it came (before HttpCompression, 590) and
    # every request with all its headers, above Scrapy's DownloaderStats (850)
    "onionlab.crawler.downloadermiddlewares.capture.CaptureMiddleware": 900,
}
SPIDER_MIDDLEWARES: dict[str, int] = {
    "onionlab.crawler.spidermiddlewares.scope.ScopeMiddleware": 600,
    # on canonical URLs, after Depth (900)
    "onionlab.crawler.spidermiddlewares.sitelimits.SiteLimitsMiddleware": 590,
    # nearest the engine: records what gets scheduled
    "onionlab.crawler.spidermiddlewares.resume.ResumeMiddleware": 50,
}
EXTENSIONS: dict[str, int | None] = {
    "onionlab.crawler.extensions.progress.ProgressDisplay": 500,
    "onionlab.crawler.downloadermiddlewares.liveness.LivenessExtension": 510,
    "onionlab.crawler.spidermiddlewares.sitelimits.CrawlCapReport": 520,
    # onionlab's AutoThrottle replaces Scrapy's; the RemoteControl console is off (and not
    # even imported: onionlab.crawler.addon takes it out of EXTENSIONS_BASE)
    "scrapy.extensions.throttle.AutoThrottle": None,
    "onionlab.crawler.extensions.throttle.OnionAutoThrottle": 0,
}
ITEM_PIPELINES: dict[str, int] = {
    "onionlab.crawler.pipelines.rundir.RunDirPipeline": 800,
}
ELASTICSEARCH_PIPELINES: dict[str, int] = {
    # only when Elasticsearch is configured; after the run dir (its spool lives there)
    "onionlab.crawler.sinks.elastic.pipeline.ElasticsearchPipeline": 900,
}


# --- reading a setting, its default from here ---------------------------------------------


def default(name: str) -> Any:
    """The default of onionlab setting ``name`` (KeyError for a name not in :data:`SETTINGS`).
    A list or dict default is a fresh copy."""
    value = SETTINGS[name][0]
    return type(value)(value) if isinstance(value, list | dict) else value


def get(settings: Any, name: str) -> Any:
    """The value of ``name`` in Scrapy ``settings``, else its default."""
    return settings.get(name, default(name))


def getint(settings: Any, name: str) -> int:
    return int(settings.getint(name, default(name)))


def getfloat(settings: Any, name: str) -> float:
    return float(settings.getfloat(name, default(name)))


def getbool(settings: Any, name: str) -> bool:
    return bool(settings.getbool(name, default(name)))


def getlist(settings: Any, name: str) -> list[Any]:
    return list(settings.getlist(name, default(name)))


def getdict(settings: Any, name: str) -> dict[Any, Any]:
    return dict(settings.getdict(name, default(name)))


def from_env(settings: Any, name: str, kind: Callable[[str], Any]) -> Any:
    """A bound's value: the environment variable of that name if set (the crawl command
    has no flag for these), else the Scrapy setting, else its default."""
    fallback = default(name)
    raw = os.environ.get(name, "").strip()
    if raw:
        try:
            return kind(raw)
        except ValueError:
            logger.error("%s=%r is not a number: using %r", name, raw, fallback)
            return fallback
    value = settings.get(name)
    return fallback if value is None or value == "" else kind(str(value))
