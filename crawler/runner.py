"""Runs one crawl in this process with Scrapy and returns its summary.

Builds the Scrapy settings (the onionlab add-on does the wiring), starts the reactor,
and writes ``stats.json``/``summary.json`` to the run directory. One crawl per process:
Twisted's reactor cannot be restarted.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from crawler.extraction import link_run
from crawler.plugins import get_plugins
from crawler.rundir import RunDir
from crawler.siteprofiles import load_profiles
from crawler.tor.guard import harden_environment


@dataclass
class CrawlConfig:
    """How to run a crawl. ``socks`` is Tor's SOCKS port as ``IP:PORT``."""

    start_urls: list[str]
    socks: str
    run_dir: Path
    max_pages: int = 50_000
    max_seconds: int = 4 * 3600
    concurrency: int = 32
    per_site_concurrency: int = 16
    download_timeout: int = 60
    progress: bool = True
    allow_clearnet: bool = False
    log_level: str = "INFO"
    tor_control: str = ""  # "IP:PORT" of Tor's ControlPort (for NEWNYM); "" = none
    tor_control_cookie: str = ""  # path of its authentication cookie
    site_profiles: str = ""  # per-site crawl profiles (TOML, see crawler.siteprofiles)
    site_services: dict[str, list[str]] = field(default_factory=dict)  # lab name -> hosts
    extra_settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> CrawlConfig:
        """The config a run was started with (its ``config.json``); unknown keys ignored."""
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        config = cls(**{key: value for key, value in data.items() if key in known})
        config.run_dir = Path(config.run_dir)
        return config

    def scrapy_settings(self) -> dict[str, Any]:
        settings = {
            "ADDONS": {"crawler.addon.OnionlabAddon": 0},
            "TOR_SOCKS": self.socks,
            "TOR_ALLOW_CLEARNET": self.allow_clearnet,
            "ONIONLAB_RUN_DIR": str(self.run_dir),
            "ONIONLAB_PROGRESS": self.progress,
            "CLOSESPIDER_PAGECOUNT": self.max_pages,
            "CLOSESPIDER_TIMEOUT": self.max_seconds,
            "CONCURRENT_REQUESTS": self.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": self.per_site_concurrency,
            "DOWNLOAD_TIMEOUT": self.download_timeout,
            "LOG_LEVEL": self.log_level,
            "LOG_FILE": str(RunDir(self.run_dir).log),
            "LOG_FILE_APPEND": True,  # a resumed run adds to its log
            "JOBDIR": str(Path(self.run_dir) / "jobdir"),  # Scrapy's; see crawler.resume
        }
        if self.site_profiles:
            profiles = load_profiles(Path(self.site_profiles), services=self.site_services)
            settings["ONIONLAB_SITE_PROFILES"] = self.site_profiles
            settings["ONIONLAB_SITE_SERVICES"] = self.site_services
            settings["DOWNLOAD_SLOTS"] = profiles.download_slots(self.per_site_concurrency)
        if self.tor_control:
            settings["TOR_CONTROL"] = self.tor_control
            settings["TOR_CONTROL_COOKIE"] = self.tor_control_cookie
        settings.update(self.extra_settings)
        return settings


def summarize(stats: dict[str, Any], duration: float, run: RunDir) -> dict[str, Any]:
    """The crawl summary: what ``onionlab crawl --json`` prints."""
    items = {
        key.rsplit("/", 1)[1]: int(value)
        for key, value in sorted(stats.items())
        if key.startswith("onionlab/items/")
    }
    errors_by_kind = {
        key.rsplit("/", 1)[1]: int(value)
        for key, value in sorted(stats.items())
        if key.startswith("onionlab/errors/") and not key.endswith("/total")
    }
    plugin_errors = {
        key.split("/")[1]: int(value)
        for key, value in stats.items()
        if key.startswith("plugins/") and key.endswith("/errors")
    }
    pages = int(stats.get("response_received_count", 0))
    # Per-site liveness, from the sites.json the liveness extension wrote (crawler.liveness).
    sites_path = run.path / "sites.json"
    hosts = json.loads(sites_path.read_text(encoding="utf-8")) if sites_path.exists() else {}
    states = [str(entry.get("state")) for entry in hosts.values()]
    sites: dict[str, Any] = {s: states.count(s) for s in ("up", "down", "gone")}
    sites["gone_hosts"] = sorted(h for h, entry in hosts.items() if entry.get("state") == "gone")
    return {
        "run_dir": str(run.path),
        "pages": pages,
        "items": items,
        "errors": int(stats.get("onionlab/errors/total", 0)) + sum(plugin_errors.values()),
        "errors_by_kind": errors_by_kind,
        "plugin_errors": plugin_errors,
        "refused_non_onion": int(stats.get("onionlab/refused/non_onion", 0)),
        "retries": int(stats.get("retry/count", 0)),
        "duration_s": round(duration, 2),
        "pages_per_s": round(pages / duration, 1) if duration > 0 else 0.0,
        "finish_reason": stats.get("finish_reason", ""),
        "sites": sites,
    }


def run_crawl(config: CrawlConfig) -> dict[str, Any]:
    """Crawl through Tor as configured; block until done; return the summary."""
    harden_environment()
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.onion import OnionSpider

    run = RunDir(Path(config.run_dir))
    run.write_json(run.config, asdict(config))
    process = CrawlerProcess(config.scrapy_settings())
    crawler = process.create_crawler(OnionSpider)
    process.crawl(crawler, start_urls=config.start_urls)
    started = time.monotonic()
    process.start()
    duration = time.monotonic() - started
    if crawler.stats is not None:
        link_run(get_plugins().manager, run, crawler.stats)
    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    run.write_json(run.stats, stats)
    summary = summarize(stats, duration, run)
    run.write_json(run.summary, summary)
    return summary
