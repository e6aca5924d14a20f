"""Evidence capture: every response the downloader gets, and its request, into the run's WARC files.

Sits next to the downloader (order 900, above Scrapy's DownloaderStats at 850), so it sees
each response first, with the body as it came (before HttpCompression decodes it), and each
request last, with every header the other middlewares added. Redirects, 429s, error pages,
queue and CAPTCHA pages, binaries: everything that came back is kept, not only the pages
that gave items. A download that got no answer (a timeout, a dead site) has nothing to
capture; it is in ``errors.ndjson``.

The record is written before the response goes on, in the crawl's process (0.25 ms for a
12 KB page here): a page the resume ledger marks done has its record on disk, a kill never
loses one (a thread's queue would). A record that cannot be written (disk full) stops the
crawl like any other result (:mod:`onionlab.crawler.runs.notsaved`, ``capture``).

Settings: ``ONIONLAB_CAPTURE`` (on; ``onionlab crawl --no-capture``), ``ONIONLAB_WARC_MAX_BYTES``
(rotation), ``ONIONLAB_LAB_SEED`` (for the warcinfo record); off without ``ONIONLAB_RUN_DIR``.
Stats: ``onionlab/capture/records``, ``onionlab/capture/bytes``, ``onionlab/capture/files``.
Depends on Scrapy and :mod:`onionlab.crawler.sinks.warc`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response

from onionlab.crawler import default_settings
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.rundir import WriteFailed
from onionlab.crawler.sinks.warc import FOLDER, Exchange, WarcFiles

logger = logging.getLogger(__name__)

RECORDS = "onionlab/capture/records"
BYTES = "onionlab/capture/bytes"
FILES = "onionlab/capture/files"


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Scrapy's headers as ``(name, value)`` text pairs, every value of a repeated one."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def warcinfo(crawler: Crawler, run_dir: Path) -> dict[str, str]:
    """The fields of each WARC file's ``warcinfo`` record for this crawl session."""
    settings = crawler.settings
    stats = crawler.stats
    socks = settings.get("TOR_SOCKS") or "none"
    info = {
        "software": (
            f"onionlab/{_version('onionlab')} (Scrapy {_version('scrapy')}, "
            f"warcio {_version('warcio')})"
        ),
        "isPartOf": run_dir.name,
        "description": "onionlab crawl of onion services through Tor",
        "onionlab-session-start": datetime.now(UTC).isoformat(timespec="seconds"),
        "onionlab-session": str(int(stats.get_value("onionlab/resume/sessions", 1) or 1)),
        "onionlab-socks": f"socks5h://{socks} (Tor; host names resolved by Tor, never locally)",
        "http-header-user-agent": str(settings.get("USER_AGENT")),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
    }
    seed = default_settings.get(settings, "ONIONLAB_LAB_SEED")
    if seed not in (None, ""):
        info["onionlab-lab-seed"] = str(seed)
    return info


class CaptureMiddleware:
    def __init__(self, crawler: Crawler, files: WarcFiles) -> None:
        self.crawler = crawler
        self.files = files

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        settings = crawler.settings
        run_dir = settings.get("ONIONLAB_RUN_DIR")
        if not run_dir:
            raise NotConfigured("ONIONLAB_RUN_DIR is not set")
        if not default_settings.getbool(settings, "ONIONLAB_CAPTURE"):
            raise NotConfigured("evidence capture is off (ONIONLAB_CAPTURE)")
        max_bytes = default_settings.getint(settings, "ONIONLAB_WARC_MAX_BYTES")
        path = Path(run_dir)
        files = WarcFiles(path / FOLDER, path.name, {}, max_bytes=max_bytes)
        middleware = cls(crawler, files)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Spider | None = None) -> None:
        # the session number is known once the resume ledger has been read (at its open)
        self.files.info = warcinfo(self.crawler, Path(self.crawler.settings["ONIONLAB_RUN_DIR"]))

    def spider_closed(self, spider: Spider | None = None) -> None:
        self.files.close()
        self.crawler.stats.set_value(FILES, len(self.files.files))

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        stats = self.crawler.stats
        if notsaved.is_stopped(stats):
            notsaved.count(stats, "capture")
            return response
        exchange = Exchange(
            url=response.url,
            method=request.method,
            request_headers=header_pairs(request.headers),
            request_body=request.body,
            status=response.status,
            response_headers=header_pairs(response.headers),
            body=response.body,
            protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        )
        before = self.files.bytes
        try:
            self.files.write(exchange)
        except WriteFailed as exc:
            notsaved.record(self.crawler, "capture", exc)
            return response
        stats.inc_value(RECORDS, 2)
        stats.inc_value(BYTES, self.files.bytes - before)
        return response
