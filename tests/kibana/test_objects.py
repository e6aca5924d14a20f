"""The saved objects in kibana/objects/, checked statically (no Kibana runs in CI).

Every reference resolves (dashboard panels and controls → Lens visualisations and saved
searches → data views), every field a visualisation, search, query, control or data view
uses exists in the index template of the data view's alias (built by
:mod:`onionlab.crawler.sinks.elastic.templates`, the mapping `onionlab index setup` installs) with a
type the operation can aggregate, every Lens value format is one Lens supports, ids are
unique and prefixed, there are at least five dashboards, their panels tile the grid without
overlaps or holes, and titles are capitalised. The bundler's own validation is tested on
broken copies.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onionlab.crawler.kibana.bundle import BundleError, build, load_objects
from onionlab.crawler.sinks.elastic.templates import composed_mapping, field_types, index_templates

REPO = Path(__file__).resolve().parents[2]
OBJECTS = REPO / "kibana" / "objects"
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
AGGREGATABLE = NUMERIC | {"keyword", "date", "boolean", "ip"}
# Which field types each Lens operation accepts.
OPERATION_TYPES = {
    "terms": NUMERIC | {"keyword", "boolean", "ip"},
    "unique_count": AGGREGATABLE,
    "last_value": AGGREGATABLE,
    "median": NUMERIC,
    "min": NUMERIC | {"date"},
    "max": NUMERIC | {"date"},
    "average": NUMERIC,
    "sum": NUMERIC,
    "range": NUMERIC,
    "date_histogram": {"date"},
}
# Lens's own value formats (its lens_format_column's supported formats) and the parameters
# each one reads. Any other id is handed to Kibana's field formats as is: its parameters
# (decimals…) are dropped and it replaces the data view's format of the field.
LENS_FORMATS = {
    "number": {"decimals", "suffix", "compact"},
    "percent": {"decimals", "suffix", "compact"},
    "bytes": {"decimals", "suffix"},
    "bits": {"decimals", "suffix"},
    "duration": {"decimals", "suffix", "compact", "fromUnit", "toUnit"},
    "custom": {"pattern", "suffix"},
}
PRICE_FIELDS = {"price_per_unit_usd", "price_usd"}
KQL_FIELD = re.compile(r"(?<![\w.@\"])([@\w][\w.@]*)\s*(?::|>=|<=|>|<)")
GRID_COLUMNS = 48


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    return {o.key: o.body for o in load_objects(OBJECTS)}


@pytest.fixture(scope="module")
def alias_fields() -> dict[str, dict[str, str]]:
    """``{alias: {field: type}}`` from the index templates onionlab installs."""
    templates, conflicts = index_templates()
    assert not conflicts
    return {name: field_types(composed_mapping(body)) for name, body in templates.items()}


def of_type(objects: dict[tuple[str, str], dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [body for (t, _id), body in objects.items() if t == kind]


def view_fields(
    objects: dict[tuple[str, str], dict[str, Any]],
    alias_fields: dict[str, dict[str, str]],
    view_id: str,
) -> dict[str, str]:
    title = objects[("index-pattern", view_id)]["attributes"]["title"]
    assert title in alias_fields, f"data view {view_id}: {title} is no onionlab index alias"
    return alias_fields[title]


def kql_fields(query: str) -> list[str]:
    """The field names a KQL query filters on (``a.b : x``, ``n >= 2``)."""
    without_strings = re.sub(r'"[^"]*"', '""', query)
    return KQL_FIELD.findall(without_strings)


def lens_fields(state: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(layer id, operation, field)`` for each field a Lens state aggregates or queries on."""
    for field in kql_fields(state["query"]["query"]):
        for layer_id in state["datasourceStates"]["formBased"]["layers"]:
            yield layer_id, "query", field
    for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
        for column in layer["columns"].values():
            if column["sourceField"] != "___records___":
                yield layer_id, column["operationType"], column["sourceField"]
            if "sortField" in column.get("params", {}):
                yield layer_id, "sort", column["params"]["sortField"]
            for field in kql_fields((column.get("filter") or {}).get("query", "")):
                yield layer_id, "query", field


# -- the bundle -----------------------------------------------------------------------


def test_the_bundle_is_ndjson_of_every_file_in_a_stable_order() -> None:
    data = build(OBJECTS)
    lines = data.decode("utf-8").splitlines()
    parsed = [json.loads(line) for line in lines]
    assert len(parsed) == len(list(OBJECTS.rglob("*.json")))
    assert data == build(OBJECTS)
    types = [o["type"] for o in parsed]
    assert types.index("dashboard") > max(i for i, t in enumerate(types) if t == "index-pattern")
    assert types[-1] == "dashboard"


