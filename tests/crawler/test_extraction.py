"""The item hooks driven over a whole run: every item comes back as it was written, and
what the link plugins derive is appended to the run like any other item."""

from __future__ import annotations

import json
from pathlib import Path

import pluggy

from onionlab import hookimpl
from onionlab.crawler import hookspecs
from onionlab.crawler.extraction.items import link_run
from onionlab.crawler.extraction.runitems import item_from_doc
from onionlab.crawler.items import Entity, Listing, Page, Vendor, VendorIdentity
from onionlab.crawler.runs.rundir import RunDir, index_for

HOST = "v" * 55 + "d.onion"
WRITTEN = [
    Page(url=f"http://{HOST}/", site=HOST, status=200),
    Listing(site=HOST, listing_id="7", url=f"http://{HOST}/l/7", title="MDMA 1g", extra={"a": 1}),
    Vendor(site=HOST, handle="Alice", url=f"http://{HOST}/v/alice", btc=["1abc"]),
    Entity(type="btc", value="1abc", url=f"http://{HOST}/v/alice", site=HOST, context="pay"),
]


class Recorder:
    """A link plugin that keeps what it was given and links every vendor into one person."""

    def __init__(self) -> None:
        self.seen: list = []

    @hookimpl
    def onionlab_link_items(self, items: list) -> list:
        self.seen = items
        vendors = [i for i in items if isinstance(i, Vendor)]
        members = [{"site": v.site, "handle": v.handle} for v in vendors]
        return [VendorIdentity(identity="btc:1abc", members=members)]


def test_every_kind_round_trips_through_its_run_document() -> None:
    for item in WRITTEN:
        assert item_from_doc(item.to_doc()) == item
    assert item_from_doc({"kind": "unknown"}) is None


def test_link_run_sees_every_item_and_appends_what_plugins_derive(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    with run.items.open("w") as out:
        for item in WRITTEN:
            out.write(json.dumps({"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}))
            out.write("\n" + json.dumps(item.to_doc()) + "\n")
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    recorder = Recorder()
    manager.register(recorder, name="recorder")

    written = link_run(manager, run)

    assert written == 1
    assert sorted(recorder.seen, key=repr) == sorted(WRITTEN[1:], key=repr)  # pages not linked
    [identity] = run.documents("vendor_identity")
    assert identity["members"] == [{"site": HOST, "handle": "Alice"}]
    assert run.count_documents()["vendor_identity"] == 1


def test_linking_plugins_get_the_runs_last_writes_read_from_disk(tmp_path: Path) -> None:
    """A resumed run writes some documents again: the plugins see each id once, its last
    write, as often as they iterate."""
    from onionlab.crawler.extraction.items import LINKED_KINDS
    from onionlab.crawler.extraction.runitems import RunItems

    renamed = Vendor(site=HOST, handle="Alice", url=f"http://{HOST}/v/alice", btc=["1xyz"])
    run = RunDir(tmp_path)
    with run.items.open("w") as out:
        for item in [*WRITTEN, renamed]:
            out.write(json.dumps({"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}))
            out.write("\n" + json.dumps(item.to_doc()) + "\n")
    items = RunItems(run, LINKED_KINDS)
    assert len(items) == 3
    assert list(items) == [WRITTEN[1], WRITTEN[3], renamed]  # in the order last written
    assert list(items) == list(items)
    assert renamed in items and WRITTEN[2] not in items
