"""Crawl-frontier scope: canonical URLs, never-follow rules and per-site budgets for traps.

Crawler layer, between the spider and Scrapy's scheduler. The pure functions
(:func:`canonicalize`, :func:`state_changing`, :func:`family_key`, :func:`trap_shaped`) and
:class:`Budgets` carry the rules; :class:`ScopeMiddleware` applies them to every request a
spider yields and counts each decision under ``onionlab/scope/<reason>`` in Scrapy's stats.

Rules (settings in brackets extend or tune them):

- **Canonical form** — scheme and host lower-cased, default port dropped, fragment dropped,
  empty path as ``/``, ``;jsessionid=…``-style path parameters removed, query parameters
  sorted (stable for repeated keys), and two kinds of parameter removed:
  *session ids* — a key in :data:`SESSION_KEYS` (case-insensitive), any key ending in
  ``sessid``/``sessionid``, or the key ``s`` when its value looks like a token (16+ hex
  digits, or 24+ URL-safe base64 characters with a digit; ``?s=search+words`` is kept);
  credentials in the netloc are dropped
  [``ONIONLAB_SCOPE_SESSION_KEYS``]; *view permutations* — :data:`PERMUTATION_KEYS`
  (``sort``, ``order``, ``filter``, ``view``, ``dir``, …): only the form without them is
  followed [``ONIONLAB_SCOPE_PERMUTATION_KEYS``].
- **State-changing links are never followed** — a path segment in
  :data:`STATE_CHANGING_SEGMENTS` (``logout``, ``signout``, ``delete``, …), a path matching
  :data:`STATE_CHANGING_PATHS` (``/cart/add``, ``/account/delete``, …), or an action-like
  query parameter (``action``, ``do``, ``op``, …) whose value is a state-changing verb
  [``ONIONLAB_SCOPE_DENY``: extra regular expressions matched against path + query].
- **Budgets per URL family** — a family is host + path with every digit run replaced by
  ``#`` + the sorted query keys (``/calendar/2025/03`` → ``/calendar/#/#``). A family is
  *trap-shaped* when its path holds a date (``/YYYY/MM``, ``/YYYY/MM/DD``, ``YYYY-MM``),
  its query has date keys (``year``, ``month``, ``day``, ``date``), its path is deeper than
  ``ONIONLAB_SCOPE_MAX_DEPTH`` (12) segments, or a segment repeats 3+ times. Distinct URLs
  per family and site are capped: trap-shaped families at ``ONIONLAB_SCOPE_TRAP_BUDGET``
  (**24**), every other family at ``ONIONLAB_SCOPE_FAMILY_BUDGET`` (20,000: far above the
  lab's largest real family, a safety net only). **Bound**: a site's traps cost at most
  24 requests per trap-shaped family; sort/filter permutations and session ids cost none
  beyond the canonical page; state-changing and hidden links cost none. A generator of
  unique letters-only paths (``/qzkf/wbxe``) makes a new family per URL and is not caught
  here: no URL shape separates it from a real site's slugs (the lab's forum has 171
  ``/t/<slug>`` threads, a real market thousands of ``/listing/<slug>`` pages), so it is
  bounded by the per-site page budget of :mod:`onionlab.crawler.spidermiddlewares.sitelimits`
  instead.

Drops are counted twice: in detail (``onionlab/scope/<reason>``) and under the crawl's
common reasons ``onionlab/dropped/trap`` (over a family budget) and
``onionlab/dropped/state_changing``. Off-site redirects are another component's:
:mod:`onionlab.crawler.downloadermiddlewares.offsite`. Depends on Scrapy,
:mod:`onionlab.crawler.default_settings` and :mod:`onionlab.crawler.frontier`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from onionlab.crawler import default_settings
from onionlab.crawler.frontier import DigestSet

SESSION_KEYS = frozenset(
    {
        "sid",
        "sessid",
        "session",
        "session_id",
        "sessionid",
        "phpsessid",
        "jsessionid",
        "aspsessionid",
        "cfid",
        "cftoken",
        "zenid",
        "oscsid",
    }
)
PERMUTATION_KEYS = frozenset(
    {
        "sort",
        "sortby",
        "sort_by",
        "order",
        "orderby",
        "order_by",
        "dir",
        "direction",
        "filter",
        "view",
        "display",
        "layout",
        "mode",
    }
)
STATE_CHANGING_SEGMENTS = frozenset(
    {
        "logout",
        "log-out",
        "log_out",
        "logoff",
        "log-off",
        "signout",
        "sign-out",
        "sign_out",
        "delete",
        "destroy",
        "unsubscribe",
    }
)
STATE_CHANGING_PATHS: tuple[str, ...] = (
    r"/cart/(add|remove|delete|empty|clear|update)\b",
    r"/basket/(add|remove|delete|empty)\b",
    r"/account/(delete|close|deactivate|remove)\b",
    r"/order/(cancel|confirm|finalize|finalise|dispute)\b",
    r"/wallet/(withdraw|send|sweep)\b",
)
ACTION_KEYS = frozenset({"action", "act", "do", "op", "cmd", "task"})
STATE_CHANGING_VERBS = frozenset(
    {
        "logout",
        "signout",
        "logoff",
        "delete",
        "remove",
        "destroy",
        "add",
        "addtocart",
        "buy",
        "cancel",
        "withdraw",
        "ban",
        "vote",
        "report",
        "unsubscribe",
    }
)
DATE_QUERY_KEYS = frozenset({"year", "month", "day", "date", "week"})

TRAP_BUDGET: int = default_settings.default("ONIONLAB_SCOPE_TRAP_BUDGET")
FAMILY_BUDGET: int = default_settings.default("ONIONLAB_SCOPE_FAMILY_BUDGET")
MAX_DEPTH: int = default_settings.default("ONIONLAB_SCOPE_MAX_DEPTH")

_HEX_TOKEN = re.compile(r"[0-9a-fA-F]{16,}")
_B64_TOKEN = re.compile(r"(?=.*\d)[A-Za-z0-9_-]{24,}")
_PATH_PARAMS = re.compile(r";[^/]*")
_DIGITS = re.compile(r"\d+")
_DATE_PATH = re.compile(r"/\d{4}/(0?[1-9]|1[0-2])(/|$)|(^|/)\d{4}-(0[1-9]|1[0-2])(-\d{2})?(/|$)")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_session_param(key: str, value: str, session_keys: frozenset[str]) -> bool:
    lowered = key.lower()
    if lowered in session_keys or lowered.endswith(("sessid", "sessionid")):
        return True
    # vBulletin-style ``s=<token>``: only a token value, so ``?s=search+words`` is kept.
    return lowered == "s" and bool(_HEX_TOKEN.fullmatch(value) or _B64_TOKEN.fullmatch(value))


def canonicalize(
    url: str,
    *,
    session_keys: frozenset[str] = SESSION_KEYS,
    permutation_keys: frozenset[str] = PERMUTATION_KEYS,
) -> tuple[str, set[str]]:
    """The canonical form of ``url`` and what was removed (``{"session", "permutation"}``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    path = _PATH_PARAMS.sub("", parts.path) or "/"
    removed: set[str] = set()
    if path != (parts.path or "/"):
        removed.add("session")
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _is_session_param(key, value, session_keys):
            removed.add("session")
        elif key.lower() in permutation_keys:
            removed.add("permutation")
        else:
            kept.append((key, value))
    kept.sort(key=lambda kv: kv[0])  # stable: repeated keys keep their order
    return urlunsplit((scheme, netloc, path, urlencode(kept), "")), removed


@dataclass(frozen=True)
class StateChangingRules:
    """Which URLs change state on the server (never followed); ``extra`` are regexes."""

    extra: tuple[str, ...] = ()
    _paths: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _extra: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        paths = tuple(re.compile(p, re.IGNORECASE) for p in STATE_CHANGING_PATHS)
        object.__setattr__(self, "_paths", paths)
        extra = tuple(re.compile(p, re.IGNORECASE) for p in self.extra)
        object.__setattr__(self, "_extra", extra)

    def matches(self, url: str) -> bool:
        parts = urlsplit(url)
        path = parts.path or "/"
        segments = [s.lower() for s in path.split("/") if s]
        if any(s in STATE_CHANGING_SEGMENTS for s in segments):
            return True
        if any(p.search(path) for p in self._paths):
            return True
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            lowered = key.lower()
            if lowered in STATE_CHANGING_SEGMENTS:
                return True
            if lowered in ACTION_KEYS and value.lower().replace("_", "") in STATE_CHANGING_VERBS:
                return True
        target = path + ("?" + parts.query if parts.query else "")
        return any(p.search(target) for p in self._extra)


def state_changing(url: str, extra: Iterable[str] = ()) -> bool:
    """True when following ``url`` would change state (log out, delete, add to cart, …)."""
    return StateChangingRules(tuple(extra)).matches(url)


def family_key(url: str) -> str:
    """Host + path with digit runs as ``#`` + sorted query keys: one key per URL pattern."""
    parts = urlsplit(url)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    path = _DIGITS.sub("#", parts.path or "/")
    return f"{(parts.hostname or '').lower()}{path}" + ("?" + "&".join(keys) if keys else "")


def trap_shaped(url: str, max_depth: int = MAX_DEPTH) -> bool:
    """True for URL shapes that generate pages without end: dates, deep or looping paths."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if _DATE_PATH.search(path):
        return True
    keys = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if keys & DATE_QUERY_KEYS:
        return True
    segments = [s for s in path.split("/") if s]
    if len(segments) > max_depth:
        return True
    counts: dict[str, int] = {}
    for segment in segments:
        counts[segment] = counts.get(segment, 0) + 1
    return any(n >= 3 for n in counts.values())


class Budgets:
    """Distinct URLs admitted per URL family (per site, as the family key holds the host)."""

    def __init__(
        self,
        trap_budget: int = TRAP_BUDGET,
        family_budget: int = FAMILY_BUDGET,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.trap_budget = trap_budget
        self.family_budget = family_budget
        self.max_depth = max_depth
        # The admitted URLs (a URL names its family), compactly, and a count per family
        # that stops at its budget (onionlab.crawler.frontier).
        self.admitted = DigestSet()
        self.counts: dict[str, int] = {}

    def admit(self, url: str) -> bool:
        """True if ``url`` (canonical) is already admitted or its family has budget left."""
        if url in self.admitted:
            return True
        family = family_key(url)
        count = self.counts.get(family, 0)
        budget = self.trap_budget if trap_shaped(url, self.max_depth) else self.family_budget
        if count >= budget:
            return False
        self.counts[family] = count + 1
        self.admitted.add(url)
        return True


def _frozen(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.lower() for v in values)


class ScopeMiddleware:
    """Spider middleware: canonicalises every request a spider yields, drops those out of
    scope (state-changing, over budget) and counts each decision under ``onionlab/scope/``.

    Settings: ``ONIONLAB_SCOPE_ENABLED`` (True), ``ONIONLAB_SCOPE_SESSION_KEYS``,
    ``ONIONLAB_SCOPE_PERMUTATION_KEYS`` (extra keys, added to the built-in ones),
    ``ONIONLAB_SCOPE_DENY`` (extra regexes), ``ONIONLAB_SCOPE_TRAP_BUDGET``,
    ``ONIONLAB_SCOPE_FAMILY_BUDGET``, ``ONIONLAB_SCOPE_MAX_DEPTH``.
    """

    def __init__(self, stats: StatsCollector, settings: Any) -> None:
        self.stats = stats
        self.session_keys = SESSION_KEYS | _frozen(settings.getlist("ONIONLAB_SCOPE_SESSION_KEYS"))
        self.permutation_keys = PERMUTATION_KEYS | _frozen(
            settings.getlist("ONIONLAB_SCOPE_PERMUTATION_KEYS")
        )
        self.deny = StateChangingRules(tuple(settings.getlist("ONIONLAB_SCOPE_DENY")))
        self.budgets = Budgets(
            trap_budget=default_settings.getint(settings, "ONIONLAB_SCOPE_TRAP_BUDGET"),
            family_budget=default_settings.getint(settings, "ONIONLAB_SCOPE_FAMILY_BUDGET"),
            max_depth=default_settings.getint(settings, "ONIONLAB_SCOPE_MAX_DEPTH"),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        if not default_settings.getbool(crawler.settings, "ONIONLAB_SCOPE_ENABLED"):
            raise NotConfigured("ONIONLAB_SCOPE_ENABLED is off")
        assert crawler.stats is not None
        return cls(crawler.stats, crawler.settings)

    def scoped(self, request: Request) -> Request | None:
        """``request`` with its canonical URL, or None when it must not be followed."""
        url, removed = canonicalize(
            request.url, session_keys=self.session_keys, permutation_keys=self.permutation_keys
        )
        for reason in sorted(removed):
            self.stats.inc_value(f"onionlab/scope/{reason}")
        if self.deny.matches(url):
            self.stats.inc_value("onionlab/scope/state_changing")
            self.stats.inc_value("onionlab/dropped/state_changing")
            return None
        if not self.budgets.admit(url):
            self.stats.inc_value("onionlab/scope/budget")
            self.stats.inc_value("onionlab/dropped/trap")
            return None
        return request if url == request.url else request.replace(url=url)

    def _filter(self, item: Any) -> Any:
        if isinstance(item, Request):
            return self.scoped(item)
        return item

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        for item in result:
            kept = self._filter(item)
            if kept is not None:
                yield kept

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in result:
            kept = self._filter(item)
            if kept is not None:
                yield kept
