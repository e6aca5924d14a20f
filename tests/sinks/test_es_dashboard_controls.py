"""Every dashboard control filters its panels meaningfully, checked on real documents.

Kibana applies a control's selection (a phrase filter on its field) to every panel of the
dashboard, and a document without the field never matches it (the field is mapped on every
index, so ``courier:ignoreFilterIfFieldNotInIndex`` does not help). A panel whose documents
lack a control's field is therefore blanked by any choice in that control. The known crawl,
with vendors, wallets and an identity on every site, is indexed into the real node; then each
panel's own query (Lens layer or saved search, from kibana/objects/) is run with each
control's field required, and (for the site controls) with each site chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from onionlab.crawler.items import Entity, Item, Page, Vendor, VendorIdentity
from onionlab.crawler.sinks.elastic.load import load_run_dir
from tests.support.dashboards import Control, Panel, dashboards, kql_to_lucene
from tests.support.known_crawl import known_items, known_services, write_run


def every_kind_on_every_site() -> list[Item]:
    """The known crawl, plus a vendor with a key and a BTC address on each site, contacts
    among the identifiers, and one identity whose members are on every site."""
    items = known_items()
    sites = sorted({item.site for item in items if isinstance(item, Page)})
    for number, site in enumerate(sites):
        btc = f"bc1qvendor{number:030d}"
        items.append(
            Vendor(site, f"seller{number}", f"http://{site}/v/seller", f"{number:040X}", [btc])
        )
        items.append(Entity("email", f"seller{number}@example.org", f"http://{site}/v", site))
    items.append(
        VendorIdentity(
            "pgp:0000000000000000000000000000000000000000",
            members=[{"site": site, "handle": f"seller{n}"} for n, site in enumerate(sites)],
            handles=[f"seller{n}" for n in range(len(sites))],
            wallets=[{"type": "btc", "value": "bc1qvendor" + "0" * 30}],
            contacts=[{"type": "email", "value": "seller0@example.org"}],
        )
    )
    return items


@pytest.fixture
def indexed(es: Elasticsearch, tmp_path: Path) -> Elasticsearch:
    items = every_kind_on_every_site()
    run = write_run(tmp_path, items, site_services=known_services(items))
    assert load_run_dir(es, run).bulk.failures == []
    es.indices.refresh(index="onionlab-*")
    return es


def count(es: Elasticsearch, panel: Panel, *also: dict[str, Any]) -> int:
    query = {"query_string": {"query": kql_to_lucene(panel.query)}}
    body = {"bool": {"filter": [query, *also]}}
    return es.count(index=panel.alias, query=body)["count"]


def values(es: Elasticsearch, control: Control) -> list[str]:
    """What the control offers: the field's values in the control's own data view."""
    aggs = {"v": {"terms": {"field": control.field, "size": 100}}}
    answer = es.search(index=control.alias, size=0, aggs=aggs)
    return [bucket["key"] for bucket in answer["aggregations"]["v"]["buckets"]]


def test_no_control_blanks_a_panel_whose_documents_lack_its_field(indexed: Elasticsearch) -> None:
    blanked = []
    for dashboard in dashboards():
        for panel in dashboard.panels:
            assert count(indexed, panel) > 0, f"{dashboard.id}: {panel.name} shows nothing"
            for control in dashboard.controls:
                with_field = count(indexed, panel, {"exists": {"field": control.field}})
                if not with_field:
                    blanked.append(
                        f"{dashboard.id}: control {control.title!r} ({control.field}) "
                        f"blanks {panel.name} ({panel.alias}: no document has {control.field})"
                    )
    assert not blanked, "\n".join(blanked)


def test_choosing_a_site_keeps_the_identities_with_a_member_on_it(indexed: Elasticsearch) -> None:
    """A site filter means "on this site" on every panel: an identity is on the sites of its
    members, so it must be kept when one of them is chosen."""
    missed = []
    for dashboard in dashboards():
        for control in (c for c in dashboard.controls if c.field == "site_name"):
            for site in values(indexed, control):
                for panel in dashboard.panels:
                    kept = count(indexed, panel, {"term": {"site_name": site}})
                    on_site = count(
                        indexed,
                        panel,
                        {
                            "bool": {
                                "should": [
                                    {"term": {"site_name": site}},
                                    {"term": {"members.site_name": site}},
                                ]
                            }
                        },
                    )
                    if kept != on_site:
                        missed.append(f"{dashboard.id}: Site={site}: {panel.name} {kept}/{on_site}")
    assert not missed, "\n".join(missed)
