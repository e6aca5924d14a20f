"""Per-site crawl profiles: which plugins work on which site, and each site's limits.

An instructor's TOML file (``onionlab crawl --sites FILE``; an annotated example for the
lab is ``examples/lab-sites.toml``) with a ``[defaults]`` table and one ``[sites.<key>]``
table per site. A key is an onion host, or the name of a service of the running lab
(``market``, ``bazaar``, …: it then covers the service's address and its mirrors)::

    [defaults]
    plugins = ["*"]              # which plugins extract items ("*" = all, "-name" = not that one)
    gate = ["*"]                 # which plugins may pass queues, CAPTCHAs and logins
    depth = 0                    # link depth from the home page (0 = no limit)
    max_pages = 10000            # pages requested per site (0 = no limit; default 50,000)
    concurrency = 8              # requests in flight per site (1 … 1024)
    delay = 0.0                  # seconds between requests to the site (0 … 600)
    allow = []                   # regexes on path?query; if any, a URL must match one
    deny = ["^/help/"]           # regexes on path?query; a match is never requested

    [sites.market]
    plugins = ["market_listings", "crypto_addresses", "pgp_keys", "contacts"]
    gate = ["lab_gate"]
    max_pages = 500

A site table overrides the defaults key by key; anything it leaves out comes from
``[defaults]``, and anything that leaves out comes from the built-in defaults above (with
``concurrency`` from the crawl's own setting, and ``max_pages`` from the crawl's per-site
budget ``ONIONLAB_SITE_MAX_PAGES``, 50,000: see
:mod:`onionlab.crawler.spidermiddlewares.sitelimits`). ``[defaults]`` ``concurrency`` and ``delay``
apply to every site, those without a table of their own too (:meth:`SiteProfiles.crawl_settings`:
Scrapy's ``CONCURRENT_REQUESTS_PER_DOMAIN`` and ``DOWNLOAD_DELAY``, as ``DOWNLOAD_SLOTS`` has no
wildcard). Mistakes (an unknown key, a plugin that is not installed, a bad regex, a site the lab
does not know, a number that is not finite or out of range, e.g. ``delay = inf``, which would stall
the site for ever) are reported with the file and the key, before the crawl starts. Depends on the
standard library and :mod:`onionlab.crawler.config`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from onionlab.crawler import default_settings
from onionlab.crawler.config import ConfigError, read_toml

ALL = "*"
KEYS = ("plugins", "gate", "depth", "max_pages", "concurrency", "delay", "allow", "deny")
# the crawl's per-site budget (onionlab.crawler.spidermiddlewares.sitelimits)
DEFAULT_SITE_MAX_PAGES: int = default_settings.default("ONIONLAB_SITE_MAX_PAGES")
MAX_DELAY = 600.0  # seconds: a longer pause per request is a mistake, not politeness
MAX_CONCURRENCY = 1024  # requests in flight per site: more is a typo (Tor: 16 is plenty)
LIMITS: dict[str, float] = {
    "delay": MAX_DELAY,
    "concurrency": MAX_CONCURRENCY,
    "depth": 1_000_000,
    "max_pages": 1_000_000_000,
}


class SiteProfileError(ConfigError):
    """A profile file is wrong; the message names the file, the table and the key."""


@dataclass(frozen=True)
class PluginChoice:
    """Which plugins a role allows: ``["*"]``, a list of names, or ``["*", "-name", …]``."""

    names: tuple[str, ...] = (ALL,)

    def allows(self, plugin: str) -> bool:
        if f"-{plugin}" in self.names:
            return False
        return ALL in self.names or plugin in self.names

    def describe(self) -> str:
        return ", ".join(self.names) if self.names else "(none)"


@dataclass(frozen=True)
class SiteProfile:
    """The effective profile of one site (or of every site without its own table)."""

    name: str = "defaults"
    plugins: PluginChoice = field(default_factory=PluginChoice)
    gate: PluginChoice = field(default_factory=PluginChoice)
    depth: int = 0
    max_pages: int | None = None  # None = the crawl's ONIONLAB_SITE_MAX_PAGES; 0 = no limit
    concurrency: int = 0  # 0 = the crawl's CONCURRENT_REQUESTS_PER_DOMAIN
    delay: float = 0.0
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()

    def admits_path(self, path_and_query: str) -> str | None:
        """``None`` when a URL with this path (and query) may be requested, else the reason."""
        if any(p.search(path_and_query) for p in self.deny):
            return "deny"
        if self.allow and not any(p.search(path_and_query) for p in self.allow):
            return "not_allowed"
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plugins": list(self.plugins.names),
            "gate": list(self.gate.names),
            "depth": self.depth,
            "max_pages": DEFAULT_SITE_MAX_PAGES if self.max_pages is None else self.max_pages,
            "concurrency": self.concurrency,
            "delay": self.delay,
            "allow": [p.pattern for p in self.allow],
            "deny": [p.pattern for p in self.deny],
        }


@dataclass(frozen=True)
class SiteProfiles:
    """Every site's profile, looked up by onion host."""

    defaults: SiteProfile = field(default_factory=SiteProfile)
    by_host: Mapping[str, SiteProfile] = field(default_factory=dict)
    source: str = ""

    def for_host(self, host: str | None) -> SiteProfile:
        name = (host or "").lower().partition(":")[0]
        return self.by_host.get(name, self.defaults)

    def download_slots(self, default_concurrency: int) -> dict[str, dict[str, Any]]:
        """Scrapy's ``DOWNLOAD_SLOTS`` for the sites with their own concurrency or delay."""
        slots: dict[str, dict[str, Any]] = {}
        for host, profile in sorted(self.by_host.items()):
            if profile.concurrency or profile.delay:
                slots[host] = {
                    "concurrency": profile.concurrency or default_concurrency,
                    "delay": profile.delay,
                    "jitter": 0.0,
                }
        return slots

    def crawl_settings(self) -> dict[str, Any]:
        """Scrapy settings for every site from ``[defaults]``: its concurrency and delay.

        ``DOWNLOAD_SLOTS`` only names hosts; a site without a table of its own gets the
        defaults through ``CONCURRENT_REQUESTS_PER_DOMAIN`` and ``DOWNLOAD_DELAY`` (with no
        random jitter: ``delay`` is a floor, as in the sites' slots).
        """
        settings: dict[str, Any] = {}
        if self.defaults.concurrency:
            settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = self.defaults.concurrency
        if self.defaults.delay:
            settings["DOWNLOAD_DELAY"] = self.defaults.delay
            settings["DOWNLOAD_DELAY_JITTER"] = 0.0
        return settings


