"""Saved-object files → one validated NDJSON bundle for Kibana's import API.

Framework core, standard library only. One saved object per JSON file (``<id>.json``),
anywhere under the objects directory. The bundle is deterministic: objects ordered by
type (data views first, dashboards last, as Kibana exports them) and then by id, each
serialised with sorted keys, so the same files always give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ID_PREFIX = "onionlab-"
# The Kibana minor version the objects are written for (STACK_VERSION in .env.example).
# Their typeMigrationVersions are ones that version knows: Kibana migrates older objects
# on import and refuses newer ones. coreMigrationVersion has been 8.8.0 since Kibana 8.8.
KIBANA_VERSION = "8.19"
CORE_MIGRATION_VERSION = "8.8.0"
TYPE_ORDER = ("index-pattern", "search", "visualization", "lens", "dashboard")
REQUIRED_KEYS = ("id", "type", "attributes", "references", "typeMigrationVersion")


class BundleError(ValueError):
    """The objects directory does not make a valid bundle; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SavedObject:
    """One saved object and the file it was read from."""

    path: Path
    body: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.body["type"], self.body["id"])


def load_objects(directory: Path) -> list[SavedObject]:
    """Read and validate every ``*.json`` under ``directory``, in bundle order.

    Raises :class:`BundleError` listing every problem found (a file that is not one JSON
    object, a missing key, an id without the ``onionlab-`` prefix or not matching its file
    name, a duplicate id, an unknown type, a reference to an object not in the bundle).
    """
    if not directory.is_dir():
        raise BundleError([f"no saved-objects directory at {directory}"])
    problems: list[str] = []
    objects: list[SavedObject] = []
    for path in sorted(directory.rglob("*.json")):
        name = path.relative_to(directory)
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{name}: not readable JSON ({exc})")
            continue
        found = _check_object(body)
        if not found and body["id"] != path.stem:
            found = [f"id {body['id']!r} does not match the file name"]
        problems.extend(f"{name}: {problem}" for problem in found)
        if not found:
            objects.append(SavedObject(path, body))
    if not objects and not problems:
        problems.append(f"no saved objects (*.json) under {directory}")
    problems.extend(_check_bundle(objects))
    if problems:
        raise BundleError(problems)
    return sorted(objects, key=lambda o: (TYPE_ORDER.index(o.body["type"]), o.body["id"]))


def to_ndjson(objects: Iterable[SavedObject]) -> bytes:
    """The import file: one compact JSON object per line, keys sorted, UTF-8."""
    lines = (
        json.dumps(o.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for o in objects
    )
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def build(directory: Path) -> bytes:
    """Validate ``directory`` and return its NDJSON bundle."""
    return to_ndjson(load_objects(directory))


def _check_object(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["not a JSON object (one saved object per file)"]
    missing = [key for key in REQUIRED_KEYS if key not in body]
    if missing:
        return [f"missing {', '.join(missing)}"]
    problems = []
    if not str(body["id"]).startswith(ID_PREFIX):
        problems.append(f"id {body['id']!r} does not start with {ID_PREFIX!r}")
    if body["type"] not in TYPE_ORDER:
        problems.append(f"type {body['type']!r} is not one of {', '.join(TYPE_ORDER)}")
    if body.get("coreMigrationVersion") != CORE_MIGRATION_VERSION:
        problems.append(f"coreMigrationVersion must be {CORE_MIGRATION_VERSION}")
    if not isinstance(body["references"], list) or not all(
        isinstance(r, dict) and {"type", "id", "name"} <= r.keys() for r in body["references"]
    ):
        problems.append("references must be a list of {type, id, name}")
    return problems


def _check_bundle(objects: list[SavedObject]) -> list[str]:
    problems = []
    seen: dict[str, Path] = {}
    for obj in objects:
        first = seen.setdefault(obj.body["id"], obj.path)
        if first != obj.path:
            problems.append(f"id {obj.body['id']!r} is used by {first.name} and {obj.path.name}")
    known = {obj.key for obj in objects}
    for obj in objects:
        for ref in obj.body["references"]:
            if (ref["type"], ref["id"]) not in known:
                problems.append(
                    f"{obj.body['type']} {obj.body['id']}: reference {ref['name']!r} "
                    f"points to {ref['type']} {ref['id']}, which is not in the bundle"
                )
    return problems
