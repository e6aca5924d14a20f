"""Run-directory documents → Elasticsearch documents (the one place the two shapes differ).

Adds ``@timestamp``, ``run_id`` and ECS-style objects (``url.*``, ``http.response.*``,
``geo.*``); everything else is kept as the run directory has it, so the mapping in
``mappings/*.json`` is the run-dir field list plus these. docs/elasticsearch.md has the table.
Depends on :mod:`crawler.items`, :mod:`crawler.sinks.elastic.geo` and the standard library.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.items import ENTITY_TYPES
from crawler.sinks.elastic.geo import listing_geo


@dataclass(frozen=True)
class RunInfo:
    """What every document of one crawl shares: the run's id and when it started."""

    run_id: str
    started_at: str

    @classmethod
    def of_run_dir(cls, path: Path) -> RunInfo:
        """The run's id (its directory's name) and start (``stats.json``, else the items' mtime)."""
        started = None
        stats = path / "stats.json"
        if stats.is_file():
            started = json.loads(stats.read_text(encoding="utf-8")).get("start_time")
        if not started:
            items = path / "items.ndjson"
            mtime = (items if items.exists() else path).stat().st_mtime
            started = datetime.fromtimestamp(mtime, UTC).isoformat()
        return cls(path.name, iso_time(started))


def iso_time(value: Any) -> str:
    """A time as ISO 8601 (``stats.json`` writes ``2026-11-22 15:31:36.2+00:00``)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def url_fields(url: str) -> dict[str, str]:
    """ECS ``url.original``, ``url.domain`` and ``url.path`` of ``url``."""
    parts = urlsplit(url)
    fields = {"original": url, "domain": (parts.hostname or "").lower(), "path": parts.path or "/"}
    return {key: value for key, value in fields.items() if value}


def _page(doc: dict[str, Any]) -> None:
    response: dict[str, Any] = {}
    if "status" in doc:
        response["status_code"] = doc.pop("status")
    content_type = doc.pop("content_type", "")
    if content_type:
        response["mime_type"] = content_type.split(";")[0].strip().lower()
    if "length" in doc:
        response["body"] = {"bytes": doc.pop("length")}
    if response:
        doc["http"] = {"response": response}


def _listing(doc: dict[str, Any]) -> None:
    geo = listing_geo(doc.get("extra") or {}, doc.get("ships_from"))
    if geo:
        doc["geo"] = geo


def _identifier(doc: dict[str, Any]) -> None:
    if doc.get("type") in ENTITY_TYPES and doc.get("value"):
        doc["identifier"] = {doc["type"]: doc["value"]}


def _vendor_identity(doc: dict[str, Any]) -> None:
    members = doc.get("members") or []
    doc["member_count"] = len(members)
    doc["site_count"] = len({member.get("site") for member in members if member.get("site")})


_BY_KIND = {
    "page": _page,
    "listing": _listing,
    "identifier": _identifier,
    "vendor_identity": _vendor_identity,
}


def to_es(doc: dict[str, Any], run: RunInfo) -> dict[str, Any]:
    """The Elasticsearch document for one run-directory document (which is left unchanged)."""
    es_doc = json.loads(json.dumps(doc))  # a deep copy of plain JSON data
    timestamp = es_doc.pop("fetched_at", "") or run.started_at
    es_doc["@timestamp"] = iso_time(timestamp)
    es_doc["run_id"] = run.run_id
    if isinstance(es_doc.get("url"), str):
        es_doc["url"] = url_fields(es_doc["url"])
    transform = _BY_KIND.get(es_doc.get("kind", ""))
    if transform is not None:
        transform(es_doc)
    return es_doc
