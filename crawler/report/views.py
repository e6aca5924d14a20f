"""The analyst's views of one run, as plain data: what the report draws and tabulates.

Computed from the run directory alone (``items.ndjson``, ``sites.json``, ``summary.json``,
``config.json``), each document's last write winning, so a report made
on another machine, after the lab is gone, says the same. Depends on the run directory and
the standard library.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from statistics import median
from typing import Any

from onionlab.crawler.runs.diff import CRYPTO_TYPES, site_names
from onionlab.crawler.runs.rundir import RunDir

CONTACT_TYPES = ("email", "jabber", "telegram", "session", "pgp_fingerprint")


@dataclass
class Views:
    """Everything the report shows, ready to draw."""

    run: str
    summary: dict[str, Any]
    listings_per_site: dict[str, int]
    price_per_gram: dict[str, dict[str, float]]  # substance -> site -> median USD per gram
    price_per_gram_by_city: dict[str, dict[str, float]]  # substance -> city -> median
    cheapest: list[dict[str, Any]]  # per substance: where a gram is cheapest
    identities: list[dict[str, Any]]  # vendors linked across sites
    reused: list[dict[str, Any]]  # addresses and contacts seen on several sites
    pages_per_site: dict[str, int]
    errors_by_kind: dict[str, int]
    site_states: dict[str, str]
    notes: list[str] = field(default_factory=list)


def _number(value: Any) -> float | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return float(number) if number.is_finite() and number > 0 else None


def _name(doc: dict[str, Any], names: dict[str, str]) -> str:
    site = str(doc.get("site") or "").lower().removesuffix(".onion")
    return names.get(site) or site[:16] + "…"


def build(run: RunDir) -> Views:
    """The report's views of ``run`` (RunDirDamaged if a file is damaged)."""
    names = site_names(run)
    listings = run.documents("listing")
    per_gram: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_city: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for doc in listings:
        price = _number(doc.get("price_per_unit_usd"))
        if price is None or doc.get("unit") != "g" or not doc.get("substance"):
            continue
        per_gram[doc["substance"]][_name(doc, names)].append(price)
        city = (doc.get("extra") or {}).get("city")
        if isinstance(city, str) and city:
            by_city[doc["substance"]][city].append(price)
    medians = {s: {k: median(v) for k, v in sites.items()} for s, sites in per_gram.items()}
    cheapest = [
        {"substance": substance, "site": min(sites, key=sites.__getitem__),
         "usd_per_gram": min(sites.values()), "markets": len(sites)}
        for substance, sites in sorted(medians.items())
    ]  # fmt: skip
    pages = run.documents("page")
    states = {
        names.get(host.lower().removesuffix(".onion"), host): str(entry.get("state"))
        for host, entry in (run.read_json(run.sites) or {}).items()
        if isinstance(entry, dict)
    }
    summary = run.read_json(run.summary) or {}
    return Views(
        run=run.path.name,
        summary=summary,
        listings_per_site=dict(Counter(_name(d, names) for d in listings).most_common()),
        price_per_gram=medians,
        price_per_gram_by_city={
            s: {c: median(v) for c, v in cities.items()} for s, cities in by_city.items()
        },
        cheapest=cheapest,
        identities=_identities(run, names),
        reused=_reused(run, names),
        pages_per_site=dict(Counter(_name(d, names) for d in pages).most_common()),
        errors_by_kind=dict(summary.get("errors_by_kind") or {}),
        site_states=dict(sorted(states.items())),
    )


def _identities(run: RunDir, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for doc in run.documents("vendor_identity"):
        members = doc.get("members") or []
        sites = sorted({_name(m, names) for m in members if isinstance(m, dict)})
        if len(sites) < 2:
            continue
        rows.append(
            {
                "handles": ", ".join(doc.get("handles") or []),
                "sites": ", ".join(sites),
                "pgp": ", ".join(fp[-16:] for fp in doc.get("pgp_fingerprints") or []),
                "wallets": len(doc.get("wallets") or []),
                "contacts": ", ".join(
                    f"{c.get('type')}: {c.get('value')}"
                    for c in doc.get("contacts") or []
                    if isinstance(c, dict)
                ),
            }
        )
    return sorted(rows, key=lambda row: (-row["sites"].count(",") - 1, row["handles"]))


def _reused(run: RunDir, names: dict[str, str]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for doc in run.documents("identifier"):
        kind = doc.get("type")
        if kind in CRYPTO_TYPES or kind in CONTACT_TYPES:
            seen[(str(kind), str(doc.get("value")))].add(_name(doc, names))
    rows = [
        {"type": kind, "value": value, "sites": ", ".join(sorted(sites)), "count": len(sites)}
        for (kind, value), sites in seen.items()
        if len(sites) >= 2
    ]
    return sorted(rows, key=lambda row: (-row["count"], row["type"], row["value"]))
