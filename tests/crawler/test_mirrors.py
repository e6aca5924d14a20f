"""A site that moves to its official mirror mid-crawl: detected, followed, nothing lost.

The mirror list is the dark.fail convention (``/mirrors.txt``, clearsigned). The crawl runs
through the recording SOCKS5 server: the site's main address answers a few CONNECTs, then
fails with Tor's onion errors, while its mirror (the same site behind another onion
address) keeps answering.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from crawler.mirrors import parse_mirror_list, with_host
from crawler.rundir import RunDir
from tests.crawler.test_liveness import VanishingErrors
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

MAIN = "q" * 55 + "d.onion"
MIRROR = "r" * 55 + "d.onion"
PAGES = 40
MAIN_ANSWERS = 8  # CONNECTs to the main address that get through before it moves

SIGNED = f"""-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

# Example Market - official mirrors. Anything else is phishing.
http://{MAIN}
- http://{MIRROR}/
http://example.com
-----BEGIN PGP SIGNATURE-----

iHUEARYIAB0WIQQ=
=abcd
-----END PGP SIGNATURE-----
"""


def test_a_signed_mirror_list_names_its_onion_hosts() -> None:
    listed = parse_mirror_list(SIGNED)
    assert listed.hosts == (MAIN, MIRROR)  # dash-escaped line read; clearnet line ignored
    assert listed.signed


def test_an_unsigned_list_is_read_and_said_to_be_unsigned() -> None:
    listed = parse_mirror_list(f"# mirrors\nhttp://{MIRROR.upper()}\nhttp://{MIRROR}\nnonsense\n")
    assert listed.hosts == (MIRROR,) and not listed.signed


def test_with_host_keeps_path_query_and_port() -> None:
    assert with_host(f"http://{MAIN}:8080/a?b=1", MIRROR) == f"http://{MIRROR}:8080/a?b=1"


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run_dir = tmp_path_factory.mktemp("moved")
    with LinkedSite(pages=PAGES, mirrors_txt=SIGNED) as site:
        errors = VanishingErrors({}, host=MAIN, after=MAIN_ANSWERS)
        with FakeTorSocks(routes={MAIN: site.port, MIRROR: site.port}) as socks:
            socks.config.errors = errors
            script = textwrap.dedent(
                f"""
                import json
                from pathlib import Path
                from crawler.runner import CrawlConfig, run_crawl
                config = CrawlConfig(start_urls=["http://{MAIN}/"], per_site_concurrency=2,
                                     socks="127.0.0.1:{socks.port}", progress=False,
                                     run_dir=Path({str(run_dir)!r}))
                print(json.dumps(run_crawl(config)))
                """
            )
            result = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
            )
            records = socks.records
    assert result.returncode == 0, result.stderr[-3000:]
    run = RunDir(run_dir)
    return {
        "summary": json.loads(result.stdout.strip().splitlines()[-1]),
        "sites": json.loads((run_dir / "sites.json").read_text()),
        "pages": [d["url"] for d in run.documents("page") if d["status"] == 200],
        "stats": json.loads(run.stats.read_text()),
        "connects": [r.host for r in records],
        "after_switch": errors.after_switch,
    }


def test_the_move_is_detected_and_reported(moved: dict[str, Any]) -> None:
    main = moved["sites"][MAIN]
    assert main["state"] == "moved" and main["moved_to"] == MIRROR
    assert main["mirrors"] == [MIRROR]  # learnt from the site's own mirrors.txt
    assert moved["sites"][MIRROR]["state"] == "up"
    assert moved["summary"]["sites"]["moved"] == {MAIN: MIRROR}
    assert moved["stats"]["onionlab/liveness/moved"] == 1


def test_the_crawl_goes_on_through_the_mirror_and_loses_nothing(moved: dict[str, Any]) -> None:
    expected = {f"http://{MAIN}/"} | {f"http://{MAIN}/p/{n}" for n in range(1, PAGES)}
    assert expected <= set(moved["pages"])  # every page, under the site's own URLs
    assert not [u for u in moved["pages"] if MIRROR in u]
    assert moved["summary"]["errors"] == 0, moved["summary"]["errors_by_kind"]
    assert moved["connects"].count(MIRROR) >= PAGES // 2
    assert moved["stats"]["onionlab/liveness/via_mirror"] >= PAGES // 2
    assert moved["after_switch"] < 40  # the dead address stops costing requests


def test_mirrors_known_from_the_lab_need_no_mirror_list() -> None:
    from crawler.liveness import LivenessRegistry
    from tests.crawler.test_liveness import _crawler

    registry = LivenessRegistry(_crawler({"ONIONLAB_MIRRORS": {MAIN: [MIRROR]}}))
    registry.answered(MAIN)
    assert registry.hosts[MAIN].mirrors == [MIRROR]
    for _ in range(5):
        registry.failed(MAIN, "tor_01")
    assert (registry.hosts[MAIN].state, registry.hosts[MAIN].moved_to) == ("moved", MIRROR)
