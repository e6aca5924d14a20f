"""When a crawl's results cannot be written (disk full, an I/O error): count what was not
saved, and stop the crawl cleanly instead of crawling on with nowhere to put the results.

Every writer of the run directory (items, errors, the resume ledger, ``sites.json``) calls
:func:`record` with what it could not write. The first call logs one line and closes the
spider with the reason ``results_not_saved``; from then on the run-directory writers write
nothing more and the resume ledger marks no page done or failed, so ``crawl --resume``
(after space is freed) fetches again exactly the pages whose results were not all written.
Stats: ``onionlab/not_saved/<what>`` (records not written: ``items``, ``errors``,
``ledger``, ``sites``) and ``onionlab/not_saved_error`` (the first error, as text).
Depends on Scrapy.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)

REASON = "results_not_saved"
PREFIX = "onionlab/not_saved/"
ERROR_KEY = "onionlab/not_saved_error"
ADVICE = "free space (or fix the disk), then: onionlab crawl --resume {run}"


def is_stopped(stats: Any) -> bool:
    """Whether a result of this crawl could not be written."""
    return stats is not None and stats.get_value(ERROR_KEY) is not None


def count(stats: Any, what: str, n: int = 1) -> None:
    """Count ``n`` more records of ``what`` not written (after the crawl was stopped)."""
    stats.inc_value(PREFIX + what, n)


def note(stats: Any, what: str, error: BaseException, n: int = 1) -> bool:
    """A write of ``what`` failed: count it; True if it is the crawl's first failed write."""
    count(stats, what, n)
    if is_stopped(stats):
        return False
    stats.set_value(ERROR_KEY, str(error))
    return True


def record(crawler: Any, what: str, error: BaseException, n: int = 1) -> None:
    """A write of ``what`` failed: count it; the first failure stops the crawl."""
    if not note(crawler.stats, what, error, n):
        return
    logger.error(
        "results not saved (%s): stopping the crawl; %s",
        error,
        ADVICE.format(run=crawler.settings.get("ONIONLAB_RUN_DIR") or "RUN_DIR"),
    )
    engine = getattr(crawler, "engine", None)
    if engine is None or getattr(engine, "spider", None) is None:
        return
    closing = deferred_from_coro(engine.close_spider_async(reason=REASON))
    closing.addErrback(lambda failure: logger.error("could not stop the crawl: %s", failure))


def summary_of(stats: dict[str, Any]) -> dict[str, Any] | None:
    """``{"error": …, "records": {what: n}}`` of a crawl whose results were not all written,
    None if everything was written."""
    error = stats.get(ERROR_KEY)
    if error is None:
        return None
    records = {
        key[len(PREFIX) :]: int(value)
        for key, value in sorted(stats.items())
        if key.startswith(PREFIX)
    }
    return {"error": str(error), "records": records}
