"""Runs one crawl in this process with Scrapy and returns its summary.

Builds the Scrapy settings (the add-on does the wiring), starts the reactor, writes
``stats.json``/``summary.json``, then seals the run (manifest). One crawl per process.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from onionlab.crawler import default_settings
from onionlab.crawler.config import ConfigError
from onionlab.crawler.extraction.items import link_run
from onionlab.crawler.interrupt import DEFAULT_TIMEOUT, StopOnSignal
from onionlab.crawler.pluginmanager import get_plugins
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.ledger import mark_unfinished
from onionlab.crawler.runs.rundir import RunDir, RunDirDamaged, WriteFailed, read_json
from onionlab.crawler.runs.sealing import seal_session
from onionlab.crawler.runs.warccheck import capture_totals
from onionlab.crawler.sitepolicy import load_profiles
from onionlab.crawler.tor.guard import harden_environment

logger = logging.getLogger(__name__)


@dataclass
class CrawlConfig:
    """How to run a crawl. ``socks`` is Tor's SOCKS port as ``IP:PORT``."""

    start_urls: list[str]
    socks: str
    run_dir: Path
    max_pages: int = 1_000_000
    max_seconds: int = 4 * 3600
    concurrency: int = 32
    per_site_concurrency: int = 16
    download_timeout: int = 60
    progress: bool = True
    allow_clearnet: bool = False
    log_level: str = "INFO"
    tor_control: str = ""  # "IP:PORT" of Tor's ControlPort (for NEWNYM); "" = none
    tor_control_cookie: str = ""  # path of its authentication cookie
    site_profiles: str = ""  # per-site crawl profiles (TOML, see onionlab.crawler.sitepolicy)
    site_services: dict[str, list[str]] = field(default_factory=dict)  # lab name -> hosts
    capture: bool = True  # every response and its request into WARC files (ONIONLAB_CAPTURE)
    lab_seed: str = ""  # the lab's seed when crawling the lab (recorded in the warcinfo)
    extra_settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> CrawlConfig:
        """The config a run was started with (its ``config.json``); unknown keys ignored, every
        known one checked (:class:`onionlab.crawler.runs.rundir.RunDirDamaged` if wrong)."""
        data = read_json(path)  # RunDirDamaged if it is not a JSON object
        known = {f.name: f for f in fields(cls)}
        for name in ("start_urls", "socks", "run_dir"):
            if name not in data:
                raise RunDirDamaged(path, f"no {name!r}")
        for name, value in data.items():
            entry = known.get(name)
            if entry is None:
                continue
            default = entry.default_factory() if callable(entry.default_factory) else entry.default
            expected = {"start_urls": list, "socks": str, "run_dir": str}.get(name, type(default))
            ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
            if name == "start_urls":
                ok = ok and all(isinstance(url, str) for url in value)
            if not ok:
                raise RunDirDamaged(path, f"{name!r} is not a {expected.__name__}")
        if data.get("extra_settings"):  # Scrapy settings name classes: code, not data
            raise RunDirDamaged(
                path,
                "'extra_settings' are never taken from a run directory (Scrapy settings can "
                "load code)",
                hint="remove them from config.json, or start a new crawl",
            )
        config = cls(**{key: value for key, value in data.items() if key in known})
        config.run_dir = Path(config.run_dir)
        return config

    def scrapy_settings(self) -> dict[str, Any]:
        settings = {
            "ADDONS": {"onionlab.crawler.addon.OnionlabAddon": 0},
            "TOR_SOCKS": self.socks,
            "TOR_ALLOW_CLEARNET": self.allow_clearnet,
            "ONIONLAB_RUN_DIR": str(self.run_dir),
            "ONIONLAB_PROGRESS": self.progress,
            "CLOSESPIDER_PAGECOUNT": self.max_pages,
            "CLOSESPIDER_TIMEOUT": self.max_seconds,
            "CONCURRENT_REQUESTS": self.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": self.per_site_concurrency,
            "ONIONLAB_CAPTURE": self.capture,
            "ONIONLAB_LAB_SEED": self.lab_seed,
            "DOWNLOAD_TIMEOUT": self.download_timeout,
            "LOG_LEVEL": self.log_level,
            "LOG_FILE": str(RunDir(self.run_dir).log),
            "LOG_FILE_APPEND": True,  # a resumed run adds to its log
            # Scrapy's; see onionlab.crawler.spidermiddlewares.resume
            "JOBDIR": str(Path(self.run_dir) / "jobdir"),
        }
        if self.site_services:  # names for the lab's sites (profiles, progress display)
            settings["ONIONLAB_SITE_SERVICES"] = self.site_services
            # The lab's official mirrors, as lab.json lists them
            # (onionlab.crawler.downloadermiddlewares.liveness).
            settings["ONIONLAB_MIRRORS"] = {
                hosts[0]: hosts[1:] for hosts in self.site_services.values() if len(hosts) > 1
            }
        if self.site_profiles:
            profiles = load_profiles(Path(self.site_profiles), services=self.site_services)
            settings["ONIONLAB_SITE_PROFILES"] = self.site_profiles
            settings["DOWNLOAD_SLOTS"] = profiles.download_slots(self.per_site_concurrency)
        if self.tor_control:
            settings["TOR_CONTROL"] = self.tor_control
            settings["TOR_CONTROL_COOKIE"] = self.tor_control_cookie
        settings.update(self.extra_settings)
        return settings


