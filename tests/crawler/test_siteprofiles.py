"""Per-site crawl profiles: the file an instructor writes, its mistakes, and a real crawl
(through the recording SOCKS5 server) that obeys each site's plugins, limits and pacing."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from onionlab.crawler.runs.rundir import RunDir
from onionlab.crawler.sitepolicy import SiteProfileError, load_profiles, parse_profiles
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

SITE_A = "a" * 55 + "d.onion"
SITE_B = "b" * 55 + "d.onion"
MIRROR = "m" * 55 + "d.onion"
SERVICES = {"market": [SITE_A, MIRROR], "forum": [SITE_B]}
PLUGINS = ["market_listings", "forum_vendors", "lab_gate", "probe"]


def parse(text: str, **kwargs: Any):
    import tomllib

    kwargs.setdefault("services", SERVICES)
    kwargs.setdefault("known_plugins", PLUGINS)
    return parse_profiles(tomllib.loads(text), source="sites.toml", **kwargs)


# --- the file ----------------------------------------------------------------------------


def test_sites_inherit_the_defaults_and_override_key_by_key() -> None:
    profiles = parse(
        """
        [defaults]
        depth = 5
        deny = ["^/help/"]
        gate = ["lab_gate"]

        [sites.market]
        plugins = ["market_listings"]
        max_pages = 100
        """
    )
    market = profiles.for_host(SITE_A)
    assert market is profiles.for_host(MIRROR.upper())  # a service name covers its mirrors
    assert (market.depth, market.max_pages) == (5, 100)
    assert market.plugins.allows("market_listings") and not market.plugins.allows("probe")
    assert market.gate.allows("lab_gate") and not market.gate.allows("probe")
    assert market.admits_path("/help/faq") == "deny"
    other = profiles.for_host("c" * 55 + "d.onion")
    assert other.plugins.allows("probe") and other.depth == 5
    assert other.max_pages is None  # the crawl's per-site budget (ONIONLAB_SITE_MAX_PAGES)
    assert other.as_dict()["max_pages"] == 50_000
    assert parse("[defaults]\nmax_pages = 0").defaults.max_pages == 0  # explicitly none


def test_all_but_some_plugins() -> None:
    choice = parse('[sites.forum]\nplugins = ["*", "-probe"]').for_host(SITE_B).plugins
    assert choice.allows("forum_vendors") and not choice.allows("probe")


def test_allow_list_admits_only_what_matches() -> None:
    profile = parse('[sites.forum]\nallow = ["^/$", "^/p/"]').for_host(SITE_B)
    assert profile.admits_path("/p/3") is None
    assert profile.admits_path("/user/x") == "not_allowed"


def test_concurrency_and_delay_become_scrapy_download_slots() -> None:
    profiles = parse("[sites.market]\nconcurrency = 2\ndelay = 0.5\n[sites.forum]\ndepth = 1")
    slots = profiles.download_slots(default_concurrency=16)
    assert slots == {
        host: {"concurrency": 2, "delay": 0.5, "jitter": 0.0} for host in (SITE_A, MIRROR)
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sites.market]\ndeepth = 3", "[market] deepth: unknown setting"),
        ('[sites.market]\nplugins = ["marketlistings"]', "no plugin named 'marketlistings'"),
        ('[sites.market]\ndeny = ["(unclosed"]', "bad regular expression '(unclosed'"),
        ("[sites.shop]\ndepth = 1", "[sites.shop]: not an onion host and not a service"),
        ("[sites.market]\nmax_pages = -1", "expected a number ≥ 0"),
        ("[sites.market]\ndepth = 1.5", "expected a whole number"),
        ("[sites.market]\ndelay = inf", "expected a finite number, got inf"),
        ("[defaults]\ndelay = nan", "expected a finite number, got nan"),
        ("[sites.market]\ndelay = -0.5", "expected a number ≥ 0"),
        ("[sites.market]\ndelay = 99999999", "too large (at most 600)"),
        ("[defaults]\nconcurrency = 1000000", "too large (at most 1024)"),
        ("[sites.market]\nmax_pages = inf", "expected a finite number"),
        ("[defaults]\nhosts = []", "only sites have hosts"),
        ("[site.market]\ndepth = 1", "unknown table [site]"),
        (f'[sites.market]\n[sites."{SITE_A}"]', f"{SITE_A} already has the profile"),
    ],
)
def test_mistakes_name_the_file_and_the_key(text: str, expected: str) -> None:
    with pytest.raises(SiteProfileError) as error:
        parse(text)
    assert "sites.toml" in str(error.value)
    assert expected in str(error.value)


def test_lab_service_names_cover_their_mirrors_from_lab_json(tmp_path: Path) -> None:
    from onionlab.crawler.labstate import LAB_SCHEMA, LabState

    lab_json = tmp_path / "lab.json"
    mirror = {"onion": MIRROR, "url": f"http://{MIRROR}/", "local": "127.0.0.1:2"}
    lab_json.write_text(
        json.dumps(
            {
                "schema": LAB_SCHEMA,
                "seed": 1,
                "socks": {"host": "127.0.0.1", "port": 9},
                "truth": str(tmp_path / "truth.json"),
                "services": [
                    {"name": "market", "kind": "market", "onion": SITE_A.upper(),
                     "url": f"http://{SITE_A}/", "local": "127.0.0.1:1", "mirrors": [mirror]},
                ],
            }
        )
    )  # fmt: skip
    assert LabState.load(lab_json).site_hosts() == {"market": [SITE_A, MIRROR]}


def test_a_missing_or_broken_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SiteProfileError, match="no such site profile file"):
        load_profiles(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[sites\n")
    with pytest.raises(SiteProfileError, match="not valid TOML"):
        load_profiles(broken)


def test_the_cli_refuses_a_wrong_file_before_touching_tor(tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text('[sites.market]\nplugins = ["nope"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "onionlab", "crawl", "--socks", "127.0.0.1:9",
         "--sites", str(sites), "--data-dir", str(tmp_path), f"http://{SITE_A}/"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no plugin named 'nope'" in result.stderr
    assert "SOCKS" not in result.stderr  # stopped before checking Tor at all


# --- a real crawl obeys the profiles -------------------------------------------------------

PROBE = """
from urllib.parse import urlsplit
from onionlab import hookimpl
from onionlab.crawler.items import Listing

