"""The resume ledger: an append-only file of crawl events that survives ``kill -9``.

Scrapy's ``JOBDIR`` (``<run>/jobdir``) keeps the scheduler's queue on disk and the
dupefilter's seen set, but its queue is only consistent after a graceful stop, and a request
that was in flight at the stop is in the seen set and in no queue: it would be lost. The
ledger (``<run>/resume.ndjson``, one JSON object a line, each line flushed to the OS as
it is written) closes that gap. Events:

- ``queued``  a request the spider yielded (start requests included), with its fingerprint,
  URL and the request itself as plain JSON data (``request``: method, headers, body in
  base64, priority, the few JSON-safe ``meta`` keys onionlab and Scrapy need, callback and
  errback by *name*, checked against the spider's allow-list; see
  :func:`onionlab.crawler.runs.requestdata.request_to_data`);
- ``started`` a queued request reached the downloader;
- ``done``    every item of that request's page has left the item pipelines (written);
- ``failed``  the page failed for good (:data:`onionlab.crawler.signals.failure_saved`);
- ``open``/``closed`` a session began / ended cleanly (with Scrapy's finish reason).

Run directories are passed around, so the ledger is untrusted input: nothing in it is code
(no pickle: an old ledger holding pickled requests is refused, never unpickled), and every
event and request is validated on load (types, http/https only, sizes). Anything else is
:class:`onionlab.crawler.runs.rundir.RunDirDamaged`: one line naming the file and line (exit 7).
Truncated last lines (a kill during a write) are left out, and cut off on resume.

fsync: off by default. A flushed write is in the kernel's page cache and survives the death
of the process (``kill -9``, a crash, OOM), which is what resuming is for; fsync would only
add power-loss safety at the cost of a disk sync per request (``ONIONLAB_RESUME_FSYNC``).
Written and replayed by :class:`onionlab.crawler.spidermiddlewares.resume.ResumeMiddleware`.
Depends on :mod:`onionlab.crawler.runs.rundir`, :mod:`onionlab.crawler.runs.notsaved` and
:mod:`onionlab.crawler.runs.requestdata`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.requestdata import (
    MAX_REDIRECT_URLS,
    check_request,
    check_url,
    damaged,
)
from onionlab.crawler.runs.rundir import (
    AppendFile,
    RunDir,
    RunDirDamaged,
    bulk_pairs,
    bulk_target,
    dumps_line,
    ndjson_lines,
    read_json,
)

logger = logging.getLogger(__name__)

LEDGER_NAME = "resume.ndjson"
FINISHED = "finished"
PICKLE_HINT = (
    "it holds requests in the old pickled format, which onionlab never loads (a pickle can "
    "run code); start a new crawl (onionlab crawl)"
)
_FP = re.compile(r"[0-9a-f]{1,128}")
EVENT_KINDS = frozenset({"queued", "started", "done", "failed", "open", "closed"})


def ledger_path(run_dir: Path) -> Path:
    return run_dir / LEDGER_NAME


def complete_lines(path: Path) -> tuple[list[bytes], int]:
    """The file's newline-terminated lines and the byte length they cover."""
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(keepends=True), end


def truncate_to(path: Path, length: int) -> bool:
    """Cut ``path`` to ``length`` bytes; True if anything was cut."""
    if not path.exists() or path.stat().st_size <= length:
        return False
    with path.open("r+b") as handle:
        handle.truncate(length)
    logger.warning("cut a partly written tail off %s (%d bytes kept)", path, length)
    return True


def repair_items(path: Path) -> set[str]:
    """Cut a partly written last pair off ``items.ndjson`` (a last line without its newline,
    an action without its document); return the URLs of the pages it holds. Damage anywhere
    else raises :class:`RunDirDamaged`."""
    lines, _ = complete_lines(path)
    ends = [0]
    for line in lines:
        ends.append(ends[-1] + len(line))
    good = 0
    urls: set[str] = set()
    action_line = 0
    for number, data in ndjson_lines(path, torn_tail_ok=True):
        if number > len(lines):  # a torn last line that happens to parse: still torn
            break
        if not action_line:
            bulk_target(data, path, number)
            action_line = number
            continue
        action_line = 0
        good = ends[number]
        if data.get("kind") == "page" and isinstance(data.get("url"), str):
            urls.add(data["url"])
    truncate_to(path, good)
    return urls


def cut_torn_tail(path: Path) -> bool:
    """Cut a partly written last line (no newline) off ``path``; True if anything was cut."""
    return truncate_to(path, complete_lines(path)[1])


