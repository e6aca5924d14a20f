"""Index design: setup is idempotent, every item field is mapped (observations and site
states too), plugins add fields (to observations of their kind as well)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pluggy
import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler import hookspecs
from onionlab.crawler.items import (
    ENTITY_TYPES,
    ITEM_TYPES,
    Entity,
    Listing,
    Page,
    Vendor,
    VendorIdentity,
)
from onionlab.crawler.pluginmanager import call_each
from onionlab.crawler.sinks.elastic import provision
from onionlab.crawler.sinks.elastic.bulk import Action, index_actions
from onionlab.crawler.sinks.elastic.documents import RunInfo, to_es
from onionlab.crawler.sinks.elastic.events import site_state
from onionlab.crawler.sinks.elastic.observations import with_observations
from onionlab.crawler.sinks.elastic.templates import (
    INDICES,
    SPECS,
    composed_mapping,
    field_types,
    index_templates,
)

RUN = RunInfo("run-1", "2026-11-22T15:31:36+00:00")
HOST = "a" * 56 + ".onion"


def cluster_state(client: Elasticsearch) -> dict[str, Any]:
    return {
        "components": client.cluster.get_component_template(name="onionlab-*").body,
        "templates": client.indices.get_index_template(name="onionlab-*").body,
        "aliases": client.indices.get_alias(name="onionlab-*").body,
        "mappings": client.indices.get_mapping(index="onionlab-*").body,
    }


def test_setup_twice_changes_nothing_the_second_time(bare_es: Elasticsearch) -> None:
    client = bare_es
    first = provision.setup(client)
    assert first.ok
    assert {(s.what, s.action) for s in first.steps} == {
        ("component template", "created"),
        ("index template", "created"),
        ("alias", "created"),
    }
    state = cluster_state(client)
    second = provision.setup(client)
    assert second.ok and second.changed() == []
    assert cluster_state(client) == state
    assert sorted(state["aliases"]) == sorted(spec.first_index for spec in INDICES)
    for spec in INDICES:
        alias = state["aliases"][spec.first_index]["aliases"][spec.alias]
        assert alias["is_write_index"] is True


def test_setup_refuses_an_index_created_without_it(bare_es: Elasticsearch) -> None:
    client = bare_es
    client.indices.create(index="onionlab-pages")  # what indexing without setup would leave
    report = provision.setup(client)
    assert not report.ok
    [failed] = [step for step in report.steps if step.action == provision.FAILED]
    assert failed.name == "onionlab-pages" and "reindex" in failed.detail


def _full_items() -> list[Any]:
    """One item of each kind with every field set."""
    return [
        Page(f"http://{HOST}/x", HOST, 200, "T", "text/html", 10, 1, "2026-11-22T15:31:40+00:00"),
        Listing(
            HOST, "1", f"http://{HOST}/i/1", "T", "v", "c", "s", "1", "10", "0.001", "Germany",
            "g", "10", {"city": "Kazan", "district": "d", "shop": "s", "country": "RU"},
        ),
        Vendor(HOST, "v", f"http://{HOST}/v", "A" * 40, ["1abc"], {"country": "DE"}),
        Entity("btc", "1abc", f"http://{HOST}/v", HOST, "ctx", {"format": "p2pkh"}),
        VendorIdentity(
            "id", [{"site": HOST, "handle": "v"}], ["v"], ["A" * 40],
            [{"type": "telegram", "value": "t"}], [{"type": "btc", "value": "1abc"}],
            {"linked_by": "pgp_fingerprint"},
        ),
    ]  # fmt: skip


def _leaf_paths(doc: dict[str, Any], mapped: dict[str, str], prefix: str = "") -> set[str]:
    """The document's field paths; a field mapped as a value type (geo_point) is a leaf."""
    paths: set[str] = set()
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "extra" and mapped.get(path) == "object":
            paths |= _leaf_paths(value, mapped, f"{path}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            paths |= {f"{path}.{sub}" for item in value for sub in item}
        else:
            paths.add(path)
    return paths


def test_every_field_of_every_item_kind_is_mapped() -> None:
    items = _full_items()
    assert {item.kind for item in items} == set(ITEM_TYPES)
    templates, _ = index_templates()
    for item in items:
        empty = [f.name for f in fields(item) if getattr(item, f.name) in (None, "", [], {})]
        assert not empty, f"set {item.kind} fields {empty} above, then check their mapping"
        mapped = field_types(composed_mapping(templates[SPECS[item.kind].template]))
        unmapped = _leaf_paths(to_es(item.to_doc(), RUN), mapped) - set(mapped)
        assert not unmapped, f"{item.kind}: {sorted(unmapped)} not in the index template"


def test_full_items_index_without_rejection_under_strict_mappings(es: Elasticsearch) -> None:
    """Items, their observations and a site's state: every field has its mapping."""
    items = [Action(SPECS[i.kind].alias, i.doc_id(), to_es(i.to_doc(), RUN)) for i in _full_items()]
    actions = list(with_observations(items))
    assert len(actions) == len(items) + 2  # a page's and a listing's observation
    at = "2026-11-22T15:31:55+00:00"
    record = {
        "state": "gone",
        "responses": 3,
        "failures": {"timeout": 2},
        "consecutive_failures": 2,
    }
    record |= {"first_seen": at, "last_seen": at, "last_attempt": at, "gone_at": at}
    actions.append(site_state(RUN, HOST, record))
    report = index_actions(es, actions)
    assert report.failures == []
    assert report.indexed_total == len(actions)


def test_identifiers_have_a_keyword_field_per_entity_type() -> None:
    templates, _ = index_templates()
    mapped = field_types(composed_mapping(templates["onionlab-identifiers"]))
    assert {mapped[f"identifier.{t}"] for t in ENTITY_TYPES} == {"keyword"}
    assert mapped["value"] == mapped["type"] == mapped["entity_id"] == "keyword"


class StrainPlugin:
    """A plugin mapping its own listing field, and trying to remap a built-in one."""

    @hookspecs.hookimpl
    def onionlab_index_fields(self) -> dict[str, dict[str, Any]]:
        return {"listing": {"strain": {"type": "keyword"}, "city": {"type": "text"}}}


def _contributions() -> list[tuple[str, Any]]:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(StrainPlugin(), name="strains")
    return list(call_each(manager, "onionlab_index_fields"))


def test_plugin_fields_reach_templates_and_the_live_index(bare_es: Elasticsearch) -> None:
    client = bare_es
    assert provision.setup(client).ok
    report = provision.setup(client, _contributions())  # the plugin installed later
    assert ("index template", "onionlab-listings", "updated") in {
        (s.what, s.name, s.action) for s in report.steps
    }
    assert [(c.plugin, c.field) for c in report.conflicts] == [("strains", "city")]
    mapping = client.indices.get_mapping(index="onionlab-listings").body
    extra = next(iter(mapping.values()))["mappings"]["properties"]["extra"]["properties"]
    assert extra["strain"] == {"type": "keyword"}
    assert extra["city"] == {"type": "keyword"}  # the built-in mapping wins, reported above

    listing = Listing(HOST, "9", f"http://{HOST}/i/9", "OG Kush", extra={"strain": "OG Kush"})
    action = Action("onionlab-listings", listing.doc_id(), to_es(listing.to_doc(), RUN))
    assert index_actions(client, with_observations([action])).failures == []
    for alias in ("onionlab-listings", "onionlab-listing-observations"):  # observations too
        client.indices.refresh(index=alias)
        hits = client.search(index=alias, query={"term": {"extra.strain": "OG Kush"}})
        assert hits["hits"]["total"]["value"] == 1, alias
    assert provision.setup(client, _contributions()).changed() == []


@pytest.mark.parametrize(
    "answer", [{"nosuchkind": {"f": {"type": "keyword"}}}, {"listing": {"f": 1}}]
)
def test_bad_plugin_answers_are_refused_with_the_plugin_name(answer: dict[str, Any]) -> None:
    _, conflicts = index_templates([("badplugin", answer)])
    assert [c.plugin for c in conflicts] == ["badplugin"]
    assert "badplugin" in str(conflicts[0])
