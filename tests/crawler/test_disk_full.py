"""A full disk mid-crawl: the crawl stops by itself, exits 6 (results not saved) saying what
was not saved and what to do, and ``--resume`` after space is freed completes to exactly the
run an uninterrupted crawl makes: the lab forum's 444 pages, every identifier, vendor and
vendor identity, nothing lost.

The run directory lives on a small tmpfs (mounted here: the tests run as root, as in CI)
that a ballast file fills up to a few hundred KB of the ~1.2 MB a forum crawl writes. No
Tor: the real lab forum behind the recording SOCKS server.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onionlab.crawler.runs.ledger import read_ledger
from onionlab.crawler.runs.rundir import RunDir
from tests.support.lab_sites import OPEN, crawl_cli, lab_sites
from tests.support.site_pages import site_truth, world_and_truth
from tests.support.socks5 import FakeTorSocks

TMPFS_SIZE = 4 * 1024 * 1024
FREE_AT_START = 400 * 1024  # a third of what the crawl writes: the disk fills mid-crawl


def _documents(run: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """kind → id → document (the last write wins), as every reader of a run sees it."""
    docs: dict[str, dict[str, dict[str, Any]]] = {}
    for action, doc in RunDir(run).iter_docs():
        docs.setdefault(doc["kind"], {})[action["index"]["_id"]] = doc
    return docs


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("fetched_at", "first_seen", "last_seen")}


def _free_bytes(path: Path) -> int:
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tmpfs of TMPFS_SIZE bytes (unmounted afterwards)."""
    mount = tmp_path_factory.mktemp("small-disk")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"this test mounts a tmpfs and must run as root: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    with lab_sites(tmp_path_factory.mktemp("lab"), OPEN, ("forum",)) as routes:
        yield routes


@pytest.fixture(scope="module")
def disk_full(
    forum: dict[str, int], small_disk: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A reference crawl of the forum; the same crawl on a disk that fills up; its resume."""
    ((onion, _port),) = forum.items()
    url = f"http://{onion}/"
    with FakeTorSocks(routes=forum) as socks:
        common = ("--json", "--no-score", "--socks", f"127.0.0.1:{socks.port}")
        reference = crawl_cli(*common, "--data-dir", str(tmp_path_factory.mktemp("ref")), url)
        assert reference.returncode == 0, reference.stderr[-3000:]
        ballast = small_disk / "ballast"
        ballast.write_bytes(b"\0" * (_free_bytes(small_disk) - FREE_AT_START))
        full = crawl_cli(*common, "--data-dir", str(small_disk / "data"), url)
        (run,) = list((small_disk / "data" / "runs").iterdir())
        pages_when_full = len(_documents(run).get("page", {}))
        close_when_full = read_ledger(run / "resume.ndjson").last_close
        ballast.unlink()  # space freed
        resumed = crawl_cli(*common, "--resume", str(run))
        return {
            "reference": reference,
            "reference_run": Path(json.loads(reference.stdout)["run_dir"]),
            "full": full,
            "pages_when_full": pages_when_full,
            "close_when_full": close_when_full,
            "resumed": resumed,
            "run": run,
        }


def test_a_full_disk_stops_the_crawl_with_exit_6_saying_what_to_do(disk_full: dict) -> None:
    full = disk_full["full"]
    assert full.returncode == 6, full.stderr[-3000:]
    assert "Traceback" not in full.stderr
    summary = json.loads(full.stdout)  # printed though summary.json could not be written
    assert summary["finish_reason"] == "results_not_saved"
    assert "No space left on device" in summary["not_saved"]["error"]
    assert summary["not_saved"]["records"]  # what was not written, counted
    assert f"onionlab crawl --resume {disk_full['run']}" in " ".join(full.stderr.split())
    assert 0 < disk_full["pages_when_full"] < 444  # it did stop mid-crawl
    assert disk_full["close_when_full"] != "finished"  # resumable


def test_resume_after_freeing_space_completes_to_444_pages(disk_full: dict) -> None:
    resumed = disk_full["resumed"]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads(resumed.stdout)
    assert summary["finish_reason"] == "finished"
    assert "not_saved" not in summary
    pages = _documents(disk_full["run"])["page"]
    _, truth = world_and_truth(1)
    expected = set(site_truth(truth, "forum")["pages"])
    assert len(pages) == 444
    assert {doc["url"] for doc in pages.values()} == expected


def test_nothing_is_lost_against_an_uninterrupted_crawl(disk_full: dict) -> None:
    got, reference = _documents(disk_full["run"]), _documents(disk_full["reference_run"])
    assert set(got) == set(reference)
    for kind in reference:
        assert set(got[kind]) == set(reference[kind]), kind  # same ids: pages, identifiers…
        if kind != "page":
            mismatched = [
                doc_id
                for doc_id, doc in reference[kind].items()
                if _comparable(got[kind][doc_id]) != _comparable(doc)
            ]
            assert mismatched == [], kind
    assert len(got["identifier"]) == len(reference["identifier"]) > 0
    assert len(got["vendor"]) == len(reference["vendor"]) == 10
    items_lines = RunDir(disk_full["run"]).items.read_text().splitlines()
    assert len(items_lines) % 2 == 0 and all(json.loads(line) for line in items_lines)
