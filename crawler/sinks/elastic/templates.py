"""The onionlab index design as data: component templates, one index template per kind, aliases.

Builds the bodies ``onionlab index setup`` sends (pure functions, no I/O but reading the
JSON files in :mod:`onionlab.crawler.sinks.elastic.mappings`). Plugins' ``onionlab_index_fields``
answers are merged under ``extra`` of their kind. Three indices have no file of their own:
the observations of listings and of pages (one document per item and crawl: their history)
are mapped as what they observe plus ``observed_id``, and sites (one document per onion
host, its latest liveness) as the ``liveness`` object of crawl events. Depends on
:mod:`onionlab.crawler.items`, :mod:`onionlab.crawler.runs.rundir` and the standard library.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from onionlab.crawler.items import ENTITY_TYPES
from onionlab.crawler.runs.rundir import INDEX_PREFIX, index_for

TEMPLATE_PRIORITY = 200  # above Elastic's built-in templates (100); patterns don't overlap anyway
SETTINGS_COMPONENT = f"{INDEX_PREFIX}-settings"
BASE_COMPONENT = f"{INDEX_PREFIX}-base"
COMPONENTS: dict[str, str] = {SETTINGS_COMPONENT: "settings.json", BASE_COMPONENT: "base.json"}
EVENTS_KIND = "crawl_event"
EVENTS_ALIAS = f"{INDEX_PREFIX}-crawl-events"
SITE_KIND = "site"
OBSERVED_ID = "observed_id"  # an observation's link to the document it observes (its _id)
# The kinds whose every crawl is kept as an observation: kind -> its observations' kind.
OBSERVED_KINDS: dict[str, str] = {"listing": "listing_observation", "page": "page_observation"}
HASH_KEY = "onionlab_hash"


@dataclass(frozen=True)
class IndexSpec:
    """One kind's index: the alias everyone uses and the concrete index setup creates."""

    kind: str
    alias: str

    @property
    def template(self) -> str:
        return self.alias

    @property
    def pattern(self) -> str:
        return f"{self.alias}-*"

    @property
    def first_index(self) -> str:
        return f"{self.alias}-000001"


INDICES: tuple[IndexSpec, ...] = (
    *(
        IndexSpec(kind, index_for(kind))
        for kind in ("page", "listing", "vendor", "identifier", "vendor_identity")
    ),
    IndexSpec(EVENTS_KIND, EVENTS_ALIAS),
    *(
        IndexSpec(observation, f"{INDEX_PREFIX}-{kind}-observations")
        for kind, observation in OBSERVED_KINDS.items()
    ),
    IndexSpec(SITE_KIND, index_for(SITE_KIND)),
)
SPECS: dict[str, IndexSpec] = {spec.kind: spec for spec in INDICES}
ALIAS_KIND: dict[str, str] = {spec.alias: spec.kind for spec in INDICES}
# The alias of each observed kind's documents -> the alias of their observations.
OBSERVATION_ALIASES: dict[str, str] = {
    SPECS[kind].alias: SPECS[observation].alias for kind, observation in OBSERVED_KINDS.items()
}


@cache
def _load(name: str) -> dict[str, Any]:
    text = (
        resources.files("onionlab.crawler.sinks.elastic.mappings").joinpath(name).read_text("utf-8")
    )
    data = json.loads(text)
    data.pop("_comment", None)
    return data


def load(name: str) -> dict[str, Any]:
    """A mapping data file without its ``_comment``, as a fresh copy the caller may change."""
    return copy.deepcopy(_load(name))


def observation_mapping(observed: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping of observations of a kind mapped as ``observed``: its fields and
    ``observed_id``."""
    mapping = copy.deepcopy(dict(observed))
    mapping["properties"][OBSERVED_ID] = {"type": "keyword"}
    return mapping


def kind_mapping(kind: str) -> dict[str, Any]:
    """The kind's own mapping (without the shared base fields)."""
    observed = next((k for k, o in OBSERVED_KINDS.items() if o == kind), None)
    if observed is not None:
        return observation_mapping(kind_mapping(observed))
    if kind == SITE_KIND:
        liveness = kind_mapping(EVENTS_KIND)["properties"]["liveness"]
        return {"dynamic": "strict", "properties": {"liveness": liveness}}
    mapping = load(f"{kind}.json")["mappings"]
    if kind == "identifier":
        mapping["properties"]["identifier"]["properties"] = {
            entity_type: {"type": "keyword"} for entity_type in ENTITY_TYPES
        }
    return mapping


@dataclass(frozen=True)
class FieldConflict:
    """A plugin's field that was not merged, and why."""

    plugin: str
    kind: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.plugin}: {self.kind} field extra.{self.field} ignored: {self.reason}"


