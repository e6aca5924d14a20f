"""A synthetic crawl written as a real run directory, for the Elasticsearch tests.

Deterministic (one ``random.Random(seed)``): pages, market and city-shop listings, vendors,
identifiers reused across sites, page failures and per-site liveness, written exactly as the
crawler writes them (``items.ndjson`` through the items' own ``doc_id``/``to_doc``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from onionlab.crawler.items import Entity, Item, Listing, Page, Vendor, VendorIdentity
from onionlab.crawler.runs.rundir import RunDir, index_for

SUBSTANCES = ("Cocaine", "MDMA", "Cannabis herb", "Methamphetamine")
CITIES = ("Moscow", "Kazan", "Almaty", "Minsk")
COUNTRIES = ("Netherlands", "Germany", "United Kingdom")
STATS_START = "2026-11-22 15:31:36.245940+00:00"


def _host(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(56)) + ".onion"


def known_items(seed: int = 7, listings: int = 120) -> list[Item]:
    """Items of three market sites and one city shop; some written twice (re-crawled pages)."""
    rng = random.Random(seed)
    markets = [_host(rng) for _ in range(3)]
    shop = _host(rng)
    items: list[Item] = []
    for site in [*markets, shop]:
        for path in ("", "listings", "vendors"):
            url = f"http://{site}/{path}"
            items.append(Page(url, site, 200, f"{path or 'home'} page", "text/html; charset=utf-8"))
    for number in range(listings):
        in_shop = number % 3 == 0
        site = shop if in_shop else rng.choice(markets)
        weight = rng.choice(("0.5", "1", "2", "3.5"))
        price = f"{rng.randint(10, 400)}.{rng.randint(0, 99):02d}"
        per_gram = f"{float(price) / float(weight):.4f}"
        extra = (
            {"city": rng.choice(CITIES), "district": "Центральный", "shop": "Shop One"}
            if in_shop
            else {"ships_to": "Europe"}
        )
        items.append(
            Listing(
                site=site,
                listing_id=f"L{number}",
                url=f"http://{site}/item/L{number}",
                title=f"Listing {number}",
                vendor=f"vendor{number % 5}",
                category="Drugs",
                substance=rng.choice(SUBSTANCES),
                weight_g=weight,
                price_usd=price,
                ships_from=None if in_shop else rng.choice(COUNTRIES),
                unit="g",
                price_per_unit_usd=per_gram,
                extra=extra,
            )
        )
    for number in range(6):
        items.append(
            Vendor(
                markets[number % 3], f"vendor{number}", f"http://{markets[number % 3]}/v/{number}"
            )
        )
    shared = ["bc1q" + "".join(rng.choice("023456789acdefgh") for _ in range(38)) for _ in range(4)]
    for number, value in enumerate(shared):
        for site in [*markets, shop][: number + 1]:  # value n appears on n+1 sites
            for page in ("listings", "vendors"):
                items.append(Entity("btc", value, f"http://{site}/{page}", site, "pay to"))
    items.append(
        VendorIdentity(
            "id-1",
            members=[{"site": markets[0], "handle": "vendor0"}, {"site": shop, "handle": "v0"}],
            handles=["vendor0", "v0"],
        )
    )
    items.extend(rng.sample(items, 15))  # re-written items: the run dir keeps both lines
    return items


def write_run(
    root: Path,
    items: list[Item],
    name: str = "20261122-153136",
    *,
    started: str = STATS_START,
    site_services: dict[str, list[str]] | None = None,
    states: Mapping[int, str] | None = None,
) -> Path:
    """Write ``items`` and a few failures and liveness records as the run directory ``name``.

    ``started`` is the crawl's start (``stats.json``); the liveness times follow it (first
    seen 1 s later, last seen 14 s, last attempt 19 s). ``site_services`` (lab service name →
    hosts), when given, goes into ``config.json`` as a crawl of the lab writes it. ``states``
    gives the liveness state of sites by their position in sorted order (default: the fourth
    is ``gone``); the others are ``up``.
    """
    run = RunDir(root / name)
    run.path.mkdir(parents=True)
    if site_services is not None:
        urls = [f"http://{hosts[0]}/" for hosts in site_services.values()]
        run.write_json(
            run.config,
            {"start_urls": urls, "run_dir": str(run.path), "site_services": site_services},
        )
    with run.items.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps({"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}))
            out.write("\n" + json.dumps(item.to_doc(), ensure_ascii=False, sort_keys=True) + "\n")
    sites = sorted({item.site for item in items if isinstance(item, Page)})
    failures = [
        {"url": f"http://{sites[0]}/a", "kind": "timeout", "message": "took too long"},
        {"url": f"http://{sites[0]}/b", "kind": "timeout", "message": "took too long"},
        {"url": f"http://{sites[1]}/c", "kind": "tor_F0", "message": "onion not found"},
    ] if len(sites) > 1 else []  # fmt: skip
    run.errors.write_text("".join(json.dumps(f) + "\n" for f in failures))
    start = datetime.fromisoformat(started)

    def after(seconds: int) -> str:
        return (start + timedelta(seconds=seconds)).isoformat(timespec="seconds")

    states = {3: "gone"} if states is None else states
    liveness = {
        site: {
            "first_seen": after(1),
            "last_seen": after(14),
            "last_attempt": after(19),
            "responses": 10 + i,
            "failures": {"timeout": i} if i else {},
            "consecutive_failures": 0,
            "gone_at": after(19) if states.get(i) == "gone" else None,
            "state": states.get(i, "up"),
        }
        for i, site in enumerate(sites)
    }
    (run.path / "sites.json").write_text(json.dumps(liveness))
    run.write_json(run.stats, {"start_time": started, "finish_reason": "finished"})
    return run.path


def known_services(items: list[Item]) -> dict[str, list[str]]:
    """Lab service names for the sites of :func:`known_items`: ``market-1``… and ``city-shop``.

    The shop is the site whose listings carry a city; each service's list holds its host.
    """
    shops = {i.site for i in items if isinstance(i, Listing) and "city" in i.extra}
    markets = sorted({i.site for i in items if isinstance(i, Page)} - shops)
    services = {f"market-{n}": [host] for n, host in enumerate(markets, 1)}
    services |= {"city-shop": sorted(shops)}
    return services


def latest_docs(run_dir: Path) -> dict[tuple[str, str], dict]:
    """``{(alias, id): document}`` from ``items.ndjson``, the last write of each id winning."""
    docs: dict[tuple[str, str], dict] = {}
    for action, doc in RunDir(run_dir).iter_docs():
        target = action["index"]
        docs[(target["_index"], target["_id"])] = doc
    return docs
