"""Ends a crawl session's files: ``crawl.log`` closed, then the run's manifest written last.

Called by the runner once the crawl's engine has stopped and every result is written, so
the manifest (:mod:`onionlab.crawler.runs.manifest`) covers the session's final files:
nothing is written to ``crawl.log`` after it (a command that goes on in the same process,
as ``onionlab demo`` does, no longer logs into the run). Depends on Scrapy's log utilities
and the run-directory modules.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from scrapy.utils.log import get_scrapy_root_handler

from onionlab.crawler.runs import manifest, notsaved
from onionlab.crawler.runs.ledger import mark_unfinished
from onionlab.crawler.runs.rundir import WriteFailed


def close_crawl_log() -> None:
    """Take Scrapy's log handler (the run's ``crawl.log``) off and close it."""
    handler = get_scrapy_root_handler()
    if handler is not None and handler in logging.root.handlers:
        logging.root.removeHandler(handler)
        # on a full disk its last lines are lost, as every log line is then (see the runner)
        with contextlib.suppress(OSError):
            handler.close()


def seal_session(run: Path, summary: dict[str, Any]) -> None:
    """Close ``crawl.log``, write the manifest and put its SHA-256 in ``summary``
    (``manifest_sha256``). A manifest that cannot be written (disk full) is said in the
    summary's ``not_saved`` and the run is left resumable: resuming writes it."""
    close_crawl_log()
    try:
        summary["manifest_sha256"] = manifest.write_manifest(run)
    except WriteFailed as exc:
        not_saved = summary.setdefault("not_saved", {"error": str(exc), "records": {}})
        not_saved.setdefault("files", []).append(manifest.NAME)
        not_saved.setdefault("advice", notsaved.ADVICE.format(run=run))
        summary["finish_reason"] = notsaved.REASON
        mark_unfinished(run)
