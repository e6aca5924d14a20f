"""Run-directory documents → Elasticsearch documents (the one place the two shapes differ).

Adds ``@timestamp``, ``run_id``, ``site_name`` (the lab service a host belongs to, from the
run's ``config.json`` ``site_services``; a vendor identity's lists its members' sites), a
listing's ``first_seen``/``last_seen`` and ECS-style objects (``url.*``, ``http.response.*``,
``geo.*``); everything else is kept as the run directory has it, so the mapping in
``mappings/*.json`` is the run-dir field list plus these. docs/elasticsearch.md has the
table. Depends on :mod:`onionlab.crawler.items`, :mod:`onionlab.crawler.sinks.elastic.geo`
and the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from onionlab.crawler.items import ENTITY_TYPES
from onionlab.crawler.sinks.elastic.geo import listing_geo


def _host_key(host: str) -> str:
    """A host as :class:`RunInfo` looks it up: lower case, without ``.onion``."""
    return host.strip().lower().removesuffix(".onion")


def site_names(services: Mapping[str, Iterable[str] | str] | None) -> dict[str, str]:
    """``{host key: service name}`` from a crawl's ``site_services`` (name → hosts).

    The hosts of a service are its main address and its mirrors; all get the service's
    name. A host listed under two services keeps the first. Hosts may be given with or
    without ``.onion``, in any case; a single host instead of a list is accepted too.
    """
    names: dict[str, str] = {}
    for name, hosts in (services or {}).items():
        for host in [hosts] if isinstance(hosts, str) else hosts:
            if isinstance(host, str) and host.strip():
                names.setdefault(_host_key(host), str(name))
    return names


def read_site_services(run_dir: Path) -> dict[str, Any]:
    """The ``site_services`` of the run's ``config.json`` (``{}`` without one)."""
    config = run_dir / "config.json"
    if not config.is_file():
        return {}
    services = json.loads(config.read_text(encoding="utf-8")).get("site_services")
    return dict(services) if isinstance(services, Mapping) else {}


@dataclass(frozen=True)
class RunInfo:
    """What every document of one crawl shares: the run's id, its start, its sites' names.

    ``names`` maps host keys (see :func:`site_names`) to lab service names; a host it does
    not know is named by itself.
    """

    run_id: str
    started_at: str
    names: Mapping[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def of_run_dir(cls, path: Path) -> RunInfo:
        """The run's id (its directory's name), start (``stats.json``, else the items'
        mtime) and site names (``config.json``)."""
        started = None
        stats = path / "stats.json"
        if stats.is_file():
            started = json.loads(stats.read_text(encoding="utf-8")).get("start_time")
        if not started:
            items = path / "items.ndjson"
            mtime = (items if items.exists() else path).stat().st_mtime
            started = datetime.fromtimestamp(mtime, UTC).isoformat()
        return cls(path.name, iso_time(started), site_names(read_site_services(path)))

    def site_name(self, host: str) -> str:
        """The lab service name of ``host``, else the host itself."""
        return self.names.get(_host_key(host), host)


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


def _page(doc: dict[str, Any], run: RunInfo) -> None:
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


def _listing(doc: dict[str, Any], run: RunInfo) -> None:
    geo = listing_geo(doc.get("extra") or {}, doc.get("ships_from"))
    if geo:
        doc["geo"] = geo
    # Seen in this crawl; onionlab.crawler.sinks.elastic.history keeps the earliest first_seen and
    # the latest last_seen of a listing indexed before (its id is stable across crawls).
    doc["first_seen"] = doc["last_seen"] = doc["@timestamp"]


def _identifier(doc: dict[str, Any], run: RunInfo) -> None:
    if doc.get("type") in ENTITY_TYPES and doc.get("value"):
        doc["identifier"] = {doc["type"]: doc["value"]}


def _vendor_identity(doc: dict[str, Any], run: RunInfo) -> None:
    members = [member for member in doc.get("members") or [] if isinstance(member, dict)]
    for member in members:
        if member.get("site"):
            member["site_name"] = run.site_name(member["site"])
    doc["member_count"] = len(members)
    # Sites are lab services when known: a vendor on a market's main address and on its
    # mirror is on one site. The identity is on every site of its members: a dashboard's
    # site control (a filter on site_name) keeps it when one of them is chosen.
    sites = sorted({m["site_name"] for m in members if m.get("site_name")})
    doc["site_name"] = sites
    doc["site_count"] = len(sites)


_BY_KIND: dict[str, Callable[[dict[str, Any], RunInfo], None]] = {
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
    if isinstance(es_doc.get("site"), str) and es_doc["site"]:
        es_doc["site_name"] = run.site_name(es_doc["site"])
    if isinstance(es_doc.get("url"), str):
        es_doc["url"] = url_fields(es_doc["url"])
    transform = _BY_KIND.get(es_doc.get("kind", ""))
    if transform is not None:
        transform(es_doc, run)
    return es_doc