@hookimpl
def onionlab_extract(response):
    path = urlsplit(response.url).path
    return [Listing(site=urlsplit(response.url).hostname, listing_id=path, url=response.url,
                    title=path)]
"""

PROFILES = f"""
[defaults]
depth = 3

[sites."{SITE_A}"]
plugins = ["*", "-probe"]   # the probe extracts nothing here
max_pages = 4
deny = ["^/p/1$"]

[sites."{SITE_B}"]
concurrency = 1
delay = 0.25
"""


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("profiles")
    (tmp / "plugins").mkdir()
    (tmp / "plugins" / "probe.py").write_text(PROBE)
    (tmp / "sites.toml").write_text(PROFILES)
    env = {**os.environ, "ONIONLAB_PLUGINS_DIR": str(tmp / "plugins")}
    with (
        LinkedSite(pages=40) as a,
        LinkedSite(pages=40) as b,
        FakeTorSocks(routes={SITE_A: a.port, SITE_B: b.port}) as socks,
    ):
        result = subprocess.run(
            [sys.executable, "-m", "onionlab", "crawl", "--socks",
             f"127.0.0.1:{socks.port}", "--sites", str(tmp / "sites.toml"),
             "--data-dir", str(tmp / "data"), "--json", "--no-score",
             f"http://{SITE_A}/", f"http://{SITE_B}/"],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        run = RunDir(Path(summary["run_dir"]))
        return {
            "a": [path for path, _ in a.requests],
            "b": [path for path, _ in b.requests],
            "b_times": b.times,
            "listings": run.documents("listing"),
            "stats": json.loads(run.stats.read_text()),
        }


def test_a_site_stops_at_its_page_limit_and_never_requests_denied_urls(
    profiled: dict[str, Any],
) -> None:
    # /p/1 denied; then /, /p/2, /p/3, /p/4 are the first four pages the links reach.
    assert sorted(profiled["a"]) == ["/", "/p/2", "/p/3", "/p/4"]
    stats = profiled["stats"]
    assert stats["onionlab/site_limits/deny"] >= 1
    assert stats[f"onionlab/site_limits/max_pages/{SITE_A}"] >= 1


def test_depth_limit_applies_to_every_site(profiled: dict[str, Any]) -> None:
    # Page n links to n+1 and n+2: depth 3 from the home page reaches /p/6 at most.
    assert sorted(profiled["b"]) == sorted(["/", *(f"/p/{n}" for n in range(1, 7))])
    assert profiled["stats"]["onionlab/site_limits/depth"] >= 1


def test_only_the_profiled_plugins_extract_on_each_site(profiled: dict[str, Any]) -> None:
    sites = {doc["site"] for doc in profiled["listings"]}
    assert sites == {SITE_B}
    assert len(profiled["listings"]) == len(set(profiled["b"]))


def test_a_site_delay_spaces_its_requests(profiled: dict[str, Any]) -> None:
    times = sorted(profiled["b_times"])
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) >= 5
    # Scrapy's download slot sends them 0.25 s apart (concurrency 1). The site sees arrival
    # times: the first request also paid for opening the connection, so skip its gap.
    assert min(gaps[1:]) >= 0.2


def test_onionlab_sites_shows_what_each_site_gets(tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[defaults]\ndepth = 4\n[sites."{SITE_A}"]\nplugins = ["lab_gate"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "onionlab", "sites", str(sites), "--json",
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    defaults, site = json.loads(result.stdout)
    assert defaults["hosts"] == ["*"] and defaults["depth"] == 4
    assert site["hosts"] == [SITE_A] and site["plugins"] == ["lab_gate"] and site["depth"] == 4
    wrong = subprocess.run(
        [sys.executable, "-m", "onionlab", "sites", str(sites).replace(".toml", ".tml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert wrong.returncode == 2 and "no such site profile file" in wrong.stderr


def test_autothrottle_never_goes_under_a_site_delay() -> None:
    from scrapy.core.downloader import Slot
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from onionlab.crawler.extensions.throttle import OnionAutoThrottle

    crawler = get_crawler(
        settings_dict={
            "AUTOTHROTTLE_ENABLED": True,
            "DOWNLOAD_SLOTS": {SITE_B: {"concurrency": 1, "delay": 0.25}},
        }
    )
    throttle = OnionAutoThrottle(crawler)
    throttle.mindelay, throttle.maxdelay = 0.0, 30.0
    gentle, other = Slot(1, 0.25, 0.0), Slot(8, 0.5, 0.0)
    for _ in range(20):  # fast answers pull AutoThrottle's delay down towards the latency
        throttle._adjust_delay(gentle, 0.01, HtmlResponse(f"http://{SITE_B}/", body=b""))
        throttle._adjust_delay(other, 0.01, HtmlResponse(f"http://{SITE_A}/", body=b""))
    assert gentle.delay == 0.25
    assert other.delay < 0.02  # the other site speeds up as usual


@pytest.mark.parametrize("value", ["inf", "nan", "-1.0", "1e12"])
def test_onionlab_sites_and_crawl_refuse_a_delay_that_would_stall(
    tmp_path: Path, value: str
) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[sites."{SITE_A}"]\ndelay = {value}\n')
    for args in (
        ["sites", str(sites)],
        ["crawl", "--sites", str(sites), "--socks", "127.0.0.1:9", f"http://{SITE_A}/"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "onionlab", *args, "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 2, (args, result.stderr)
        said = " ".join(result.stderr.split())  # the message is wrapped to the terminal
        assert f"[{SITE_A}] delay: " in said
        assert "finite" in said or "≥ 0" in said or "too large" in said
        assert "Traceback" not in result.stderr


def test_defaults_delay_and_concurrency_apply_to_sites_without_a_table(tmp_path: Path) -> None:
    """``[defaults]`` pacing reaches every site, not only those with a table of their own
    (Scrapy's DOWNLOAD_SLOTS name hosts; there is no wildcard)."""
    (tmp_path / "sites.toml").write_text("[defaults]\nconcurrency = 1\ndelay = 0.3\n")
    with (
        LinkedSite(pages=8) as site,
        FakeTorSocks(routes={SITE_B: site.port}) as socks,
    ):
        result = subprocess.run(
            [sys.executable, "-m", "onionlab", "crawl", "--socks",
             f"127.0.0.1:{socks.port}", "--sites", str(tmp_path / "sites.toml"),
             "--data-dir", str(tmp_path / "data"), "--json", "--no-score",
             f"http://{SITE_B}/"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        times = sorted(site.times)
    assert result.returncode == 0, result.stderr[-3000:]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) >= 6
    assert min(gaps[1:]) >= 0.25  # 0.3 s apart, one at a time, no random jitter below it
