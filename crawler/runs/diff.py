"""What changed between two crawls: new, gone and changed listings, vendors, pages, sites.

:func:`diff_runs` compares two run directories (the older first) by what an analyst follows
across crawls: a listing by its site and listing id (price, vendor, title, stock …), a vendor
by site and handle (key, wallets), a page by URL (status, title, length), a crypto address by
type and value (the sites it was seen on), a site by host (its liveness state: an exit scam
is a site that answered in the first crawl and is gone in the second). Each run's documents
are read as every reader reads them, the last write of an id winning
(:meth:`onionlab.crawler.runs.rundir.RunDir.documents`); a damaged run raises
:class:`onionlab.crawler.runs.rundir.RunDirDamaged`. Depends on the run directory and the
Elasticsearch documents' site naming (:mod:`onionlab.crawler.sinks.elastic.documents`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from onionlab.crawler.runs.rundir import RunDir
from onionlab.crawler.sinks.elastic.documents import read_site_services
from onionlab.crawler.sinks.elastic.documents import site_names as names_of_services

CRYPTO_TYPES = ("btc", "ltc", "xmr", "eth", "trx")

Doc = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """How one kind of thing is followed across crawls."""

    name: str  # what the output calls it: "listings"
    key: Callable[[Doc], str]
    label: Callable[[Doc], str]
    fields: tuple[str, ...]


def _listing_fields(doc: Doc) -> Doc:
    extra = doc.get("extra") or {}
    return {**doc, **{f"extra.{k}": v for k, v in extra.items() if k in ("stock", "sold")}}


LISTINGS = Kind(
    "listings",
    key=lambda d: f"{d.get('site')} {d.get('listing_id')}",
    label=lambda d: f"{d.get('title')} ({d.get('site_name') or d.get('site')})",
    fields=("title", "vendor", "price_usd", "price_btc", "price_per_unit_usd", "unit",
            "weight_g", "substance", "ships_from", "extra.stock", "extra.sold"),
)  # fmt: skip
VENDORS = Kind(
    "vendors",
    key=lambda d: f"{d.get('site')} {d.get('handle')}",
    label=lambda d: f"{d.get('handle')} ({d.get('site_name') or d.get('site')})",
    fields=("pgp_fingerprint", "btc"),
)
PAGES = Kind(
    "pages",
    key=lambda d: str(d.get("url")),
    label=lambda d: str(d.get("url")),
    fields=("status", "title", "length"),
)
ADDRESSES = Kind(
    "addresses",
    key=lambda d: f"{d.get('type')} {d.get('value')}",
    label=lambda d: f"{d.get('type')} {d.get('value')}",
    fields=("sites",),
)
SITES = Kind(
    "sites",
    key=lambda d: str(d["host"]),
    label=lambda d: f"{d['host']} ({d['site_name']})" if d.get("site_name") else str(d["host"]),
    fields=("state",),
)
KINDS = (LISTINGS, VENDORS, PAGES, ADDRESSES, SITES)


@dataclass
class KindDiff:
    """New, gone and changed things of one kind, each list sorted by key."""

    new: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    changed: list[tuple[str, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    total: tuple[int, int] = (0, 0)  # how many in the first and in the second run

    def as_dict(self) -> dict[str, Any]:
        return {
            "in_first": self.total[0],
            "in_second": self.total[1],
            "new": self.new,
            "gone": self.gone,
            "changed": [
                {"what": label, "fields": {k: {"was": a, "now": b} for k, (a, b) in fields.items()}}
                for label, fields in self.changed
            ],
        }


def _value(doc: Doc, name: str) -> Any:
    value = doc.get(name)
    return sorted(value) if isinstance(value, list) else value


def _addresses(run: RunDir) -> dict[str, Doc]:
    """Every crypto address of the run once, with the sorted sites it was seen on."""
    found: dict[str, Doc] = {}
    for doc in _named(run.documents("identifier"), site_names(run)):
        if doc.get("type") not in CRYPTO_TYPES:
            continue
        key = ADDRESSES.key(doc)
        entry = found.setdefault(key, {"type": doc["type"], "value": doc.get("value"), "sites": []})
        site = doc.get("site_name") or doc.get("site")
        if site not in entry["sites"]:
            entry["sites"].append(site)
    for entry in found.values():
        entry["sites"].sort()
    return found


NO_ANSWER = "no answer"  # a site the crawl started from that never answered in it


def _sites(run: RunDir) -> dict[str, Doc]:
    """Each site's liveness state; a start URL's host that never answered is ``no answer``
    (liveness records a site once it has answered or failed after answering)."""
    hosts = dict(run.read_json(run.sites) or {})
    config = run.read_json(run.config) or {}
    for url in config.get("start_urls") or []:
        host = urlsplit(str(url)).netloc
        if host and host not in hosts:
            hosts[host] = {"state": NO_ANSWER}
    names = site_names(run)
    return {
        host: {
            "host": host,
            "state": entry.get("state"),
            "site_name": names.get(host.lower().removesuffix(".onion")),
        }
        for host, entry in hosts.items()
        if isinstance(entry, dict)
    }


def site_names(run: RunDir) -> dict[str, str]:
    """Host key (lower case, without ``.onion``) → the lab service's name, from the run's
    ``config.json``: the naming the Elasticsearch documents use."""
    return names_of_services(read_site_services(run.path))


def _named(docs: list[Doc], names: dict[str, str]) -> list[Doc]:
    for doc in docs:
        site = str(doc.get("site") or "").lower().removesuffix(".onion")
        if site in names and not doc.get("site_name"):
            doc["site_name"] = names[site]
    return docs


def _keyed(run: RunDir, kind: Kind) -> dict[str, Doc]:
    if kind is ADDRESSES:
        return _addresses(run)
    if kind is SITES:
        return _sites(run)
    source = {"listings": "listing", "vendors": "vendor", "pages": "page"}[kind.name]
    docs = _named(run.documents(source), site_names(run))
    if kind is LISTINGS:
        docs = [_listing_fields(doc) for doc in docs]
    return {kind.key(doc): doc for doc in docs}


def diff_kind(first: dict[str, Doc], second: dict[str, Doc], kind: Kind) -> KindDiff:
    """The differences of one kind between two runs' keyed documents."""
    result = KindDiff(total=(len(first), len(second)))
    for key in sorted(set(first) | set(second)):
        a, b = first.get(key), second.get(key)
        if a is None:
            result.new.append(kind.label(b))  # type: ignore[arg-type]
        elif b is None:
            result.gone.append(kind.label(a))
        else:
            fields = {
                name: (_value(a, name), _value(b, name))
                for name in kind.fields
                if _value(a, name) != _value(b, name)
            }
            if fields:
                result.changed.append((kind.label(b), fields))
    return result


def diff_runs(first: RunDir, second: RunDir) -> dict[str, KindDiff]:
    """Per kind (listings, vendors, pages, addresses, sites), what changed from ``first`` to
    ``second``."""
    return {kind.name: diff_kind(_keyed(first, kind), _keyed(second, kind), kind) for kind in KINDS}
