"""The Tor layer against real tor processes of the lab's private network: a crawl that
survives its client tor restarting, and the stem manager launching its own tor, waiting
for bootstrap, checking the SOCKS port and rate-limiting NEWNYM. Nothing here is mocked."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from onionlab.crawler.tor.check import check_socks_is_tor
from onionlab.crawler.tor.manager import BootstrapStatus, TorController, launch_config
from onionlab.lab.controller import Lab
from onionlab.lab.tornet.ports import free_ports
from onionlab.lab.tornet.probe import http_get_via_socks

pytestmark = [pytest.mark.tor, pytest.mark.slow]

RESTART_SITES = ("forum", "shop-ru", "bazaar")  # the largest sites: the crawl lasts long enough
RESTART_AFTER_PAGES = 150
DOWN_FOR = 3.0


def _page_count(data: Path) -> int:
    runs = sorted((data / "runs").glob("*/items.ndjson")) if (data / "runs").exists() else []
    if not runs:
        return 0
    return runs[-1].read_text(errors="replace").count('"_index": "onionlab-pages"')


@pytest.fixture(scope="module")
def restarted_crawl(lab: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Crawl three lab sites through the lab's client tor and restart that tor mid-crawl."""
    data = tmp_path_factory.mktemp("restart")
    services = {s["name"]: s for s in lab["state"]["services"]}
    urls = [services[name]["url"] for name in RESTART_SITES]
    socks = f"127.0.0.1:{lab['state']['socks']['port']}"
    crawl = subprocess.Popen(
        [sys.executable, "-m", "onionlab", "crawl", "--json", "--no-score",
         "--socks", socks, "--data-dir", str(data), "--max-seconds", "240", *urls],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _page_count(data) < RESTART_AFTER_PAGES:
            assert crawl.poll() is None, crawl.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the crawl did not get going"
            time.sleep(0.2)
        pages_before = _page_count(data)
        bootstrap_s = Lab().restart_tor(data_dir=lab["lab_dir"], down_for=DOWN_FOR)
        out, errors = crawl.communicate(timeout=300)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert crawl.returncode == 0, errors[-3000:]
    summary = json.loads(out)
    run = Path(summary["run_dir"])
    return {
        "summary": summary,
        "pages_before": pages_before,
        "bootstrap_s": bootstrap_s,
        "stats": json.loads((run / "stats.json").read_text()),
        "pages": {
            json.loads(line)["url"]
            for line in (run / "items.ndjson").read_text().splitlines()[1::2]
            if '"kind": "page"' in line and '"status": 200' in line
        },
        "expected": {
            url
            for url in lab["truth"]["pages"]
            if any(url.startswith(services[name]["url"]) for name in RESTART_SITES)
        },
    }


def test_a_crawl_survives_its_tor_restarting(restarted_crawl: dict[str, Any]) -> None:
    summary, stats = restarted_crawl["summary"], restarted_crawl["stats"]
    assert restarted_crawl["pages_before"] < len(restarted_crawl["expected"])  # truly mid-crawl
    assert summary["finish_reason"] == "finished"
    assert summary["errors"] == 0, summary["errors_by_kind"]
    assert restarted_crawl["expected"] <= restarted_crawl["pages"]  # nothing lost
    assert stats["onionlab/tor/outages"] >= 1  # the outage was seen and held, not failed
    assert stats.get("onionlab/tor/gave_up", 0) == 0
    print(
        f"restart after {restarted_crawl['pages_before']} pages; client bootstrapped again "
        f"in {restarted_crawl['bootstrap_s']:.1f} s; outage "
        f"{stats.get('onionlab/tor/outage_seconds', 0)} s; "
        f"{len(restarted_crawl['pages'])} pages"
    )


def test_the_lab_client_answers_again_after_the_restart(
    restarted_crawl: dict[str, Any], lab: dict[str, Any]
) -> None:
    state = json.loads((lab["lab_dir"] / "lab.json").read_text())
    assert state["pids"]["tor"] != lab["state"]["pids"]["tor"]  # lab.json knows the new pid
    url = lab["state"]["services"][0]["url"]
    status, _ = http_get_via_socks("127.0.0.1", state["socks"]["port"], url, timeout=30)
    assert status == 200


def _lab_client_options(lab: dict[str, Any]) -> dict[str, str | list[str]]:
    """The private network's settings from the lab client's torrc (never the public Tor)."""
    client = next(n for n in lab["state"]["tor"]["nodes"] if n["role"] == "client")
    options: dict[str, str | list[str]] = {"DirAuthority": []}
    for line in Path(client["torrc"]).read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "DirAuthority":
            options["DirAuthority"].append(value)  # type: ignore[union-attr]
        elif key in ("TestingTorNetwork", "UseDefaultFallbackDirs", "ClientUseIPv6"):
            options[key] = value
    assert options["TestingTorNetwork"] == "1" and len(options["DirAuthority"]) >= 3
    return options


def test_the_manager_launches_tor_waits_for_bootstrap_and_rate_limits_newnym(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    socks_port, control_port = free_ports(2)
    config = launch_config(socks_port, control_port, tmp_path / "tor", _lab_client_options(lab))
    seen: list[BootstrapStatus] = []
    started = time.monotonic()
    with TorController.launch(config, timeout=90) as tor:
        status = tor.wait_bootstrapped(seen.append, timeout=90)
        bootstrap_s = time.monotonic() - started
        assert status.done and seen[-1].progress == 100
        assert [s.progress for s in seen] == sorted(s.progress for s in seen)
        assert tor.get_listeners() == [("127.0.0.1", socks_port)]
        check_socks_is_tor("127.0.0.1", socks_port)  # raises unless the port is Tor's
        url = lab["state"]["services"][0]["url"]
        code, _ = http_get_via_socks("127.0.0.1", socks_port, url, timeout=60)
        assert code == 200
        first, second = tor.newnym(), tor.newnym()
        assert first.sent
        assert not second.sent and second.wait > 0  # Tor's NEWNYM rate limit
        process = tor.process
    assert process is not None and process.poll() is not None  # closing stopped our tor
    print(f"launched tor bootstrapped in {bootstrap_s:.1f} s; NEWNYM wait {second.wait}")
