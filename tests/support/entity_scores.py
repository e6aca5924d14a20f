"""Score entity-extracting plugins against the lab's ground truth, occurrence by occurrence.

``score_entities(seed, modules, types)`` registers only the given plugin modules on a fresh
plugin manager, runs :func:`onionlab.crawler.extraction.items.extract_items` over every truth page
of every service (rendered in-process by ``tests.support.site_pages``, no Tor) and compares the
``Entity`` items with the truth: an occurrence is a ``(type, value, page URL)``, expected
for every page in a truth identifier's ``pages``; a decoy occurrence is accepted when a
plugin reports a decoy's ``(type, value)`` on a page the truth shows it on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from onionlab.crawler import hookspecs
from onionlab.crawler.extraction.items import extract_items
from onionlab.crawler.items import Entity
from tests.support.site_pages import fetch_site, world_and_truth

Occurrence = tuple[str, str, str]  # (type, value, page URL)


@dataclass
class EntityScore:
    """Precision and recall of one entity type; the sets keep examples for messages."""

    expected: set[Occurrence] = field(default_factory=set)
    found: set[Occurrence] = field(default_factory=set)
    decoys: set[Occurrence] = field(default_factory=set)

    @property
    def correct(self) -> set[Occurrence]:
        return self.found & self.expected

    @property
    def precision(self) -> float:
        return len(self.correct) / len(self.found) if self.found else 1.0

    @property
    def recall(self) -> float:
        return len(self.correct) / len(self.expected) if self.expected else 1.0

    @property
    def decoys_accepted(self) -> set[Occurrence]:
        return self.found & self.decoys

    def summary(self, examples: int = 3) -> dict[str, Any]:
        """The figures, with a few missed, spurious and accepted-decoy occurrences."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "expected": len(self.expected),
            "found": len(self.found),
            "decoys_accepted": len(self.decoys_accepted),
            "missed": sorted(self.expected - self.found)[:examples],
            "spurious": sorted(self.found - self.expected)[:examples],
        }


class _Errors:
    """A Scrapy-stats stand-in that records plugin errors (``plugins/<name>/errors``)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.counts[key] = self.counts.get(key, 0) + count


def plugin_manager(modules: Iterable[ModuleType]) -> pluggy.PluginManager:
    """A plugin manager with onionlab's hooks and only ``modules`` registered."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for module in modules:
        manager.register(module, name=module.__name__.rsplit(".", 1)[-1])
    return manager


def _occurrences(entries: Iterable[dict[str, Any]], types: set[str]) -> set[Occurrence]:
    return {
        (entry["type"], entry["value"], url)
        for entry in entries
        if entry["type"] in types
        for url in entry["pages"]
    }


def extracted_entities(seed: int, modules: Iterable[ModuleType]) -> list[Entity]:
    """Every ``Entity`` the plugins extract from every truth page of the world of ``seed``."""
    _, truth = world_and_truth(seed)
    manager = plugin_manager(modules)
    errors = _Errors()
    entities: list[Entity] = []
    for service in truth["services"]:
        for response in fetch_site(seed, service["name"]).values():
            items = extract_items(manager, response, errors)
            entities += [item for item in items if isinstance(item, Entity)]
    assert not errors.counts, f"plugins raised: {errors.counts}"
    return entities


def score_entities(
    seed: int, modules: Iterable[ModuleType], types: Iterable[str]
) -> dict[str, EntityScore]:
    """Occurrence-level scores of the plugin ``modules`` per entity type in ``types``."""
    _, truth = world_and_truth(seed)
    types = set(types)
    scores = {kind: EntityScore() for kind in types}
    for kind, value, url in _occurrences(truth["identifiers"], types):
        scores[kind].expected.add((kind, value, url))
    for kind, value, url in _occurrences(truth["decoys"], types):
        scores[kind].decoys.add((kind, value, url))
    for entity in extracted_entities(seed, modules):
        if entity.type in types:
            scores[entity.type].found.add((entity.type, entity.value, entity.url))
    return scores
