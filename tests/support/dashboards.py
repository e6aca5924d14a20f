"""What a dashboard of kibana/objects/ queries: its controls and, per panel, the index and query.

Read from the saved objects themselves (``onionlab.crawler.kibana.bundle.load_objects``), so
a test can run each panel's query against real documents with a control's filter added, as
Kibana does: every control's selection is a filter on every panel of its dashboard.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onionlab.crawler.kibana.bundle import load_objects

OBJECTS = Path(__file__).resolve().parents[2] / "kibana" / "objects"
_KQL_WORDS = re.compile(r"\b(and|or|not)\b")
_KQL_OPERATOR = re.compile(r"\s*(:|>=|<=|>|<)\s*")


@dataclass(frozen=True)
class Control:
    """An options-list control: its title, the field it filters on and the alias it lists."""

    title: str
    field: str
    alias: str


@dataclass(frozen=True)
class Panel:
    """One query a panel runs: a Lens layer or a saved search, on one index alias."""

    name: str
    alias: str
    query: str  # KQL, "" for all documents


@dataclass(frozen=True)
class Dashboard:
    id: str
    controls: list[Control]
    panels: list[Panel]


def kql_to_lucene(kql: str) -> str:
    """The ES ``query_string`` of the simple KQL the objects use (``a : x and not b >= 2``)."""
    if not kql.strip():
        return "*"
    lucene = _KQL_WORDS.sub(lambda m: m.group(1).upper(), kql)
    return _KQL_OPERATOR.sub(lambda m: ":" if m.group(1) == ":" else f":{m.group(1)}", lucene)


def _alias(objects: dict[tuple[str, str], dict[str, Any]], view_id: str) -> str:
    return objects[("index-pattern", view_id)]["attributes"]["title"]


def _panel_queries(
    objects: dict[tuple[str, str], dict[str, Any]], kind: str, object_id: str
) -> list[Panel]:
    body = objects[(kind, object_id)]
    refs = {ref["name"]: ref["id"] for ref in body["references"]}
    if kind == "search":
        source = json.loads(body["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        alias = _alias(objects, refs[source["indexRefName"]])
        return [Panel(object_id, alias, source["query"]["query"])]
    state = body["attributes"]["state"]
    return [
        Panel(
            object_id,
            _alias(objects, refs[f"indexpattern-datasource-layer-{layer_id}"]),
            state["query"]["query"],
        )
        for layer_id in state["datasourceStates"]["formBased"]["layers"]
    ]


def dashboards(directory: Path = OBJECTS) -> list[Dashboard]:
    """Every dashboard with its controls and the queries of its panels."""
    objects = {o.key: o.body for o in load_objects(directory)}
    found = []
    for (kind, dashboard_id), body in sorted(objects.items()):
        if kind != "dashboard":
            continue
        refs = {ref["name"]: ref for ref in body["references"]}
        panels = []
        for panel in json.loads(body["attributes"]["panelsJSON"]):
            ref = refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
            panels += _panel_queries(objects, ref["type"], ref["id"])
        group = body["attributes"].get("controlGroupInput") or {}
        controls = [
            Control(
                control["explicitInput"]["title"],
                control["explicitInput"]["fieldName"],
                _alias(objects, refs[f"controlGroup_{control_id}:optionsListDataView"]["id"]),
            )
            for control_id, control in json.loads(group.get("panelsJSON", "{}")).items()
        ]
        found.append(Dashboard(dashboard_id, controls, panels))
    return found
