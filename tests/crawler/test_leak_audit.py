"""Leak test against the recording SOCKS server (fast; the real-Tor version is in tests/e2e).

Zero local lookups of onion names and connects only to the SOCKS port during a crawl; the
same harness catches a careless, direct crawl (positive control).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

ONION = "f" * 55 + "d.onion"


def audited_crawl(tmp_path: Path, socks_port: int, urls: list[str], control: bool) -> dict:
    log = tmp_path / ("control.json" if control else "audit.json")
    args = [sys.executable, "-m", "tests.support.audit_crawl", str(log)]
    if control:
        args.append("--direct-control")
    args += [
        "--",
        "crawl",
        "--json",
        "--socks",
        f"127.0.0.1:{socks_port}",
        "--data-dir",
        str(tmp_path / "data"),
        *urls,
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    audit = json.loads(log.read_text())
    audit["returncode"] = result.returncode
    audit["stdout"] = result.stdout
    audit["stderr"] = result.stderr
    return audit


def test_crawl_looks_up_no_name_and_connects_only_to_socks(tmp_path: Path) -> None:
    with LinkedSite(pages=8) as site, FakeTorSocks(routes={ONION: site.port}) as socks:
        audit = audited_crawl(tmp_path, socks.port, [f"http://{ONION}/"], control=False)
    assert audit["returncode"] == 0, audit["stderr"]
    assert json.loads(audit["stdout"])["pages"] == 8
    assert audit["lookups"] == []
    assert audit["connects"], "the audit hook saw no connection at all"
    assert {tuple(c) for c in audit["connects"]} == {("127.0.0.1", socks.port)}


def test_positive_control_a_direct_crawl_is_caught(tmp_path: Path) -> None:
    with LinkedSite(pages=2) as site, FakeTorSocks(routes={ONION: site.port}) as socks:
        direct = f"http://127.0.0.1:{site.port}/"
        audit = audited_crawl(tmp_path, socks.port, [f"http://{ONION}/", direct], control=True)
    assert ONION in audit["lookups"], "the onion name lookup went unnoticed"
    assert ["127.0.0.1", site.port] in audit["connects"], "the direct connect went unnoticed"