def _where(source: str, table: str, key: str = "") -> str:
    return f"{source}: [{table}]" + (f" {key}" if key else "")


def _choice(value: Any, where: str, known_plugins: Iterable[str] | None) -> PluginChoice:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SiteProfileError(f'{where}: expected a list of plugin names, e.g. ["*"]')
    if known_plugins is not None:
        known = set(known_plugins)
        unknown = [v for v in value if v != ALL and v.removeprefix("-") not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0].removeprefix("-"), sorted(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SiteProfileError(
                f"{where}: no plugin named {', '.join(map(repr, unknown))}; {hint}"
                f"installed: {', '.join(sorted(known))} (see `onionlab plugins list`; a "
                "plugin in a directory needs ONIONLAB_PLUGINS_DIR)"
            )
    return PluginChoice(tuple(value))


def _patterns(value: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SiteProfileError(f'{where}: expected a list of regular expressions, e.g. ["^/help/"]')
    compiled = []
    for pattern in value:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise SiteProfileError(f"{where}: bad regular expression {pattern!r}: {exc}") from exc
    return tuple(compiled)


def _number(value: Any, where: str, kind: type, limit: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SiteProfileError(f"{where}: expected a number ≥ 0, got {value!r}")
    if not math.isfinite(value):  # inf, nan: a delay of inf stalls the site for ever
        raise SiteProfileError(f"{where}: expected a finite number, got {value!r}")
    if value < 0:
        raise SiteProfileError(f"{where}: expected a number ≥ 0, got {value!r}")
    if value > limit:
        raise SiteProfileError(f"{where}: {value!r} is too large (at most {limit:g})")
    if kind is int and not float(value).is_integer():
        raise SiteProfileError(f"{where}: expected a whole number, got {value!r}")
    return kind(value)


def _apply(
    base: SiteProfile,
    name: str,
    table: Any,
    source: str,
    known_plugins: Iterable[str] | None,
) -> SiteProfile:
    if not isinstance(table, dict):
        raise SiteProfileError(f"{_where(source, name)}: expected a table of settings")
    unknown = sorted(set(table) - set(KEYS) - {"hosts"})
    if unknown:
        close = difflib.get_close_matches(unknown[0], KEYS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SiteProfileError(
            f"{_where(source, name, unknown[0])}: unknown setting; {hint}known: {', '.join(KEYS)}"
        )
    changes: dict[str, Any] = {"name": name}
    for key, value in table.items():
        where = _where(source, name, key)
        if key in ("plugins", "gate"):
            changes[key] = _choice(value, where, known_plugins)
        elif key in ("allow", "deny"):
            changes[key] = _patterns(value, where)
        elif key == "delay":
            changes[key] = _number(value, where, float, LIMITS[key])
        elif key != "hosts":
            changes[key] = _number(value, where, int, LIMITS[key])
    return replace(base, **changes)


def _hosts_of(
    key: str, table: dict[str, Any], source: str, services: Mapping[str, list[str]]
) -> list[str]:
    hosts = table.get("hosts")
    if hosts is not None:
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise SiteProfileError(f"{_where(source, key, 'hosts')}: expected a list of hosts")
        return [h.lower() for h in hosts]
    if key.lower().endswith(".onion"):
        return [key.lower()]
    if key in services:
        return list(services[key])
    known = ", ".join(sorted(services)) or "none: no lab is running"
    raise SiteProfileError(
        f"{_where(source, 'sites.' + key)}: not an onion host and not a service of the "
        f"running lab (lab services: {known}); give `hosts = [...]` or use the onion host"
    )


def parse_profiles(
    data: Mapping[str, Any],
    *,
    source: str = "<profiles>",
    services: Mapping[str, list[str]] | None = None,
    known_plugins: Iterable[str] | None = None,
) -> SiteProfiles:
    """Build :class:`SiteProfiles` from parsed TOML (see the module docstring)."""
    services = services or {}
    known = list(known_plugins) if known_plugins is not None else None
    unknown = sorted(set(data) - {"defaults", "sites"})
    if unknown:
        raise SiteProfileError(
            f"{source}: unknown table [{unknown[0]}] (expected [defaults] and [sites.<site>])"
        )
    defaults = _apply(SiteProfile(), "defaults", data.get("defaults", {}), source, known)
    if "hosts" in data.get("defaults", {}):
        raise SiteProfileError(f"{_where(source, 'defaults', 'hosts')}: only sites have hosts")
    sites = data.get("sites", {})
    if not isinstance(sites, dict):
        raise SiteProfileError(f"{source}: [sites] must hold one table per site")
    by_host: dict[str, SiteProfile] = {}
    for key, table in sites.items():
        profile = _apply(defaults, key, table, source, known)
        for host in _hosts_of(key, table, source, services):
            if host in by_host:
                raise SiteProfileError(
                    f"{_where(source, 'sites.' + key)}: {host} already has the profile "
                    f"[sites.{by_host[host].name}]"
                )
            by_host[host] = profile
    return SiteProfiles(defaults=defaults, by_host=by_host, source=source)


def load_profiles(
    path: Path,
    *,
    services: Mapping[str, list[str]] | None = None,
    known_plugins: Iterable[str] | None = None,
) -> SiteProfiles:
    """Read and check a profile file; :class:`SiteProfileError` says what is wrong."""
    try:  # missing, unreadable, a directory, not UTF-8, not TOML: one line each
        data = read_toml(Path(path), "site profile file")
    except ConfigError as exc:
        raise SiteProfileError(str(exc)) from None
    return parse_profiles(data, source=str(path), services=services, known_plugins=known_plugins)


_loaded: dict[int, SiteProfiles] = {}


def from_settings(settings: Any) -> SiteProfiles:
    """The crawl's profiles, from Scrapy settings ``ONIONLAB_SITE_PROFILES`` (a file) and
    ``ONIONLAB_SITE_SERVICES`` (lab service name → hosts); loaded once per settings object.
    Without a file every site gets the defaults (every plugin, no extra limits)."""
    key = id(settings)
    if key not in _loaded:
        path = settings.get("ONIONLAB_SITE_PROFILES")
        services = settings.getdict("ONIONLAB_SITE_SERVICES")
        _loaded[key] = load_profiles(Path(path), services=services) if path else SiteProfiles()
    return _loaded[key]
