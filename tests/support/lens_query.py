"""Runs a Lens panel's aggregation on Elasticsearch, built from its saved object (test code).

Reads ``kibana/objects/lens/<id>.json``: its data view (whose title is the index alias),
its KQL query and its one layer's columns in ``columnOrder``. Bucket columns nest in that
order (``date_histogram``, ``terms``), metric columns (``count``, ``unique_count``,
``median``, ``average``, ``sum``, ``min``, ``max``, ``last_value``, each optionally behind
its own KQL ``filter``) sit in the innermost bucket, as Kibana's ``esaggs`` builds them.
The answer is one row per leaf bucket, ``{column id: bucket key or metric value}``: the
table Lens draws its chart from.

Left out, on purpose: the dashboard's time range (everything is searched), the ``auto``
interval (the caller names one), the "other" bucket and empty rows. KQL is the subset the
panels use: clauses joined by ``and``, each ``field : value``, ``field : "a phrase"``,
``field : *`` or ``not`` one of those. Anything else raises :class:`Unsupported`, so a
panel this cannot run fails its test instead of being guessed at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

OBJECTS = Path(__file__).resolve().parents[2] / "kibana" / "objects"
_CLAUSE = re.compile(r'^(not\s+)?([@\w][\w.@]*)\s*:\s*("[^"]*"|[^\s"()]+)$', re.IGNORECASE)
_METRICS = {
    "unique_count": "cardinality",
    "average": "avg",
    "sum": "sum",
    "min": "min",
    "max": "max",
}


class Unsupported(ValueError):
    """A panel uses something this translation does not know."""


def kql(query: str) -> dict[str, Any]:
    """The Elasticsearch query of a KQL query of the supported subset."""
    if not query.strip():
        return {"match_all": {}}
    must: list[dict[str, Any]] = []
    must_not: list[dict[str, Any]] = []
    for clause in re.split(r"\s+and\s+", query.strip(), flags=re.IGNORECASE):
        found = _CLAUSE.match(clause.strip())
        if not found:
            raise Unsupported(f"KQL clause {clause!r}")
        negated, field, value = found.groups()
        if value == "*":
            leaf: dict[str, Any] = {"exists": {"field": field}}
        elif value.startswith('"'):
            leaf = {"match_phrase": {field: value[1:-1]}}
        else:
            leaf = {"match": {field: value}}
        (must_not if negated else must).append(leaf)
    return {"bool": {"filter": must, "must_not": must_not}}


@dataclass(frozen=True)
class Panel:
    """One Lens panel: the alias it reads, its query and its layer's columns."""

    lens_id: str
    alias: str
    query: dict[str, Any]
    columns: dict[str, dict[str, Any]]
    order: list[str]

    @classmethod
    def load(cls, lens_id: str, objects: Path = OBJECTS) -> Panel:
        body = json.loads((objects / "lens" / f"{lens_id}.json").read_text(encoding="utf-8"))
        state = body["attributes"]["state"]
        if state.get("filters"):
            raise Unsupported(f"{lens_id}: panel filters")
        (layer_id, layer), *more = state["datasourceStates"]["formBased"]["layers"].items()
        if more:
            raise Unsupported(f"{lens_id}: more than one layer")
        refs = {ref["name"]: ref["id"] for ref in body["references"]}
        view_id = refs[f"indexpattern-datasource-layer-{layer_id}"]
        view = json.loads((objects / "index-pattern" / f"{view_id}.json").read_text("utf-8"))
        if state["query"]["language"] != "kuery":
            raise Unsupported(f"{lens_id}: query language {state['query']['language']}")
        return cls(
            lens_id,
            view["attributes"]["title"],
            kql(state["query"]["query"]),
            layer["columns"],
            list(layer["columnOrder"]),
        )

    def _bucket(self, column_id: str, interval: str) -> dict[str, Any]:
        column = self.columns[column_id]
        operation, field = column["operationType"], column["sourceField"]
        params = column.get("params", {})
        if operation == "date_histogram":
            return {"date_histogram": {"field": field, "fixed_interval": interval}}
        if operation != "terms":
            raise Unsupported(f"{self.lens_id}: bucket operation {operation}")
        order_by = params.get("orderBy", {"type": "alphabetical"})
        if order_by["type"] == "alphabetical":
            order = {"_key": "asc"}
        elif order_by["type"] == "column":
            target = self.columns[order_by["columnId"]]["operationType"]
            path = {"count": "_count", "median": f"{order_by['columnId']}.50"}.get(
                target, order_by["columnId"]
            )
            order = {path: params.get("orderDirection", "desc")}
        else:
            raise Unsupported(f"{self.lens_id}: terms ordered by {order_by['type']}")
        return {"terms": {"field": field, "size": params.get("size", 10), "order": order}}

    def _metric(self, column_id: str) -> dict[str, Any] | None:
        """The column's aggregation; ``None`` for an unfiltered count (the bucket's own)."""
        column = self.columns[column_id]
        operation, field = column["operationType"], column["sourceField"]
        if operation == "count":
            metric = None
        elif operation == "median":
            metric = {"percentiles": {"field": field, "percents": [50]}}
        elif operation == "last_value":
            sort = column["params"]["sortField"]
            metric = {"top_metrics": {"metrics": {"field": field}, "sort": {sort: "desc"}}}
        elif operation in _METRICS:
            metric = {_METRICS[operation]: {"field": field}}
        else:
            raise Unsupported(f"{self.lens_id}: metric operation {operation}")
        condition = column.get("filter")
        if not condition:
            return metric
        if condition["language"] != "kuery":
            raise Unsupported(f"{self.lens_id}: a column filter in {condition['language']}")
        return {"filter": kql(condition["query"]), "aggs": {"v": metric} if metric else {}}

    def aggregations(self, interval: str = "1d") -> dict[str, Any]:
        """The ``aggs`` of the search Lens sends (``interval``: the date histogram's)."""
        aggs: dict[str, Any] = {
            column_id: metric
            for column_id in self._metrics()
            if (metric := self._metric(column_id)) is not None
        }
        for column_id in reversed(self._buckets()):
            aggs = {column_id: {**self._bucket(column_id, interval), "aggs": aggs}}
        return aggs

    def _value(self, column_id: str, bucket: dict[str, Any]) -> Any:
        column = self.columns[column_id]
        found = bucket.get(column_id, bucket)  # an unfiltered count is the bucket's doc_count
        if column.get("filter"):
            found = found.get("v", found)
        operation = column["operationType"]
        if operation == "count":
            return found["doc_count"]
        if operation == "median":
            return found["values"]["50.0"]
        if operation == "last_value":
            top = found["top"]
            return top[0]["metrics"][column["sourceField"]] if top else None
        return found.get("value_as_string", found["value"])

    def _metrics(self) -> list[str]:
        return [c for c in self.order if not self.columns[c]["isBucketed"]]

    def _buckets(self) -> list[str]:
        return [c for c in self.order if self.columns[c]["isBucketed"]]

    def _rows(
        self, level: dict[str, Any], buckets: list[str], key: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        if not buckets:
            yield key | {column_id: self._value(column_id, level) for column_id in self._metrics()}
            return
        column_id, rest = buckets[0], buckets[1:]
        for bucket in level[column_id]["buckets"]:
            value = bucket.get("key_as_string", bucket["key"])
            yield from self._rows(bucket, rest, key | {column_id: value})

    def rows(self, es: Elasticsearch, interval: str = "1d") -> list[dict[str, Any]]:
        """The panel's table on ``es``: one ``{column id: value}`` per leaf bucket."""
        es.indices.refresh(index=self.alias)
        response = es.search(
            index=self.alias,
            size=0,
            track_total_hits=True,
            query=self.query,
            aggs=self.aggregations(interval),
        ).body
        top = {**response.get("aggregations", {}), "doc_count": response["hits"]["total"]["value"]}
        return list(self._rows(top, self._buckets(), {}))