class CrawlFailed(RuntimeError):
    """The crawl could not start or its engine failed; the message says why, ``cause`` is
    the exception (a :class:`onionlab.crawler.config.ConfigError` when an input was wrong)."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


DROPPED_PREFIX = "onionlab/dropped/"
"""Stats prefix for anything left out, by reason (``onionlab/dropped/<reason>[/<detail>]``)."""


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
    # Everything the crawl left out on purpose or could not keep, by reason: components
    # count ``onionlab/dropped/<reason>`` (see DROPPED_PREFIX); nothing is dropped uncounted.
    dropped = {
        key[len(DROPPED_PREFIX) :]: int(value)
        for key, value in sorted(stats.items())
        if key.startswith(DROPPED_PREFIX)
    }
    pages = int(stats.get("response_received_count", 0))
    # Per-site liveness, from the sites.json the liveness extension wrote
    # (onionlab.crawler.downloadermiddlewares.liveness).
    hosts = run.read_json(run.sites) or {}
    states = [str(entry.get("state")) for entry in hosts.values()]
    sites: dict[str, Any] = {s: states.count(s) for s in ("up", "down", "gone")}
    sites["gone_hosts"] = sorted(h for h, entry in hosts.items() if entry.get("state") == "gone")
    moved = {h: e.get("moved_to") for h, e in sorted(hosts.items()) if e.get("state") == "moved"}
    sites["moved"] = moved
    # Hosts that reached their per-site page budget (onionlab.crawler.spidermiddlewares.sitelimits):
    # partly crawled.
    budget_prefix = "onionlab/site_limits/max_pages/"
    sites["over_budget"] = sorted(
        k[len(budget_prefix) :] for k in stats if k.startswith(budget_prefix)
    )
    return {
        "run_dir": str(run.path),
        "pages": pages,
        "items": items,
        "errors": int(stats.get("onionlab/errors/total", 0)) + sum(plugin_errors.values()),
        "errors_by_kind": errors_by_kind,
        "plugin_errors": plugin_errors,
        "dropped": dropped,
        "refused_non_onion": int(stats.get("onionlab/refused/non_onion", 0)),
        "retries": int(stats.get("retry/count", 0)),
        "duration_s": round(duration, 2),
        "pages_per_s": round(pages / duration, 1) if duration > 0 else 0.0,
        "finish_reason": stats.get("finish_reason", ""),
        "sites": sites,
        "capture": capture_totals(run.path),
    }


_SESSION_KEYS = (
    "pages",
    "items",
    "errors",
    "errors_by_kind",
    "plugin_errors",
    "dropped",
    "refused_non_onion",
    "retries",
    "duration_s",
    "pages_per_s",
    "finish_reason",
)


def _sum_counts(dicts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in dicts:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + int(value)
    return dict(sorted(total.items()))


def combine_sessions(
    previous: dict[str, Any] | None,
    current: dict[str, Any],
    run: RunDir,
    session_count: int = 1,
) -> dict[str, Any]:
    """The summary of a whole run across resumed sessions (``current`` is the last one).

    Counts are summed over sessions (``sessions`` keeps each one); ``items`` counts the
    distinct documents in ``items.ndjson``, so a page fetched again after a kill counts once.
    ``session_count`` is how many sessions the run has had (the resume ledger knows).
    """
    sessions = list(previous.get("sessions") or [previous]) if previous else []
    sessions = [{k: s[k] for k in _SESSION_KEYS if k in s} for s in sessions]
    # A session killed before it could write its summary left only its items behind.
    lost = max(0, session_count - 1 - len(sessions))
    sessions.extend({"finish_reason": "interrupted"} for _ in range(lost))
    sessions.append({k: current[k] for k in _SESSION_KEYS if k in current})
    combined = dict(current)
    combined["sessions"] = sessions
    if len(sessions) > 1:
        duration = sum(float(s.get("duration_s", 0)) for s in sessions)
        pages = sum(int(s.get("pages", 0)) for s in sessions)
        combined.update(
            pages=pages,
            errors=sum(int(s.get("errors", 0)) for s in sessions),
            errors_by_kind=_sum_counts([s.get("errors_by_kind", {}) for s in sessions]),
            plugin_errors=_sum_counts([s.get("plugin_errors", {}) for s in sessions]),
            dropped=_sum_counts([s.get("dropped", {}) for s in sessions]),
            refused_non_onion=sum(int(s.get("refused_non_onion", 0)) for s in sessions),
            retries=sum(int(s.get("retries", 0)) for s in sessions),
            duration_s=round(duration, 2),
            pages_per_s=round(pages / duration, 1) if duration > 0 else 0.0,
        )
    combined["items"] = run.count_documents() or current.get("items", {})
    return combined


def run_crawl(config: CrawlConfig) -> dict[str, Any]:
    """Crawl through Tor as configured; block until done; return the summary."""
    harden_environment()
    from scrapy.crawler import CrawlerProcess

    from onionlab.crawler.spiders.onion import OnionSpider

    run = RunDir(Path(config.run_dir))
    run.write_json(run.config, asdict(config))
    # crawl.log sits in the run directory: on a full disk, a log line that cannot be written
    # is lost quietly (the failure is reported once, in the summary:
    # onionlab.crawler.runs.notsaved).
    logging.raiseExceptions = False
    process = CrawlerProcess(config.scrapy_settings())
    # Scrapy filters by level in its log handler and leaves its loggers open: a DEBUG record
    # ("Crawled (200)", "Scraped from") was still made for every page and item, and thrown
    # away (3 % of the crawl's CPU). Its loggers get the crawl's level, for this crawl.
    scrapy_logger = logging.getLogger("scrapy")
    level_before = scrapy_logger.level
    scrapy_logger.setLevel(config.log_level)
    crawler = process.create_crawler(OnionSpider)
    failures: list[BaseException] = []

    def failed(failure: Any) -> None:
        failures.append(failure.value)

    process.crawl(crawler, start_urls=config.start_urls).addErrback(failed)
    stopper = _stop_on_signal(process, run)  # after crawl(): it installs the reactor
    try:
        summary = _run(process, crawler, run, stopper, failures)
    finally:
        stopper.uninstall()
        scrapy_logger.setLevel(level_before)
    seal_session(run.path, summary)
    return summary


def stop_timeout_from_env() -> float:
    """``$ONIONLAB_STOP_TIMEOUT`` (seconds a Ctrl-C'd crawl may take to stop), else 10."""
    value = os.environ.get("ONIONLAB_STOP_TIMEOUT", "")
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ConfigError(f"ONIONLAB_STOP_TIMEOUT={value!r}: expected a number of seconds ≥ 0")
    return seconds


def _stop_on_signal(process: Any, run: RunDir) -> StopOnSignal:
    """Ctrl-C and SIGTERM for this crawl: Scrapy's graceful stop, forced when it hangs
    (:mod:`onionlab.crawler.interrupt`) after the setting ``ONIONLAB_STOP_TIMEOUT`` seconds (else
    the environment variable of that name, else 10)."""
    from twisted.internet import reactor

    def graceful_stop() -> None:  # in the reactor: logging is safe here, not in a handler
        logger.info(
            "received %s: stopping gracefully (at most %g s; send it again to stop at once)",
            stopper.signal_name,
            stopper.timeout,
        )
        process.stop()

    def request_stop() -> None:
        reactor.callFromThread(graceful_stop)  # type: ignore[attr-defined]

    from_env = stop_timeout_from_env()
    configured = default_settings.get(process.settings, "ONIONLAB_STOP_TIMEOUT")
    timeout = from_env if configured is None else float(configured)
    stopper = StopOnSignal(
        request_stop, timeout=timeout, hint=f"resume with: onionlab crawl --resume {run.path}"
    )
    stopper.install(wakeup=False)  # a signal before the reactor runs stops it as it starts
    # Twisted and Scrapy install their handlers as the reactor starts: take over after them.
    reactor.callWhenRunning(reactor.callLater, 0, stopper.install)  # type: ignore[attr-defined]
    return stopper


def _run(
    process: Any, crawler: Any, run: RunDir, stopper: StopOnSignal, failures: list[BaseException]
) -> dict[str, Any]:
    started = time.monotonic()
    try:
        process.start()
    except Exception as exc:  # the reactor itself failed: nothing was crawled
        raise CrawlFailed(f"the crawl could not run: {type(exc).__name__}: {exc}") from exc
    duration = time.monotonic() - started
    if failures or process.bootstrap_failed:
        cause = failures[0] if failures else None
        if isinstance(cause, ConfigError):  # a setting or file the crawl reads at its start
            raise CrawlFailed(f"the crawl could not start: {cause}", cause)
        why = f"{type(cause).__name__}: {cause}" if cause else "it did not start"
        raise CrawlFailed(f"the crawl failed: {why} (details in {run.log})", cause)
    extra = {"interrupted_by": stopper.signal_name} if stopper.signum else {}
    return _save_results(run, crawler.stats, duration, extra)


def _save_results(
    run: RunDir, crawler_stats: Any, duration: float, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Link the run's items, write ``stats.json`` and ``summary.json``; return the summary.

    A write that fails (disk full) does not raise: the summary (returned, so the CLI prints
    it even when ``summary.json`` could not be written) says under ``not_saved`` what was
    not saved and why, and the ledger is left resumable (onionlab.crawler.runs.notsaved). ``extra``
    is added to the summary (e.g. ``interrupted_by`` after Ctrl-C: exit 130, resumable).
    """
    unsaved_files: list[str] = []
    if crawler_stats is not None:
        if notsaved.is_stopped(crawler_stats):
            unsaved_files.append("vendor identities (linked at the end)")
        else:
            try:
                link_run(get_plugins().manager, run, crawler_stats)
            except WriteFailed as exc:
                crawler_stats.set_value(notsaved.ERROR_KEY, str(exc))
                unsaved_files.append("vendor identities (linked at the end)")
    stats = dict(crawler_stats.get_stats()) if crawler_stats else {}
    try:
        run.write_json(run.stats, stats)
    except WriteFailed as exc:
        stats.setdefault(notsaved.ERROR_KEY, str(exc))
        unsaved_files.append(run.stats.name)
    previous = run.read_json(run.summary)
    sessions = int(stats.get("onionlab/resume/sessions", 1))
    summary = combine_sessions(previous, summarize(stats, duration, run), run, sessions)
    summary.update(extra or {})
    not_saved = notsaved.summary_of(stats)
    if not_saved is not None:
        summary["finish_reason"] = notsaved.REASON
        summary["sessions"][-1]["finish_reason"] = notsaved.REASON
    try:
        run.write_json(run.summary, summary)
    except WriteFailed as exc:
        unsaved_files.append(run.summary.name)
        if not_saved is None:
            not_saved = {"error": str(exc), "records": {}}
    if not_saved is not None:
        not_saved["files"] = unsaved_files
        not_saved["advice"] = notsaved.ADVICE.format(run=run.path)
        summary["finish_reason"] = notsaved.REASON
        summary["not_saved"] = not_saved
        mark_unfinished(run.path)  # the crawl may have finished: its results did not
    return summary
