"""Scoring against ground truth: a listing counts only when every field is right."""

from __future__ import annotations

import json
from pathlib import Path

from onionlab.crawler.items import Listing, Page
from onionlab.crawler.runs.rundir import RunDir, index_for
from onionlab.crawler.scoring import evaluate

ONION = "m" * 55 + "d.onion"


def truth_listing(listing_id: str, **overrides: str) -> dict:
    listing = {
        "site": "market",
        "listing_id": listing_id,
        "url": f"http://{ONION}/listing/{listing_id}",
        "title": f"t{listing_id}",
        "vendor": "v",
        "category": "c",
        "substance": "s",
        "weight_g": "1",
        "price_usd": "10.00",
        "price_btc": "0.00010000",
        "ships_from": "NL",
    }
    listing.update(overrides)
    return listing


def write_run(path: Path, items: list) -> RunDir:
    run = RunDir(path)
    with run.items.open("w") as out:
        for item in items:
            out.write(json.dumps({"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}))
            out.write("\n" + json.dumps(item.to_doc()) + "\n")
    return run


def as_item(listing: dict) -> Listing:
    fields = {k: v for k, v in listing.items() if k != "site"}
    return Listing(site=ONION, **fields)


def test_precision_and_recall(tmp_path: Path) -> None:
    truth = {
        "services": [{"name": "market", "onion": ONION}],
        "listings": [truth_listing(str(i)) for i in range(4)],
        "pages": [f"http://{ONION}/", f"http://{ONION}/a", f"http://{ONION}/b"],
    }
    crawled = [
        as_item(truth_listing("0")),
        as_item(truth_listing("1")),
        as_item(truth_listing("2", price_usd="11.00")),  # one wrong field: not correct
        as_item(truth_listing("99")),  # not in truth at all
        Page(url=f"http://{ONION}/", site=ONION, status=200),
        Page(url=f"http://{ONION.upper()}/a#top", site=ONION, status=200),
        Page(url=f"http://{ONION}/missing", site=ONION, status=404),
    ]
    result = evaluate(write_run(tmp_path, crawled), truth)
    listings = result["listings"]
    assert (listings["found"], listings["correct"], listings["expected"]) == (4, 2, 4)
    assert listings["precision"] == 0.5 and listings["recall"] == 0.5
    assert listings["fields"]["price_usd"] == round(2 / 3, 4)
    assert listings["fields"]["title"] == 1.0
    pages = result["pages"]
    assert (pages["found"], pages["correct"], pages["expected"]) == (2, 2, 3)


def test_a_rewritten_item_is_counted_once(tmp_path: Path) -> None:
    truth = {"services": [{"name": "market", "onion": ONION}], "listings": [truth_listing("0")]}
    crawled = [as_item(truth_listing("0", title="old")), as_item(truth_listing("0"))]
    listings = evaluate(write_run(tmp_path, crawled), truth)["listings"]
    assert listings["found"] == 1 and listings["precision"] == 1.0
