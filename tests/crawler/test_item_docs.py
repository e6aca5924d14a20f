"""An item's document (onionlab.crawler.items.Item.to_doc) is what dataclasses.asdict gives,
without its cost: the same documents for every kind, copies not shared with the item."""

from __future__ import annotations

import json
from collections import namedtuple
from dataclasses import asdict, dataclass
from typing import Any

from onionlab.crawler.items import Entity, Item, Listing
from tests.support.known_crawl import known_items


def _asdict_doc(item: Item) -> dict[str, Any]:
    """The document as it was built before (asdict, None left out, kind)."""
    doc = {k: v for k, v in asdict(item).items() if v is not None}
    doc["kind"] = item.kind
    return doc


def _exact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr) + repr(type(value))


@dataclass
class _Point:
    x: float
    y: float


Pair = namedtuple("Pair", "a b")


def test_every_kind_gives_the_document_asdict_gave() -> None:
    items = known_items(listings=200)
    assert {item.kind for item in items} >= {"page", "listing", "vendor", "identifier"}
    for item in items:
        ours = item.to_doc()
        before = _asdict_doc(item)
        if isinstance(item, Entity) and hasattr(item, "entity_id"):
            before["entity_id"] = item.entity_id()  # Identifier adds it to the base document
        assert _exact(ours) == _exact(before), item


def test_odd_values_plugins_may_leave_in_extra_come_out_as_asdict_makes_them() -> None:
    extra = {
        "nested": {"list": [1, 2.5, True, None, "x"], "tuple": (1, "a")},
        "pair": Pair(1, [2]),
        "point": _Point(1.0, 2.0),
        "set": {3},
    }
    item = Listing(site="x.onion", listing_id="1", url="http://x.onion/a", title="t", extra=extra)
    ours, before = item.to_doc(), _asdict_doc(item)
    assert _exact(ours) == _exact(before)
    assert type(ours["extra"]["pair"]) is Pair and ours["extra"]["point"] == {"x": 1.0, "y": 2.0}
    assert type(ours["extra"]["nested"]["tuple"]) is tuple


def test_the_document_is_a_copy() -> None:
    item = Listing(
        site="x.onion", listing_id="1", url="http://x.onion/a", title="t", extra={"tags": ["a"]}
    )
    doc = item.to_doc()
    doc["extra"]["tags"].append("b")
    assert item.extra == {"tags": ["a"]}
    assert "vendor" not in doc and "price_usd" not in doc  # None fields are left out
