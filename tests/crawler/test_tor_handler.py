"""The Tor download handler against a recording SOCKS5 server: names unresolved, circuits
isolated per onion, Tor's error codes retried or not, nothing direct, no proxy headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

GOOD = "a" * 55 + "d.onion"
OTHER = "b" * 55 + "d.onion"
BAD_ADDRESS = "c" * 55 + "d.onion"  # answered with Tor's F6 (invalid onion address)
NOT_PUBLISHED = "e" * 55 + "d.onion"  # answered with Tor's F0 (descriptor not found)


def run_cli(
    args: list[str], env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "onionlab", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("data")
    with LinkedSite(pages=12) as good, LinkedSite(pages=3) as other:
        routes = {GOOD: good.port, OTHER: other.port}
        errors = {BAD_ADDRESS: 0xF6, NOT_PUBLISHED: 0xF0}
        with FakeTorSocks(routes=routes, errors=errors) as socks:
            # OTHER is given with an explicit port: links on it must still be followed.
            urls = [f"http://{h}/" for h in (GOOD, BAD_ADDRESS, NOT_PUBLISHED)]
            urls.append(f"http://{OTHER}:8080/")
            urls.append("http://example.com/")
            result = run_cli(
                [
                    "crawl",
                    "--socks",
                    f"127.0.0.1:{socks.port}",
                    "--data-dir",
                    str(data),
                    "--json",
                    *urls,
                ],
                # An environment proxy must be ignored, and its credentials never sent.
                env_extra={
                    "http_proxy": "http://user:secret@127.0.0.1:9/",
                    "HTTPS_PROXY": "http://user:secret@127.0.0.1:9/",
                },
            )
            assert result.returncode == 0, result.stderr
            return {
                "summary": json.loads(result.stdout),
                "records": socks.records,
                "site_requests": good.requests + other.requests,
            }


def test_every_connect_sends_the_onion_name_unresolved(crawl: dict) -> None:
    records = crawl["records"]
    assert records, "nothing went through the SOCKS server"
    assert {r.atyp for r in records} == {3}, "a destination was sent as an IP address"
    assert all(r.host.endswith(".onion") for r in records)


def test_each_onion_gets_its_own_circuit_username(crawl: dict) -> None:
    assert all(r.username == r.host for r in crawl["records"])


def test_all_pages_of_both_sites_are_fetched(crawl: dict) -> None:
    summary = crawl["summary"]
    assert summary["items"]["page"] == 12 + 3
    assert summary["pages"] == 12 + 3


def test_clearnet_host_is_refused_and_counted(crawl: dict) -> None:
    summary = crawl["summary"]
    assert summary["refused_non_onion"] == 1
    assert all(r.host != "example.com" for r in crawl["records"])


def test_permanent_tor_error_is_not_retried(crawl: dict) -> None:
    attempts = [r for r in crawl["records"] if r.host == BAD_ADDRESS]
    assert len(attempts) == 1
    assert crawl["summary"]["errors_by_kind"]["SocksPermanentError"] == 1


def test_transient_tor_error_is_retried_then_reported(crawl: dict) -> None:
    attempts = [r for r in crawl["records"] if r.host == NOT_PUBLISHED]
    assert len(attempts) == 1 + 4  # RETRY_TIMES = 4
    assert crawl["summary"]["errors_by_kind"]["SocksTransientError"] == 1


def test_failures_are_written_to_the_run_directory(crawl: dict) -> None:
    errors = Path(crawl["summary"]["run_dir"], "errors.ndjson").read_text().splitlines()
    failed = {json.loads(line)["url"] for line in errors}
    assert failed == {f"http://{BAD_ADDRESS}/", f"http://{NOT_PUBLISHED}/", "http://example.com/"}


def test_no_proxy_header_or_credential_reaches_a_site(crawl: dict) -> None:
    for _path, headers in crawl["site_requests"]:
        lowered = {k.lower(): v for k, v in headers.items()}
        assert "proxy-authorization" not in lowered
        assert not any("secret" in v for v in lowered.values())


def test_a_port_that_is_not_tor_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with LinkedSite() as not_tor:
        result = run_cli(
            [
                "crawl",
                "--socks",
                f"127.0.0.1:{not_tor.port}",
                "--data-dir",
                str(tmp_path),
                f"http://{GOOD}/",
            ]
        )
    assert result.returncode == 3
    assert "not a Tor SOCKS port" in result.stderr


def test_a_closed_socks_port_says_how_to_start_the_lab(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_cli(
        ["crawl", "--socks", f"127.0.0.1:{port}", "--data-dir", str(tmp_path), f"http://{GOOD}/"]
    )
    assert result.returncode == 3
    assert "onionlab up" in result.stderr


def test_a_socks_host_name_is_refused(tmp_path: Path) -> None:
    result = run_cli(
        ["crawl", "--socks", "localhost:9050", "--data-dir", str(tmp_path), f"http://{GOOD}/"]
    )
    assert result.returncode == 2
    assert "must be an IP address" in result.stderr