def merge_plugin_fields(
    mappings: Mapping[str, dict[str, Any]],
    contributions: Iterable[tuple[str, Mapping[str, Mapping[str, Any]] | None]],
) -> list[FieldConflict]:
    """Merge ``(plugin, {kind: {field: mapping}})`` answers into ``extra`` of each kind, in place.

    A field that is already mapped differently (built in, or by an earlier plugin) keeps the
    first mapping; an unknown kind or a non-dict mapping is refused. Every refusal is returned.
    """
    conflicts: list[FieldConflict] = []
    for plugin, answer in contributions:
        for kind, fields in (answer or {}).items():
            if kind not in mappings:
                for name in fields:
                    conflicts.append(FieldConflict(plugin, kind, name, "no such kind"))
                continue
            extra = mappings[kind]["properties"].setdefault(
                "extra", {"type": "object", "dynamic": False, "properties": {}}
            )
            properties = extra.setdefault("properties", {})
            for name, field_mapping in fields.items():
                if not isinstance(field_mapping, Mapping) or not field_mapping:
                    conflicts.append(FieldConflict(plugin, kind, name, "mapping is not a dict"))
                elif name in properties and properties[name] != dict(field_mapping):
                    reason = f"already mapped as {json.dumps(properties[name], sort_keys=True)}"
                    conflicts.append(FieldConflict(plugin, kind, name, reason))
                else:
                    properties[name] = copy.deepcopy(dict(field_mapping))
    return conflicts


def body_hash(body: Mapping[str, Any]) -> str:
    """A short hash of a template body, stored in its ``_meta`` to tell unchanged from changed."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _with_meta(body: dict[str, Any]) -> dict[str, Any]:
    body["_meta"] = {"managed_by": INDEX_PREFIX, HASH_KEY: body_hash(body)}
    return body


def component_templates() -> dict[str, dict[str, Any]]:
    """``{name: body}`` of the component templates every index template is composed of."""
    return {name: _with_meta({"template": load(file)}) for name, file in COMPONENTS.items()}


def index_templates(
    contributions: Iterable[tuple[str, Mapping[str, Mapping[str, Any]] | None]] = (),
) -> tuple[dict[str, dict[str, Any]], list[FieldConflict]]:
    """``({name: body}, conflicts)`` of the index templates, plugin fields merged in.

    A plugin names the kind it extracts (``listing``); its observations get the field too.
    """
    observations = set(OBSERVED_KINDS.values())
    mappings = {
        spec.kind: kind_mapping(spec.kind) for spec in INDICES if spec.kind not in observations
    }
    conflicts = merge_plugin_fields(mappings, contributions)
    for kind, observation in OBSERVED_KINDS.items():
        mappings[observation] = observation_mapping(mappings[kind])
    bodies = {
        spec.template: _with_meta(
            {
                "index_patterns": [spec.pattern],
                "composed_of": list(COMPONENTS),
                "priority": TEMPLATE_PRIORITY,
                "template": {"mappings": mappings[spec.kind]},
            }
        )
        for spec in INDICES
    }
    return bodies, conflicts


def _merge(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def composed_mapping(template: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping an index created from ``template`` gets: components first, then its own."""
    mapping: dict[str, Any] = {}
    components = component_templates()
    for name in template["composed_of"]:
        _merge(mapping, components[name]["template"].get("mappings", {}))
    _merge(mapping, template["template"]["mappings"])
    return mapping


def field_types(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Every mapped field as ``{dotted.path: type}``, multi-fields included (``title.keyword``)."""
    found: dict[str, str] = {}
    for name, spec in mapping.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            found[path] = spec.get("type", "object")
            found.update(field_types(spec, f"{path}."))
        else:
            found[path] = spec.get("type", "object")
        for sub, sub_spec in spec.get("fields", {}).items():
            found[f"{path}.{sub}"] = sub_spec["type"]
    return found
