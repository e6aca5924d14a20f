"""Per-site liveness state: which onion hosts answer, which are down, gone or moved.

One :class:`LivenessRegistry` per crawler (:func:`registry_for`), shared by the liveness
downloader middleware and extension (:mod:`onionlab.crawler.downloadermiddlewares.liveness`).
A host that answered earlier in the crawl and then fails ``K`` times in a row
(``ONIONLAB_GONE_AFTER``, default 5) is declared **gone** (it disappeared mid-crawl, as in an
exit scam or a seizure) and logged once; a host that never answered stays **down**. When one
of a gone site's official addresses answers, the site has **moved** (:meth:`mirror_for`).
Which addresses are official: :mod:`onionlab.crawler.mirrortrust`. The registry is seeded
from the run directory's earlier ``sites.json``:

``sites.json`` maps each host to ``first_seen``/``last_seen`` (UTC ISO time of its first and
latest answer, null if it never answered), ``last_attempt``, ``responses``, ``failures`` (by
kind: ``tor_F0``, ``timeout``, ``connection``, ``dns``, ``cancelled``, ``dataloss``,
``site_gone``, or an exception's class name: see
:func:`onionlab.crawler.failurekinds.failure_kind`; ``cancelled``,
``dataloss`` and ``stopped`` mean the site did answer), ``consecutive_failures``,
``gone_at``, ``mirrors`` (its trusted official addresses), ``mirrors_refused``,
``mirror_list``, ``key_fingerprint``, ``moved_to`` and ``state``
(``up``/``down``/``gone``/``moved``).

Depends on Scrapy, :mod:`onionlab.crawler.failurekinds` and :mod:`onionlab.crawler.mirrortrust`.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler

from onionlab.crawler import default_settings
from onionlab.crawler.failurekinds import ANSWERED_KINDS
from onionlab.crawler.mirrortrust import MirrorTrust

logger = logging.getLogger(__name__)

SITES_FILE = "sites.json"
DEFAULT_GONE_AFTER: int = default_settings.default("ONIONLAB_GONE_AFTER")
STATS = "onionlab/liveness"
UP, DOWN, GONE, MOVED = "up", "down", "gone", "moved"
SITE_GONE = "site_gone"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class HostRecord:
    """What is known about one onion host; the JSON fields of its ``sites.json`` entry."""

    first_seen: str | None = None
    last_seen: str | None = None
    last_attempt: str | None = None
    responses: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    consecutive_failures: int = 0
    gone_at: str | None = None
    mirrors: list[str] = field(default_factory=list)
    mirrors_refused: dict[str, str] = field(default_factory=dict)
    mirror_list: str | None = None
    key_fingerprint: str | None = None
    moved_to: str | None = None
    state: str = DOWN

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostRecord:
        record = cls()
        record.first_seen = data.get("first_seen")
        record.last_seen = data.get("last_seen")
        record.last_attempt = data.get("last_attempt")
        record.responses = int(data.get("responses", 0))
        record.failures = {str(k): int(v) for k, v in dict(data.get("failures", {})).items()}
        record.consecutive_failures = int(data.get("consecutive_failures", 0))
        record.gone_at = data.get("gone_at")
        record.mirrors = [str(h) for h in data.get("mirrors", [])]
        refused = data.get("mirrors_refused") or {}
        record.mirrors_refused = {str(k): str(v) for k, v in dict(refused).items()}
        record.mirror_list = data.get("mirror_list")
        fingerprint = data.get("key_fingerprint")
        record.key_fingerprint = str(fingerprint).upper() if fingerprint else None
        record.moved_to = data.get("moved_to")
        record.state = str(data.get("state", DOWN))
        return record


class LivenessRegistry(MirrorTrust):
    """Per-host liveness of one crawl, seeded from the run directory's earlier ``sites.json``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.gone_after = default_settings.getint(crawler.settings, "ONIONLAB_GONE_AFTER")
        run_dir = crawler.settings.get("ONIONLAB_RUN_DIR")
        self.path: Path | None = Path(run_dir) / SITES_FILE if run_dir else None
        self.hosts: dict[str, HostRecord] = self._load_history()
        # Hosts gone in an earlier run of this crawl get one probe before being cut off again.
        self._probe = {host for host, r in self.hosts.items() if r.state in (GONE, MOVED)}
        # host -> when (time.monotonic) this session declared it gone (or moved): an answer
        # to a request sent before then was on its way already and says nothing of now
        self._declared: dict[str, float] = {}
        # Each site's official addresses: seeded by settings, learnt from its mirrors.txt.
        self.mirrors: dict[str, list[str]] = {
            host: list(record.mirrors) for host, record in self.hosts.items() if record.mirrors
        }
        for host, hosts in crawler.settings.getdict("ONIONLAB_MIRRORS").items():
            self.learn_mirrors(host.lower(), hosts)
        self._init_trust(crawler.settings)

    def _load_history(self) -> dict[str, HostRecord]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {host: HostRecord.from_json(entry) for host, entry in data.items()}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            logger.warning("ignoring unreadable site history %s: %s", self.path, exc)
            return {}

    def _record(self, host: str) -> HostRecord:
        record = self.hosts.get(host)
        if record is None:
            record = self.hosts[host] = HostRecord(mirrors=list(self.mirrors.get(host, [])))
        record.last_attempt = _now()
        return record

    def is_gone(self, host: str) -> bool:
        record = self.hosts.get(host)
        if record is None or record.state not in (GONE, MOVED):
            return False
        if host in self._probe:
            self._probe.discard(host)
            return False
        return True

    def answered(self, host: str, sent_at: float | None = None) -> None:
        """``host`` answered a request sent at ``sent_at`` (``time.monotonic``; None: now).

        A site declared gone or moved comes back only by answering a request sent after the
        declaration: a page downloaded just before it moved can reach this point later (the
        obstacle gate holds each page for its worker), and counted as "answers again" it put
        the moved bazaar back up and sent its remaining requests to the dead address."""
        record = self._record(host)
        record.first_seen = record.first_seen or record.last_attempt
        record.last_seen = record.last_attempt
        record.responses += 1
        declared = self._declared.get(host)
        late = sent_at is not None and declared is not None and sent_at < declared
        if record.state in (GONE, MOVED) and late:
            self.stats.inc_value(f"{STATS}/late_answers")
            return
        record.consecutive_failures = 0
        if record.state in (GONE, MOVED):
            logger.warning("site %s answers again after it was declared %s", host, record.state)
            self.stats.inc_value(f"{STATS}/returned")
        record.state = UP
        record.gone_at = None
        record.moved_to = None

    def failed(self, host: str, kind: str) -> None:
        record = self._record(host)
        record.failures[kind] = record.failures.get(kind, 0) + 1
        self.stats.inc_value(f"{STATS}/failures/{kind}")
        if kind in ANSWERED_KINDS:  # the site sent bytes: alive, however bad the answer
            record.first_seen = record.first_seen or record.last_attempt
            record.last_seen = record.last_attempt
            record.consecutive_failures = 0
            return
        record.consecutive_failures += 1
        # "Answered earlier in the crawl": this run, or an earlier run of a resumed crawl.
        answered_before = record.last_seen is not None
        if (
            record.state not in (GONE, MOVED)
            and answered_before
            and self.gone_after > 0
            and record.consecutive_failures >= self.gone_after
        ):
            self._declare_gone(host, record, kind)

    def learn_mirrors(self, host: str, hosts: list[str] | tuple[str, ...]) -> None:
        """Record ``hosts`` as official addresses of the site at ``host`` (its mirror list)."""
        known = self.mirrors.setdefault(host, [])
        for mirror in hosts:
            mirror = mirror.lower()
            if mirror != host and mirror not in known:
                known.append(mirror)
        record = self.hosts.get(host)
        if record is not None:
            record.mirrors = list(known)
            if record.state == GONE and self.mirror_for(host) is not None:
                # Declared gone before its mirror was proven: it has moved after all.
                record.state, record.moved_to = MOVED, self.mirror_for(host)
                self.stats.inc_value(f"{STATS}/moved")
                logger.error("SITE MOVED: %s continues at its mirror %s", host, record.moved_to)

    def mirror_for(self, host: str) -> str | None:
        """An official address of ``host``'s site to use instead, or None.

        One that answers now comes first; one never tried is worth a try; a mirror that is
        itself gone or failing is not.
        """
        best: tuple[int, str] | None = None
        for mirror in self.mirrors.get(host, []):
            record = self.hosts.get(mirror)
            if record is None:
                rank = 1
            elif record.state == UP and record.consecutive_failures < self.gone_after:
                rank = 0
            else:
                continue
            if best is None or (rank, mirror) < best:
                best = (rank, mirror)
        return best[1] if best else None

    def _entry(self, host: str) -> HostRecord:
        """``host``'s record, created (never answered, not attempted) if new."""
        record = self.hosts.get(host)
        if record is None:
            record = self.hosts[host] = HostRecord(mirrors=list(self.mirrors.get(host, [])))
        return record

    # --- mirror lists: pinned key, valid signature, mirrors proving the same key ---------

    def _declare_gone(self, host: str, record: HostRecord, kind: str) -> None:
        record.gone_at = record.last_attempt
        self._declared[host] = time.monotonic()
        mirror = self.mirror_for(host)
        if mirror is not None:
            record.state, record.moved_to = MOVED, mirror
            self.stats.inc_value(f"{STATS}/moved")
            logger.error(
                "SITE MOVED: %s stopped answering (%d failures in a row, last: %s); its "
                "official mirror %s takes its remaining requests (same URLs, same pages).",
                host,
                record.consecutive_failures,
                kind,
                mirror,
            )
            return
        record.state = GONE
        self.stats.inc_value(f"{STATS}/declared_gone")
        logger.error(
            "SITE GONE: %s disappeared mid-crawl — exit scam or seizure? It answered %d "
            "time(s), last at %s, then failed %d times in a row (last: %s). Its remaining "
            "requests are not fetched; they are recorded as '%s' errors.",
            host,
            record.responses,
            record.last_seen,
            record.consecutive_failures,
            kind,
            SITE_GONE,
        )

    def skipped(self, host: str) -> None:
        record = self._record(host)
        record.failures[SITE_GONE] = record.failures.get(SITE_GONE, 0) + 1
        self.stats.inc_value(f"{STATS}/skipped")

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {host: asdict(record) for host, record in sorted(self.hosts.items())}

    def counts(self) -> dict[str, int]:
        counts = {UP: 0, DOWN: 0, GONE: 0, MOVED: 0}
        for record in self.hosts.values():
            counts[record.state] = counts.get(record.state, 0) + 1
        return counts


_registries: weakref.WeakKeyDictionary[Crawler, LivenessRegistry] = weakref.WeakKeyDictionary()


def registry_for(crawler: Crawler) -> LivenessRegistry:
    """The crawler's one registry, shared by the middleware and the extension."""
    registry = _registries.get(crawler)
    if registry is None:
        registry = _registries[crawler] = LivenessRegistry(crawler)
    return registry