def _check_event(event: dict[str, Any], path: Path, line: int) -> None:
    """Raise RunDirDamaged unless ``event`` is a ledger event onionlab writes."""
    if "req" in event:
        raise RunDirDamaged(path, "a request in the old pickled format", line, PICKLE_HINT)
    kind = event.get("ev")
    if kind not in EVENT_KINDS:
        raise damaged(path, line, f"unknown event {str(kind)[:40]!r}")
    if kind in ("queued", "started", "done"):
        fp = event.get("fp")
        if not isinstance(fp, str) or not _FP.fullmatch(fp):
            raise damaged(path, line, "fp is not a request fingerprint (hex)")
    if kind in ("queued", "failed"):
        check_url(event.get("url"), path, line)
    if kind == "queued" and "request" in event:
        check_request(event["request"], path, line)
    if kind == "done":
        urls = event.get("urls", [])
        if not isinstance(urls, list) or len(urls) > MAX_REDIRECT_URLS + 1:
            raise damaged(path, line, "urls is not a short list")
        for url in urls:
            check_url(url, path, line, "urls entry")
    if kind == "open" and type(event.get("session", 1)) is not int:
        raise damaged(path, line, "session is not an integer")
    if kind == "closed" and not isinstance(event.get("reason", ""), str):
        raise damaged(path, line, "reason is not a string")


@dataclass
class LedgerState:
    """What a run's ledger says about its earlier sessions."""

    queued: dict[str, dict[str, Any]] = field(default_factory=dict)  # fp -> event, first wins
    started: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    done_urls: set[str] = field(default_factory=set)
    failed_urls: set[str] = field(default_factory=set)
    sessions: int = 0
    last_close: str | None = None  # the last session's finish reason; None if it was killed

    def pending(self) -> list[dict[str, Any]]:
        """Queued events whose page is neither done nor failed, in the order queued."""
        return [
            event
            for fp, event in self.queued.items()
            if fp not in self.done
            and event["url"] not in self.done_urls
            and event["url"] not in self.failed_urls
        ]

    def in_flight(self) -> set[str]:
        """Fingerprints that reached the downloader and never finished."""
        return {fp for fp in self.started - self.done if fp in self.queued} - {
            fp for fp, event in self.queued.items() if event["url"] in self.failed_urls
        }


def read_ledger(path: Path, repair: bool = False) -> LedgerState:
    """Parse and check the ledger. A last line without its newline (a kill mid-write) is
    left out, and cut off with ``repair``; any other damage raises :class:`RunDirDamaged`."""
    state = LedgerState()
    _lines, length = complete_lines(path)
    for line, event in ndjson_lines(path, torn_tail_ok=True):
        if line > len(_lines):  # a torn last line that happens to parse: still torn
            break
        _check_event(event, path, line)
        kind, fp = event["ev"], event.get("fp", "")
        if kind == "queued":
            state.queued.setdefault(fp, event)
        elif kind == "started":
            state.started.add(fp)
        elif kind == "done":
            state.done.add(fp)
            state.done_urls.update(event.get("urls", ()))
        elif kind == "failed":
            state.failed_urls.add(event["url"])
        elif kind == "open":
            state.sessions += 1
            state.last_close = None
        elif kind == "closed":
            state.last_close = event.get("reason", "")
    if repair:
        truncate_to(path, length)
    return state


def run_status(run_dir: Path) -> str:
    """``"new"`` (no ledger), ``"finished"`` (last session finished the crawl) or
    ``"interrupted"`` (killed, stopped, or ended by a limit: resumable)."""
    path = ledger_path(run_dir)
    if not path.exists():
        return "new"
    return FINISHED if read_ledger(path).last_close == FINISHED else "interrupted"


def check_resumable(run_dir: Path) -> LedgerState:
    """Read every file ``crawl --resume`` reads back (ledger, items, errors, summary, stats,
    sites, config) and raise :class:`RunDirDamaged` on the first damaged one. Partly
    written last lines (a kill mid-write) are allowed: resuming cuts them off."""
    run = RunDir(run_dir)
    state = read_ledger(ledger_path(run_dir))
    for _ in bulk_pairs(run.items, torn_tail_ok=True):
        pass
    for _ in ndjson_lines(run.errors, torn_tail_ok=True):
        pass
    for path in (run.config, run.summary, run.stats, run.sites):
        if path.exists():
            read_json(path)
    if run.sites.exists() and not all(isinstance(e, dict) for e in read_json(run.sites).values()):
        raise RunDirDamaged(run.sites, "an entry that is not an object")
    return state


def mark_unfinished(run_dir: Path) -> None:
    """After a session that finished crawling but could not save its results: make sure the
    ledger does not say ``finished``, so ``--resume`` runs again. Appends a ``closed`` event;
    if even that cannot be written (disk full), cuts the last ``closed finished`` line off
    (cutting needs no space)."""
    path = ledger_path(run_dir)
    if not path.exists():
        return
    try:
        ledger = AppendFile(path)
        try:
            ledger.write(dumps_line({"ev": "closed", "reason": notsaved.REASON}))
        finally:
            ledger.close()
        return
    except OSError:
        pass
    lines, length = complete_lines(path)
    if lines and b'"ev":"closed"' in lines[-1]:
        truncate_to(path, length - len(lines[-1]))


class Ledger:
    """The append-only ledger file: one JSON line per event, written whole (see
    :class:`onionlab.crawler.runs.rundir.AppendFile`), fsynced if asked."""

    def __init__(self, path: Path, fsync: bool = False) -> None:
        self.path = path
        self._file = AppendFile(path, fsync=fsync)

    def append(self, event: dict[str, Any]) -> None:
        self._file.write(dumps_line(event, separators=(",", ":")))

    def close(self) -> None:
        self._file.close()
