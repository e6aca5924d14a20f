"""Scores a crawl's run directory against the lab's ground truth: precision and recall.

Listings are matched by (site, listing id) and count as correct only when every scored
field equals the truth; per-field accuracy is reported beside. Vendors match by (site,
handle) and need the right fingerprint and addresses. Pages are matched by canonical URL.
Depends on the run directory and the truth format only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from crawler.rundir import RunDir

LISTING_FIELDS = (
    "title",
    "vendor",
    "category",
    "substance",
    "weight_g",
    "price_usd",
    "price_btc",
    "ships_from",
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


def _site_host(truth: dict[str, Any], name: str) -> str:
    for service in truth["services"]:
        if service["name"] == name:
            return service["onion"].lower()
    return name


def score_listings(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    expected = {
        (_site_host(truth, t["site"]), str(t["listing_id"])): t for t in truth.get("listings", [])
    }
    found = {(d["site"].lower(), str(d["listing_id"])): d for d in run.documents("listing")}
    field_hits = dict.fromkeys(LISTING_FIELDS, 0)
    correct = 0
    for key, doc in found.items():
        reference = expected.get(key)
        if reference is None:
            continue
        hits = [f for f in LISTING_FIELDS if str(doc.get(f)) == str(reference.get(f))]
        for name in hits:
            field_hits[name] += 1
        correct += len(hits) == len(LISTING_FIELDS)
    result = _score(len(found), correct, len(expected))
    matched = len(found.keys() & expected.keys())
    result["fields"] = {
        name: round(hits / matched, 4) if matched else 0.0 for name, hits in field_hits.items()
    }
    return result


def score_vendors(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    """Vendors match by (site, handle); correct when the PGP fingerprint and BTC set agree."""
    expected = {
        (_site_host(truth, t["site"]), t["handle"].lower()): t for t in truth.get("vendors", [])
    }
    found = {(d["site"].lower(), d["handle"].lower()): d for d in run.documents("vendor")}
    correct = sum(
        1
        for key, doc in found.items()
        if key in expected
        and doc.get("pgp_fingerprint") == expected[key]["pgp_fingerprint"]
        and sorted(doc.get("btc", [])) == sorted(expected[key]["btc"])
    )
    return _score(len(found), correct, len(expected))


def score_pages(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    expected = {canonical_url(u) for u in truth.get("pages", [])}
    fetched = {canonical_url(d["url"]) for d in run.documents("page") if d.get("status") == 200}
    return _score(len(fetched), len(fetched & expected), len(expected))


def evaluate(run: RunDir, truth: dict[str, Any]) -> dict[str, Any]:
    """Precision/recall per scored kind (``listings``, ``vendors``, ``pages``)."""
    return {
        "listings": score_listings(run, truth),
        "vendors": score_vendors(run, truth),
        "pages": score_pages(run, truth),
    }
