"""Tests of the mock market site served by the lab's site server (a real subprocess).

Every page the ground truth lists must be served, a crawl from the home page must reach
exactly those pages, and each page must carry the fields and identifiers truth says.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from onionlab.lab.sites.market.render import group_fingerprint
from tests.support.html_extract import parse
from tests.support.site_app import crawl
from tests.support.site_pages import site_truth, world_and_truth

SEED = 3
REPO = Path(__file__).resolve().parents[2]


class Site:
    def __init__(self, port: int, truth: dict) -> None:
        self.port = port
        self.truth = truth
        self.onion = truth["services"][0]["onion"]

    def local(self, url: str) -> str:
        """Map a canonical onion URL to the loopback port (the Host header keeps the onion)."""
        parts = urlsplit(url)
        assert parts.hostname == self.onion
        query = f"?{parts.query}" if parts.query else ""
        return f"http://127.0.0.1:{self.port}{parts.path}{query}"

    async def fetch_all(self, urls: list[str]) -> dict[str, tuple[int, str, str]]:
        conn = aiohttp.TCPConnector(limit=20)
        async with aiohttp.ClientSession(connector=conn) as session:

            async def one(url: str) -> tuple[str, tuple[int, str, str]]:
                async with session.get(self.local(url), headers={"Host": self.onion}) as r:
                    return url, (r.status, r.headers.get("Content-Type", ""), await r.text())

            return dict(await asyncio.gather(*(one(u) for u in urls)))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    ready = tmp_path_factory.mktemp("serve") / "ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "onionlab.lab.sites.serve", "--seed", str(SEED), "--profile", "open",
         "--listen", "market=127.0.0.1:0", "--ready-file", str(ready)],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        assert info["pid"] == proc.pid
        host, port = info["sites"]["market"].rsplit(":", 1)
        assert host == "127.0.0.1"
        yield Site(int(port), site_truth(world_and_truth(SEED)[1], "market"))
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    assert rc == 0
    assert not ready.exists()


@pytest.fixture(scope="module")
def pages(site) -> dict[str, tuple[int, str, str]]:
    return asyncio.run(site.fetch_all(site.truth["pages"]))


def test_every_truth_page_is_served(site, pages):
    assert len(pages) == len(site.truth["pages"]) >= 90
    for url, (status, ctype, html) in pages.items():
        assert status == 200, url
        assert ctype == "text/html; charset=utf-8", url
        assert html.startswith("<!DOCTYPE html>")
        assert "<script" not in html.lower()


def test_crawl_from_home_reaches_exactly_the_truth_pages(site, pages):
    base = site.truth["services"][0]["url"].rstrip("/")
    by_path = {url.removeprefix(base): page for url, page in pages.items()}
    assert {base + path for path in crawl(by_path, root_relative=False)} == set(site.truth["pages"])


def test_listing_pages_carry_the_truth_fields(site, pages):
    for lst in site.truth["listings"]:
        x = parse(pages[lst["url"]][2])
        assert x.text["listing-title"] == [lst["title"]]
        assert x.text["listing-id"] == ["#" + lst["listing_id"]]
        assert x.attrs["listing"][0]["id"] == "listing-" + lst["listing_id"]
        vendor = x.text["vendor"][0]
        assert vendor.startswith(lst["vendor"] + " (")
        assert x.text["category"] == [lst["category"]]
        assert x.text["substance"] == [lst["substance"]]
        assert x.text["weight"] == [f"{lst['weight_g']} g"]
        assert x.text["usd"] == [f"${lst['price_usd']}"]
        assert x.text["btc"] == [f"{lst['price_btc']} BTC"]
        assert x.text["ships-from"] == [lst["ships_from"]]
        assert f"/vendor/{lst['vendor']}" in x.links


def test_vendor_pages_carry_key_and_addresses(site, pages):
    world, _ = world_and_truth(SEED)
    keys = {v.handle: v.pgp for v in world.services[0].vendors}
    for ven in site.truth["vendors"]:
        x = parse(pages[ven["url"]][2])
        assert x.text["vendor-handle"] == [ven["handle"]]
        block = x.text["pgp-key"][0]
        assert block.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        assert unescape(block) + "\n" == keys[ven["handle"]].armored
        fpr = x.text["fpr"][0]
        assert fpr.replace(" ", "") == ven["pgp_fingerprint"]
        assert x.text["btc-address"] == list(
            next(v.btc for v in world.services[0].vendors if v.handle == ven["handle"])
        )
        assert sorted(x.text["btc-address"]) == ven["btc"]
        mine = sorted(lst["listing_id"] for lst in site.truth["listings"]
                      if lst["vendor"] == ven["handle"])  # fmt: skip
        rows = sorted(a["data-id"] for a in x.attrs["listing-row"])
        assert rows == mine


def test_identifiers_appear_exactly_on_their_pages(site, pages):
    for ident in site.truth["identifiers"]:
        needle = ident["value"]
        if ident["type"] == "pgp_fingerprint":
            needle = group_fingerprint(needle)
        found = sorted(url for url, (_, _, html) in pages.items() if needle in html)
        assert found == ident["pages"], ident


def test_category_pagination_covers_each_category(site, pages):
    per_cat: dict[str, list[str]] = {}
    for lst in site.truth["listings"]:
        per_cat.setdefault(lst["category"], []).append(lst["listing_id"])
    assert any(len(ids) > 10 for ids in per_cat.values()), "no category needs pagination"
    base = site.truth["services"][0]["url"].rstrip("/")
    for cat in site.truth["categories"]:
        url, number, ids = f"{base}/category/{cat['slug']}", 1, []
        while True:
            x = parse(pages[url][2])
            assert x.text["cat-title"] == [cat["name"]]
            rows = [a["data-id"] for a in x.attrs.get("listing-row", [])]
            assert 1 <= len(rows) <= 10
            ids += rows
            assert x.text["current"] == [str(number)]
            if number > 1:
                assert x.attrs["prev"][0]["rel"] == "prev"
            nxt = x.attrs.get("next")
            if not nxt:
                break
            number += 1
            assert nxt[0]["href"] == f"/category/{cat['slug']}?page={number}"
            url = f"{base}{nxt[0]['href']}"
        assert sorted(ids) == sorted(per_cat[cat["name"]])


MISSING = (
    "/nope",
    "/listing/zzzzzzz",
    "/vendor/nobody",
    "/category/stimulants?page=99",
    "/category/stimulants?page=x",
    "/category/no-such-category",
)


def test_unknown_paths_are_404(site):
    async def go() -> list[tuple[int, str]]:
        async with aiohttp.ClientSession() as session:
            out = []
            for path in MISSING:
                async with session.get(f"http://127.0.0.1:{site.port}{path}") as r:
                    out.append((r.status, await r.text()))
            return out

    for status, html in asyncio.run(go()):
        assert status == 404
        assert "Page not found" in html


def test_fifty_concurrent_requests_complete_quickly(site):
    urls = [site.local(u) for u in site.truth["pages"][:50]]

    async def go() -> tuple[float, list[int]]:
        # One connection per request: 50 requests really are in flight together.
        conn = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=conn) as session:

            async def one(url: str) -> int:
                async with session.get(url) as r:
                    await r.read()
                    return r.status

            t0 = time.perf_counter()
            statuses = await asyncio.gather(*(one(u) for u in urls))
            return time.perf_counter() - t0, statuses

    elapsed, statuses = asyncio.run(go())
    assert statuses == [200] * 50
    assert elapsed < 2.0, f"50 concurrent requests took {elapsed:.2f}s"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "localhost", "::"])
def test_serve_refuses_non_loopback_hosts(host):
    spec = f"market=[{host}]:0" if ":" in host else f"market={host}:0"
    proc = subprocess.run(
        [sys.executable, "-m", "onionlab.lab.sites.serve", "--seed", "1", "--listen", spec],
        cwd=REPO, capture_output=True, text=True, timeout=30, env={**os.environ},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "loopback" in proc.stderr