def test_ids_are_unique_and_prefixed(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    ids = [oid for _type, oid in objects]
    assert len(ids) == len(set(ids))
    assert all(oid.startswith("onionlab-") for oid in ids)


def test_there_are_the_five_analyst_dashboards(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    dashboards = {body["id"] for body in of_type(objects, "dashboard")}
    assert len(dashboards) >= 5
    for needed in ("market-overview", "substance-prices", "vendors", "crypto-contacts"):
        assert f"onionlab-dashboard-{needed}" in dashboards
    assert "onionlab-dashboard-crawl-health" in dashboards


def test_a_data_view_per_index_alias(
    objects: dict[tuple[str, str], dict[str, Any]], alias_fields: dict[str, dict[str, str]]
) -> None:
    titles = {body["attributes"]["title"] for body in of_type(objects, "index-pattern")}
    assert titles == set(alias_fields)
    for body in of_type(objects, "index-pattern"):
        fields = alias_fields[body["attributes"]["title"]]
        assert fields[body["attributes"]["timeFieldName"]] == "date"
        for key in ("fieldFormatMap", "fieldAttrs"):
            for field in json.loads(body["attributes"].get(key) or "{}"):
                assert field in fields, f"{body['id']}: {key} names unknown field {field}"


# -- references -------------------------------------------------------------------------


def test_every_dashboard_panel_and_control_resolves(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for body in of_type(objects, "dashboard"):
        references = {ref["name"]: ref for ref in body["references"]}
        panels = json.loads(body["attributes"]["panelsJSON"])
        assert panels, body["id"]
        for panel in panels:
            ref = references[f"{panel['panelIndex']}:{panel['panelRefName']}"]
            assert ref["type"] == panel["type"], (body["id"], panel)
            assert (ref["type"], ref["id"]) in objects, (body["id"], ref)
        controls = body["attributes"].get("controlGroupInput")
        if controls:
            for control_id in json.loads(controls["panelsJSON"]):
                ref = references[f"controlGroup_{control_id}:optionsListDataView"]
                assert ("index-pattern", ref["id"]) in objects


def test_every_visualisation_and_search_is_on_a_dashboard(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    used = {
        (ref["type"], ref["id"])
        for body in of_type(objects, "dashboard")
        for ref in body["references"]
    }
    orphans = [key for key in objects if key[0] in ("lens", "search") and key not in used]
    assert not orphans


def test_every_lens_layer_has_its_data_view(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for body in of_type(objects, "lens"):
        state = body["attributes"]["state"]
        references = {ref["name"]: ref for ref in body["references"]}
        for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
            ref = references[f"indexpattern-datasource-layer-{layer_id}"]
            assert ("index-pattern", ref["id"]) in objects, body["id"]
            order = layer["columnOrder"]
            assert sorted(order) == sorted(layer["columns"]) and len(set(order)) == len(order)


def test_every_lens_accessor_names_a_column(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for body in of_type(objects, "lens"):
        state = body["attributes"]["state"]
        columns = {
            cid
            for layer in state["datasourceStates"]["formBased"]["layers"].values()
            for cid in layer["columns"]
        }
        vis = state["visualization"]
        layers = vis.get("layers", [vis])
        for layer in layers:
            named = [layer.get(k) for k in ("xAccessor", "splitAccessor", "metricAccessor")]
            named += layer.get("accessors", []) + layer.get("primaryGroups", [])
            named += layer.get("metrics", []) + [c["columnId"] for c in layer.get("columns", [])]
            assert {n for n in named if n} <= columns, body["id"]
            assert {n for n in named if n}, body["id"]
        for column in columns_of(state):
            order = column.get("params", {}).get("orderBy", {})
            if order.get("type") == "column":
                assert order["columnId"] in columns, body["id"]


def columns_of(state: dict[str, Any]) -> list[dict[str, Any]]:
    layers = state["datasourceStates"]["formBased"]["layers"].values()
    return [column for layer in layers for column in layer["columns"].values()]


# -- fields ------------------------------------------------------------------------------


def test_every_lens_field_exists_with_an_aggregatable_type(
    objects: dict[tuple[str, str], dict[str, Any]], alias_fields: dict[str, dict[str, str]]
) -> None:
    problems = []
    for body in of_type(objects, "lens"):
        refs = {ref["name"]: ref["id"] for ref in body["references"]}
        for layer_id, operation, field in lens_fields(body["attributes"]["state"]):
            view = refs[f"indexpattern-datasource-layer-{layer_id}"]
            fields = view_fields(objects, alias_fields, view)
            if field not in fields:
                problems.append(f"{body['id']}: {field} is not in {view}'s index template")
                continue
            allowed = OPERATION_TYPES.get(operation) or (
                {"date"} if operation == "sort" else set(fields.values())
            )
            if fields[field] not in allowed:
                problems.append(f"{body['id']}: {operation} on {field} ({fields[field]})")
    assert not problems, "\n".join(problems)


def test_every_saved_search_field_exists(
    objects: dict[tuple[str, str], dict[str, Any]], alias_fields: dict[str, dict[str, str]]
) -> None:
    for body in of_type(objects, "search"):
        attributes = body["attributes"]
        source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
        (ref,) = [r for r in body["references"] if r["name"] == source["indexRefName"]]
        fields = view_fields(objects, alias_fields, ref["id"])
        used = [*attributes["columns"], *(s[0] for s in attributes["sort"])]
        used += kql_fields(source["query"]["query"])
        missing = [field for field in used if field not in fields]
        assert not missing, f"{body['id']}: {missing}"


def test_every_dashboard_control_field_exists(
    objects: dict[tuple[str, str], dict[str, Any]], alias_fields: dict[str, dict[str, str]]
) -> None:
    for body in of_type(objects, "dashboard"):
        controls = body["attributes"].get("controlGroupInput")
        refs = {ref["name"]: ref["id"] for ref in body["references"]}
        for control_id, control in json.loads((controls or {}).get("panelsJSON", "{}")).items():
            view = refs[f"controlGroup_{control_id}:optionsListDataView"]
            field = control["explicitInput"]["fieldName"]
            assert view_fields(objects, alias_fields, view).get(field) in AGGREGATABLE, field


def test_the_field_check_notices_a_missing_field(
    objects: dict[tuple[str, str], dict[str, Any]], alias_fields: dict[str, dict[str, str]]
) -> None:
    fields = alias_fields["onionlab-listings"]
    assert "price_per_unit_usd" in fields
    assert "price_per_gram" not in fields
    assert kql_fields('unit : g and geo.city_name : * and not type : "a:b"') == [
        "unit",
        "geo.city_name",
        "type",
    ]


# -- what the analysts read --------------------------------------------------------------------

# Tables of onion addresses, where the exact host is the point (a mirror can be down while
# its main address is up): they may bucket by `site`, every other panel labels by `site_name`.
ADDRESS_PANELS = {"onionlab-lens-site-liveness"}


def test_sites_are_labelled_by_name_except_where_the_address_matters(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    by_host = [
        body["id"]
        for body in of_type(objects, "lens")
        for column in columns_of(body["attributes"]["state"])
        if column["operationType"] == "terms"
        and column["sourceField"] == "site"
        and body["id"] not in ADDRESS_PANELS
    ]
    by_host += [b["id"] for b in of_type(objects, "search") if "site" in b["attributes"]["columns"]]
    for body in of_type(objects, "dashboard"):
        controls = (body["attributes"].get("controlGroupInput") or {}).get("panelsJSON", "{}")
        for control_id, control in json.loads(controls).items():
            if control["explicitInput"]["fieldName"] == "site":
                by_host.append(f"{body['id']} control {control_id}")
    assert not by_host, f"label these by site_name: {by_host}"
    for panel in ADDRESS_PANELS:  # the address tables name the site beside the host
        fields = {
            c["sourceField"] for c in columns_of(objects[("lens", panel)]["attributes"]["state"])
        }
        assert {"site", "site_name"} <= fields, panel


def test_the_substances_dashboard_shows_each_substances_first_appearance(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    dashboard = objects[("dashboard", "onionlab-dashboard-substance-prices")]
    panels = [ref["id"] for ref in dashboard["references"] if ref["type"] == "lens"]
    first_appearance = []
    for lens_id in panels:
        used = {
            (c["operationType"], c["sourceField"])
            for c in columns_of(objects[("lens", lens_id)]["attributes"]["state"])
        }
        if {("terms", "substance"), ("min", "first_seen")} <= used:
            first_appearance.append(lens_id)
    assert first_appearance == ["onionlab-lens-substance-first-seen"]


def test_every_lens_value_format_is_one_lens_supports_with_its_own_parameters(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    problems = []
    for body in of_type(objects, "lens"):
        for column in columns_of(body["attributes"]["state"]):
            value_format = column.get("params", {}).get("format")
            if value_format is None:
                continue
            name = f"{body['id']}: {column['label']!r}"
            if value_format["id"] not in LENS_FORMATS:
                problems.append(f"{name}: format {value_format['id']!r} is not a Lens format")
                continue
            unread = set(value_format.get("params", {})) - LENS_FORMATS[value_format["id"]]
            if unread:
                problems.append(f"{name}: {value_format['id']} ignores {sorted(unread)}")
            if value_format["id"] == "custom" and not value_format.get("params", {}).get("pattern"):
                problems.append(f"{name}: a custom format without a pattern")
    assert not problems, "\n".join(problems)


def test_prices_are_shown_in_dollars_with_cents(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """A price column formats as US dollars with two decimals: its own Lens format, or else
    the format its data view gives the field."""
    shown = {}
    for body in of_type(objects, "lens"):
        refs = {ref["name"]: ref["id"] for ref in body["references"]}
        layers = body["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
        for layer_id, layer in layers.items():
            view = objects[("index-pattern", refs[f"indexpattern-datasource-layer-{layer_id}"])]
            view_formats = json.loads(view["attributes"].get("fieldFormatMap") or "{}")
            for column in layer["columns"].values():
                if column["sourceField"] in PRICE_FIELDS:
                    value_format = column.get("params", {}).get("format") or view_formats.get(
                        column["sourceField"], {}
                    )
                    pattern = value_format.get("params", {}).get("pattern", "")
                    shown[f"{body['id']}: {column['label']!r}"] = (value_format.get("id"), pattern)
    assert shown
    wrong = {name: how for name, how in shown.items() if how[1] != "$0,0.00"}
    assert not wrong, wrong


# -- layout ------------------------------------------------------------------------------


def test_dashboard_panels_fit_the_grid_without_overlapping(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for body in of_type(objects, "dashboard"):
        taken: set[tuple[int, int]] = set()
        for panel in json.loads(body["attributes"]["panelsJSON"]):
            grid = panel["gridData"]
            assert grid["x"] + grid["w"] <= GRID_COLUMNS, (body["id"], grid)
            cells = {
                (x, y)
                for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])
            }
            assert not cells & taken, (body["id"], grid)
            taken |= cells


def test_dashboard_panels_tile_the_grid_without_holes(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """From the top to the lowest panel's bottom, every cell of every column is a panel's."""
    for body in of_type(objects, "dashboard"):
        grids = [panel["gridData"] for panel in json.loads(body["attributes"]["panelsJSON"])]
        bottom = max(grid["y"] + grid["h"] for grid in grids)
        taken = {
            (x, y)
            for grid in grids
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        holes = {(x, y) for x in range(GRID_COLUMNS) for y in range(bottom)} - taken
        if holes:
            xs, ys = sorted({x for x, _ in holes}), sorted({y for _, y in holes})
            hole = f"x {xs[0]}-{xs[-1]}, y {ys[0]}-{ys[-1]} ({len(holes)} cells)"
            pytest.fail(f"{body['id']}: empty grid cells at {hole}")


def test_every_panel_and_control_title_starts_with_a_capital(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    titles = []
    for body in of_type(objects, "dashboard"):
        references = {ref["name"]: ref for ref in body["references"]}
        for panel in json.loads(body["attributes"]["panelsJSON"]):
            ref = references[f"{panel['panelIndex']}:{panel['panelRefName']}"]
            own = panel.get("title") or panel.get("embeddableConfig", {}).get("title")
            titles.append(own or objects[(ref["type"], ref["id"])]["attributes"]["title"])
        controls = (body["attributes"].get("controlGroupInput") or {}).get("panelsJSON", "{}")
        titles += [c["explicitInput"]["title"] for c in json.loads(controls).values()]
    assert titles
    assert [t for t in titles if not t[:1].isupper()] == []


# -- the bundler's validation ----------------------------------------------------------------


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "objects"
    shutil.copytree(OBJECTS, target)
    return target


def _edit(path: Path, change: Any) -> None:
    body = json.loads(path.read_text())
    change(body)
    path.write_text(json.dumps(body))


def _problems(directory: Path) -> list[str]:
    with pytest.raises(BundleError) as caught:
        load_objects(directory)
    return caught.value.problems


def test_bundle_refuses_a_dangling_reference(copy: Path) -> None:
    (copy / "index-pattern" / "onionlab-dv-listings.json").unlink()
    problems = _problems(copy)
    assert any("onionlab-dv-listings, which is not in the bundle" in p for p in problems)


def test_bundle_refuses_ids_without_prefix_or_not_matching_the_file(copy: Path) -> None:
    path = copy / "lens" / "onionlab-lens-site-count.json"
    _edit(path, lambda body: body.update(id="site-count"))
    problems = _problems(copy)
    assert any("does not start with 'onionlab-'" in p for p in problems), problems


def test_bundle_refuses_duplicate_ids_and_broken_json(copy: Path) -> None:
    shutil.copy(
        copy / "lens" / "onionlab-lens-site-count.json",
        copy / "dashboard" / "onionlab-lens-site-count.json",
    )
    (copy / "search" / "onionlab-broken.json").write_text("{not json")
    problems = _problems(copy)
    assert any("'onionlab-lens-site-count' is used by" in p for p in problems), problems
    assert any(p.startswith("search/onionlab-broken.json: not readable JSON") for p in problems)
