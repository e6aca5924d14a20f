"""Render a lab site in-process and score the installed plugins on it (no Tor, no Scrapy run).

For plugin tests: every truth page of one service is fetched from its aiohttp app, turned
into a Scrapy ``HtmlResponse`` with its onion URL, passed through every plugin, and the
items are scored with ``onionlab.crawler.scoring`` exactly as a crawl would be. ``site_truth`` cuts
the ground truth down to one service. ``items_on_market``
and ``assert_adds_nothing_on_market`` check that a plugin stays silent on another layout.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from scrapy.http import HtmlResponse, TextResponse

from onionlab.crawler.extraction.items import extract_items
from onionlab.crawler.items import Item
from onionlab.crawler.pluginmanager import load_plugins
from onionlab.crawler.runs.rundir import RunDir, index_for
from onionlab.crawler.scoring import evaluate
from onionlab.lab.sites.registry import make_app
from onionlab.lab.world import build_world
from onionlab.lab.world.truth import ground_truth


@cache
def world_and_truth(seed: int) -> tuple[Any, dict[str, Any]]:
    world = build_world(seed)
    return world, ground_truth(world)


def site_truth(truth: dict[str, Any], name: str) -> dict[str, Any]:
    """The ground truth of service ``name`` alone (the world has several sites)."""
    service = next(s for s in truth["services"] if s["name"] == name)
    base = f"http://{service['onion']}/"
    return {
        **truth,
        "services": [service],
        "vendors": [v for v in truth["vendors"] if v["site"] == name],
        "listings": [x for x in truth["listings"] if x["site"] == name],
        "categories": [c for c in truth["categories"] if c["site"] == name],
        "identifiers": [
            {**i, "pages": [p for p in i["pages"] if p.startswith(base)]}
            for i in truth["identifiers"]
            if any(p.startswith(base) for p in i["pages"])
        ],
        "pages": [p for p in truth["pages"] if p.startswith(base)],
    }


def host(seed: int, name: str) -> str:
    """The onion host of service ``name`` in the world of ``seed``."""
    world, _ = world_and_truth(seed)
    return world.service(name).onion.lower()


@cache
def fetch_site(seed: int, name: str) -> dict[str, TextResponse]:
    """Every truth page of service ``name``, as Scrapy responses with their onion URLs.

    Cached: tests read the responses and must not change the returned dict.
    """
    world, truth = world_and_truth(seed)
    service = world.service(name)
    base = f"http://{service.onion}/"
    urls = [u for u in truth["pages"] if u.startswith(base)]

    async def run() -> dict[str, TextResponse]:
        client = TestClient(TestServer(make_app(world, service)))
        await client.start_server()
        try:
            out = {}
            for url in urls:
                resp = await client.get(url[len(base) - 1 :], headers={"Host": service.onion})
                body = await resp.read()
                ctype = resp.headers.get("Content-Type", "")
                cls = HtmlResponse if "html" in ctype else TextResponse
                out[url] = cls(url, status=resp.status, body=body, encoding="utf-8",
                               headers={"Content-Type": ctype})  # fmt: skip
            return out
        finally:
            await client.close()

    return asyncio.run(run())


def extract(responses: dict[str, TextResponse]) -> tuple[list[Item], dict[str, int]]:
    """Run every installed plugin over the pages; return the items and errors per plugin."""
    manager = load_plugins().manager
    errors: dict[str, int] = {}

    class Stats:
        def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
            errors[key] = errors.get(key, 0) + count

    items: list[Item] = []
    for response in responses.values():
        items.extend(extract_items(manager, response, Stats()))
    return items, errors


def score_site(seed: int, name: str, tmp_path: Path) -> dict[str, Any]:
    """Precision/recall of the installed plugins on service ``name`` (``by_site`` entries)."""
    _, truth = world_and_truth(seed)
    items, errors = extract(fetch_site(seed, name))
    assert not errors, f"plugins raised: {errors}"
    run = RunDir(tmp_path)
    with run.items.open("w") as out:
        for item in items:
            out.write(json.dumps({"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}))
            out.write("\n" + json.dumps(item.to_doc(), ensure_ascii=False) + "\n")
    scores = evaluate(run, truth)
    empty = {"precision": 1.0, "recall": 1.0, "found": 0, "correct": 0, "expected": 0}
    return {
        kind: scores[kind]["by_site"].get(name, empty) | {"fields": scores[kind].get("fields", {})}
        for kind in ("listings", "vendors", "pages")
    }


def items_on_market(plugin: ModuleType) -> list[Item]:
    """Every plugin's items on seed 1's market, where ``plugin`` must recognise no page."""
    pages = fetch_site(1, "market")
    assert all(plugin.onionlab_extract(page) is None for page in pages.values())
    items, errors = extract(pages)
    assert not errors
    assert items, "the market's own plugin should still find items there"
    return items


def assert_adds_nothing_on_market(plugin: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """``plugin`` is installed, and the market's items are the same without it."""
    name = plugin.__name__.rsplit(".", 1)[-1]
    [info] = [p for p in load_plugins().plugins if p.name == name]
    assert not info.error and info.hooks == ["onionlab_extract"]
    found = items_on_market(plugin)
    monkeypatch.setenv("ONIONLAB_DISABLE_PLUGINS", name)
    without, _ = extract(fetch_site(1, "market"))
    assert Counter(i.doc_id() for i in found) == Counter(i.doc_id() for i in without)
