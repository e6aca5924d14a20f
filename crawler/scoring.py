"""Scores a crawl's run directory against the lab's ground truth: precision and recall.

Listings are matched by (site, listing id) and count as correct only when every scored
field the truth gives for them is equal (sites show different fields; extras such as
quantity tiers are not scored); per-field accuracy is reported beside. Vendors match by
(site, handle) and need the right fingerprint and addresses.
Pages are matched by canonical URL. Entities (identifiers) are scored per type, per
occurrence: (type, value, page) against the truth's identifiers and the pages they are on;
a decoy (a look-alike failing its checksum) reported anywhere is counted as accepted.
Substance entities are scored on listing pages against the listing's canonical substance.
Vendor identities are scored over pairs of vendor profiles linked to the same person.
Every kind is also broken down per site, so a site without an extractor shows up as such.
A document lacking a field the scoring reads (or of the wrong type) is
:class:`onionlab.crawler.runs.rundir.RunDirDamaged` naming its line, never a traceback.
Depends on the run directory and the truth format.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from onionlab.crawler.runs.rundir import RunDir, RunDirDamaged, bulk_pairs

# The fields scoring reads from each kind of document, with the types they must have.
_SCORED_DOC_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "listing": {"site": (str,), "listing_id": (str, int)},
    "vendor": {"site": (str,), "handle": (str,)},
    "page": {"url": (str,)},
    "identifier": {"type": (str,), "value": (str,), "url": (str,)},
    "vendor_identity": {"members": (list,)},
}


def _documents(run: RunDir, kind: str) -> list[dict[str, Any]]:
    """Every document of ``kind`` (the last write of each id winning), each checked to have
    the fields scoring reads."""
    required = _SCORED_DOC_FIELDS.get(kind, {})
    by_id: dict[str, dict[str, Any]] = {}
    for line, action, doc in bulk_pairs(run.items):
        if doc.get("kind") != kind:
            continue
        for name, types in required.items():
            if not isinstance(doc.get(name), types) or isinstance(doc.get(name), bool):
                raise RunDirDamaged(
                    run.items, f"a {kind} document whose {name!r} is missing or wrong", line + 1
                )
        if kind == "listing" and not isinstance(doc.get("extra") or {}, dict):
            raise RunDirDamaged(run.items, "a listing whose 'extra' is not an object", line + 1)
        if kind == "vendor" and not isinstance(doc.get("btc", []), list):
            raise RunDirDamaged(run.items, "a vendor whose 'btc' is not a list", line + 1)
        if kind == "vendor_identity" and not all(
            isinstance(m, dict)
            and isinstance(m.get("site"), str)
            and isinstance(m.get("handle"), str)
            for m in doc["members"]
        ):
            raise RunDirDamaged(run.items, "a vendor identity with a malformed member", line + 1)
        by_id[next(iter(action.values()))["_id"]] = doc
    return list(by_id.values())


# The listing fields analysts pivot on; a truth listing is scored on those it has.
SCORED_FIELDS = (
    "title",
    "vendor",
    "shop",
    "category",
    "substance",
    "weight_g",
    "price_usd",
    "price_btc",
    "ships_from",
    "city",
    "district",
    "stash_type",
    "currency",
    "price_local",
)


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, fragment dropped, empty path as ``/``."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def _score(found: int, correct: int, expected: int) -> dict[str, Any]:
    return {
        "precision": round(correct / found, 4) if found else (1.0 if not expected else 0.0),
        "recall": round(correct / expected, 4) if expected else 1.0,
        "found": found,
        "correct": correct,
        "expected": expected,
    }


class _Tally:
    """Counts found/correct/expected overall and per site."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, site: str, *, found: int = 0, correct: int = 0, expected: int = 0) -> None:
        for key in ("", site):
            self.counts[key][0] += found
            self.counts[key][1] += correct
            self.counts[key][2] += expected

    def result(self) -> dict[str, Any]:
        overall = _score(*self.counts[""])
        overall["by_site"] = {
            site: _score(*counts) for site, counts in sorted(self.counts.items()) if site
        }
        return overall


def _hosts(truth: dict[str, Any]) -> dict[str, str]:
    """Onion host (primary and mirrors) → service name."""
    hosts = {}
    for service in truth["services"]:
        for onion in (service["onion"], *service.get("mirrors", [])):
            hosts[onion.lower()] = service["name"]
    return hosts


def _comparable(value: Any) -> Any:
    return sorted(map(str, value)) if isinstance(value, list) else str(value)


