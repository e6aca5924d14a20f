"""``onionlab diff``: what changed between two crawls.

Two synthetic crawls with known differences (a price change, a vendor gone, a page new, an
address seen on one more site, a site gone), then an exit scam for real: the lab's market
and forum crawled, the market made to vanish with the lab's own control, crawled again.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from onionlab.crawler.items import Entity, Listing, Page, Vendor
from onionlab.crawler.runs.diff import diff_runs
from onionlab.crawler.runs.rundir import RunDir
from tests.support.cli import onionlab
from tests.support.known_crawl import known_items, write_run
from tests.support.lab_sites import OPEN, crawl_cli, lab_sites
from tests.support.socks5 import FakeTorSocks


def test_a_price_change_a_gone_vendor_a_new_page_and_a_reused_address(tmp_path: Path) -> None:
    items = known_items()
    listing = next(i for i in items if isinstance(i, Listing))
    vendor = next(i for i in items if isinstance(i, Vendor))
    address = next(i for i in items if isinstance(i, Entity) and i.type == "btc")
    other_site = next(i.site for i in items if isinstance(i, Page) and i.site != address.site)
    cheaper = dataclasses.replace(listing, price_usd="9.99", extra={**listing.extra, "stock": 3})
    second = [cheaper if i is listing else i for i in items if i is not vendor]
    second += [
        Page(f"http://{other_site}/new", other_site, 200, "new page"),
        dataclasses.replace(address, site=other_site, url=f"http://{other_site}/new"),
    ]
    first_run = write_run(tmp_path, items, "run-a", states={0: "up"})  # every site up
    second_run = write_run(tmp_path, second, "run-b", states={1: "gone"})
    result = diff_runs(RunDir(first_run), RunDir(second_run))
    listings = result["listings"]
    assert listings.new == [] and listings.gone == []
    [(label, fields)] = listings.changed
    assert label.startswith(listing.title)
    assert fields == {"price_usd": (listing.price_usd, "9.99"), "extra.stock": (None, 3)}
    assert result["vendors"].gone == [f"{vendor.handle} ({vendor.site})"]
    assert result["pages"].new == [f"http://{other_site}/new"] and not result["pages"].gone
    [(what, moved)] = result["addresses"].changed
    assert what == f"btc {address.value}"
    assert moved["sites"][1] == sorted({*moved["sites"][0], other_site})
    sites = result["sites"]
    assert [fields for _, fields in sites.changed] == [{"state": ("up", "gone")}]
    # the command says the same, as a table and as JSON
    shown = onionlab("diff", str(first_run), str(second_run))
    assert shown.returncode == 0, shown.stderr
    assert f"price_usd {listing.price_usd} → 9.99" in shown.stdout
    assert "vendors gone (1)" in shown.stdout and "state up → gone" in shown.stdout
    data = json.loads(onionlab("diff", str(first_run), str(second_run), "--json").stdout)
    assert data["listings"]["changed"][0]["fields"]["price_usd"] == {
        "was": listing.price_usd, "now": "9.99"
    }  # fmt: skip


def test_a_run_that_is_not_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    run = write_run(tmp_path, known_items(listings=3), "run")
    result = onionlab("diff", str(tmp_path / "a"), str(run))
    assert result.returncode == 7 and "not an onionlab run directory" in result.stderr


def test_an_exit_scam_between_two_crawls(tmp_path: Path) -> None:
    """The lab's market and forum, crawled; the market's exit scam (the lab's control); crawled
    again: every market listing and vendor is gone, the forum's are all still there."""
    from onionlab.lab.admin import _request

    sites = ("market", "forum")
    with lab_sites(tmp_path / "lab", OPEN, sites) as routes, FakeTorSocks(routes=routes) as socks:
        common = ("--json", "--no-score", "--socks", f"127.0.0.1:{socks.port}")
        urls = [f"http://{onion}/" for onion in routes]
        before = crawl_cli(*common, "--data-dir", str(tmp_path / "a"), *urls)
        assert before.returncode == 0, before.stderr[-2000:]
        (tmp_path / "lab" / "sites.ready.json").write_text(
            json.dumps({"admin_socket": str(tmp_path / "lab" / "a.sock")})
        )
        status, _ = _request(tmp_path / "lab", "POST", "/scam/market", 10)
        assert status == 200
        after = crawl_cli(*common, "--data-dir", str(tmp_path / "b"), *urls)
    first = RunDir(Path(json.loads(before.stdout)["run_dir"]))
    second = RunDir(Path(json.loads(after.stdout)["run_dir"]))
    market = next(onion for onion in routes if onion != _forum_host(first))
    result = diff_runs(first, second)
    market_listings = [d for d in first.documents("listing") if d["site"] == market]
    assert len(market_listings) > 50
    assert len(result["listings"].gone) == len(market_listings)
    assert result["listings"].new == [] and result["listings"].changed == []
    assert len(result["vendors"].gone) == len([d for d in first.documents("vendor")
                                               if d["site"] == market])  # fmt: skip
    assert not any(label.startswith(f"http://{market}") for label in result["pages"].new)
    # the market answered in the first crawl; in the second it never did
    assert [fields for _, fields in result["sites"].changed] == [{"state": ("up", "no answer")}]
    assert result["sites"].changed[0][0].startswith(market)
    shown = onionlab("diff", str(first.path), str(second.path))
    assert f"listings gone ({len(market_listings)})" in shown.stdout


def _forum_host(run: RunDir) -> str:
    """The forum's host: the site of the run's forum threads (``/t/`` pages)."""
    return next(d["site"] for d in run.documents("page") if "/t/" in d["url"])
