"""Applies the index design to a cluster (``onionlab index setup``) and reports its state.

Idempotent: a template whose ``_meta.onionlab_hash`` matches is left alone; an alias that
exists is kept (its write index gets any new fields). Never creates an index other than
``<alias>-000001`` behind a missing alias. Depends on ``elasticsearch`` and
:mod:`onionlab.crawler.sinks.elastic.templates`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
    NotFoundError,
)

from onionlab.crawler.sinks.elastic.client import START_HINT
from onionlab.crawler.sinks.elastic.templates import (
    HASH_KEY,
    INDICES,
    FieldConflict,
    IndexSpec,
    component_templates,
    composed_mapping,
    index_templates,
)

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


class ElasticUnavailable(RuntimeError):
    """The cluster cannot be reached or refuses our credentials; the message says what to do."""


def check_reachable(client: Elasticsearch, url: str) -> dict[str, Any]:
    """The cluster's ``GET /`` answer, or :class:`ElasticUnavailable` with a one-line reason.

    A node without the root endpoint (Elastic's integration-test distribution has no
    ``rest-root`` module, and a proxy may block ``/``: HTTP 404 or 405) is asked its
    version by ``GET /_nodes/_local`` instead, and answers ``{"version": {"number": …}}``."""
    try:
        try:
            return dict(client.info())
        except ApiError as exc:
            if exc.meta.status not in (404, 405):
                raise
            nodes = client.nodes.info(node_id="_local", filter_path="nodes.*.version")
            versions = [node.get("version") for node in dict(nodes).get("nodes", {}).values()]
            return {"version": {"number": versions[0] if versions else None}}
    except (TransportConnectionError, ConnectionTimeout) as exc:
        raise ElasticUnavailable(f"Elasticsearch is not reachable at {url}: {START_HINT}") from exc
    except (AuthenticationException, AuthorizationException) as exc:
        raise ElasticUnavailable(
            f"Elasticsearch at {url} refused the credentials (HTTP {exc.meta.status}): set "
            "ONIONLAB_ES_USER/ONIONLAB_ES_PASSWORD or ONIONLAB_ES_API_KEY"
        ) from exc


@dataclass(frozen=True)
class Step:
    """One thing setup looked at: ``what`` (component template, index template, alias,
    mapping), its ``name`` and ``action`` (created, updated, unchanged, failed)."""

    what: str
    name: str
    action: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "name": self.name, "action": self.action, "detail": self.detail}


@dataclass
class SetupReport:
    steps: list[Step] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.action != FAILED for step in self.steps)

    def changed(self) -> list[Step]:
        return [step for step in self.steps if step.action in (CREATED, UPDATED)]


def _stored_hash(found: Mapping[str, Any] | None) -> str | None:
    return ((found or {}).get("_meta") or {}).get(HASH_KEY)


def _put_template(client: Elasticsearch, what: str, name: str, body: dict[str, Any]) -> Step:
    component = what == "component template"
    try:
        if component:
            found = client.cluster.get_component_template(name=name)["component_templates"]
        else:
            found = client.indices.get_index_template(name=name)["index_templates"]
        current = found[0][what.split()[0] + "_template"] if found else None
    except NotFoundError:
        current = None
    if current is not None and _stored_hash(current) == body["_meta"][HASH_KEY]:
        return Step(what, name, UNCHANGED)
    if component:
        client.cluster.put_component_template(name=name, body=body)
    else:
        client.indices.put_index_template(name=name, body=body)
    return Step(what, name, CREATED if current is None else UPDATED)


def _ensure_alias(
    client: Elasticsearch, spec: IndexSpec, template: dict[str, Any], template_changed: bool
) -> list[Step]:
    if client.indices.exists_alias(name=spec.alias):
        if not template_changed:
            return [Step("alias", spec.alias, UNCHANGED)]
        mapping = composed_mapping(template)
        try:  # new fields reach the live index; a changed type needs a new index (rollover)
            client.indices.put_mapping(
                index=spec.alias,
                properties=mapping["properties"],
                dynamic=mapping.get("dynamic"),
                write_index_only=True,
            )
        except ApiError as exc:
            detail = f"{exc.message}: roll the alias over to a new index to change a field's type"
            return [Step("mapping", spec.alias, FAILED, detail)]
        return [Step("alias", spec.alias, UNCHANGED), Step("mapping", spec.alias, UPDATED)]
    if client.indices.exists(index=spec.alias):
        return [
            Step(
                "alias",
                spec.alias,
                FAILED,
                f"a concrete index named {spec.alias} exists (written without `onionlab index "
                f"setup`); reindex it into {spec.first_index} or delete it, then run setup again",
            )
        ]
    if client.indices.exists(index=spec.first_index):
        client.indices.put_alias(index=spec.first_index, name=spec.alias, is_write_index=True)
        return [Step("alias", spec.alias, CREATED, f"on the existing {spec.first_index}")]
    client.indices.create(index=spec.first_index, aliases={spec.alias: {"is_write_index": True}})
    return [Step("alias", spec.alias, CREATED, f"index {spec.first_index}")]


def setup(
    client: Elasticsearch,
    contributions: Iterable[tuple[str, Mapping[str, Mapping[str, Any]] | None]] = (),
) -> SetupReport:
    """Put the component and index templates, then make sure every alias exists."""
    report = SetupReport()
    for name, body in component_templates().items():
        report.steps.append(_put_template(client, "component template", name, body))
    components_changed = any(step.action != UNCHANGED for step in report.steps)
    templates, report.conflicts = index_templates(contributions)
    for spec in INDICES:
        step = _put_template(client, "index template", spec.template, templates[spec.template])
        report.steps.append(step)
        changed = components_changed or step.action != UNCHANGED
        report.steps.extend(_ensure_alias(client, spec, templates[spec.template], changed))
    return report


def alias_counts(client: Elasticsearch) -> dict[str, dict[str, Any]]:
    """Per alias: whether it exists, its indices and its document count."""
    counts: dict[str, dict[str, Any]] = {}
    for spec in INDICES:
        try:
            indices = sorted(client.indices.get_alias(name=spec.alias))
        except NotFoundError:
            counts[spec.alias] = {"exists": False, "indices": [], "docs": 0}
            continue
        docs = int(client.count(index=spec.alias)["count"])
        counts[spec.alias] = {"exists": True, "indices": indices, "docs": docs}
    return counts