def score_listings(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    hosts = _hosts(truth)
    expected = {(t["site"], str(t["listing_id"])): t for t in truth.get("listings", [])}
    found = {
        (hosts.get(d["site"].lower(), d["site"].lower()), str(d["listing_id"])): d
        for d in _documents(run, "listing")
    }
    tally = _Tally()
    field_hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key in expected:
        tally.add(key[0], expected=1)
    for key, doc in found.items():
        reference = expected.get(key)
        right = False
        if reference is not None:
            fields = [f for f in SCORED_FIELDS if f in reference]
            extra = doc.get("extra") or {}
            hits = [
                f
                for f in fields
                if _comparable(doc.get(f, extra.get(f))) == _comparable(reference[f])
            ]
            for name in fields:
                field_hits[name][0] += name in hits
                field_hits[name][1] += 1
            right = len(hits) == len(fields)
        tally.add(key[0], found=1, correct=int(right))
    result = tally.result()
    result["fields"] = {
        name: round(hit / total, 4) for name, (hit, total) in sorted(field_hits.items())
    }
    return result


def score_vendors(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    """Vendors match by (site, handle); correct when the PGP fingerprint and BTC set agree."""
    hosts = _hosts(truth)
    expected = {(t["site"], t["handle"].lower()): t for t in truth.get("vendors", [])}
    found = {
        (hosts.get(d["site"].lower(), d["site"].lower()), d["handle"].lower()): d
        for d in _documents(run, "vendor")
    }
    tally = _Tally()
    for key in expected:
        tally.add(key[0], expected=1)
    for key, doc in found.items():
        reference = expected.get(key)
        right = (
            reference is not None
            and doc.get("pgp_fingerprint") == reference.get("pgp_fingerprint")
            and sorted(doc.get("btc", [])) == sorted(reference.get("btc", []))
        )
        tally.add(key[0], found=1, correct=int(right))
    return tally.result()


def score_pages(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    hosts = _hosts(truth)
    expected = {canonical_url(u) for u in truth.get("pages", [])}
    fetched = {canonical_url(d["url"]) for d in _documents(run, "page") if d.get("status") == 200}
    tally = _Tally()
    for url in expected:
        tally.add(hosts.get(urlsplit(url).hostname or "", "?"), expected=1)
    for url in fetched:
        site = hosts.get(urlsplit(url).hostname or "", urlsplit(url).hostname or "?")
        tally.add(site, found=1, correct=int(url in expected))
    return tally.result()


def _truth_occurrences(truth: dict[str, Any], key: str) -> dict[str, set[tuple[str, str]]]:
    """Identifier type → {(value, canonical page URL)} of truth's ``identifiers`` or ``decoys``."""
    occurrences: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for entry in truth.get(key, []):
        for page in entry.get("pages", []):
            occurrences[entry["type"]].add((entry["value"], canonical_url(page)))
    return occurrences


def score_entities(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    """Per entity type: precision/recall of (value, page) occurrences, and decoys accepted."""
    hosts = _hosts(truth)
    expected = _truth_occurrences(truth, "identifiers")
    decoys = {(d["type"], d["value"]) for d in truth.get("decoys", [])}
    listing_pages = {canonical_url(t["url"]): t["substance"] for t in truth.get("listings", [])}
    expected["substance"] = {(name, url) for url, name in listing_pages.items() if name}
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    accepted: dict[str, set[str]] = defaultdict(set)
    for doc in _documents(run, "identifier"):
        kind, value, url = doc.get("type", ""), doc.get("value", ""), canonical_url(doc["url"])
        if (kind, value) in decoys:
            accepted[kind].add(value)
        if kind == "substance" and url not in listing_pages:
            continue  # only listing pages say for sure which substance they are about
        found[kind].add((value, url))
    scores: dict[str, Any] = {}
    for kind in sorted(set(expected) | set(found)):
        tally = _Tally()
        for _value, url in expected[kind]:
            tally.add(hosts.get(urlsplit(url).hostname or "", "?"), expected=1)
        for value, url in found[kind]:
            site = hosts.get(urlsplit(url).hostname or "", urlsplit(url).hostname or "?")
            tally.add(site, found=1, correct=int((value, url) in expected[kind]))
        scores[kind] = tally.result()
        scores[kind]["decoys_accepted"] = len(accepted.get(kind, ()))
    return scores


def _pairs(groups: list[list[tuple[str, str]]]) -> set[frozenset[tuple[str, str]]]:
    return {frozenset((a, b)) for group in groups for a in group for b in group if a < b}


def score_identities(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    """Vendor linking: precision/recall over pairs of (site, handle) in the same identity."""
    hosts = _hosts(truth)
    by_identity: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for vendor in truth.get("vendors", []):
        if vendor.get("identity"):
            by_identity[vendor["identity"]].append((vendor["site"], vendor["handle"].lower()))
    expected = _pairs(list(by_identity.values()))
    found_groups = [
        [
            (hosts.get(m["site"].lower(), m["site"].lower()), m["handle"].lower())
            for m in doc.get("members", [])
        ]
        for doc in _documents(run, "vendor_identity")
    ]
    found = _pairs(found_groups)
    result = _score(len(found), len(found & expected), len(expected))
    result["identities"] = {"found": len(found_groups), "expected": len(by_identity)}
    return result


def evaluate(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    """Precision/recall per scored kind (``listings``, ``vendors``, ``pages``, ``entities``
    per type, vendor ``identities``), with per-site breakdowns under ``by_site``."""
    return {
        "listings": score_listings(run, truth),
        "vendors": score_vendors(run, truth),
        "pages": score_pages(run, truth),
        "entities": score_entities(run, truth),
        "identities": score_identities(run, truth),
    }
