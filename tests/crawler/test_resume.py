"""Resumable crawls: ``kill -9`` mid-crawl, ``crawl --resume``: no page lost, none fetched twice.

A 120-page linked site (each answer delayed a little, so the crawl lasts a few seconds) sits
behind the recording SOCKS5 server; the crawl runs as a subprocess of ``onionlab crawl`` and
is SIGKILLed after about 40 site requests. The rule asserted for "none fetched twice": no URL
whose page item was in ``items.ndjson`` at the kill is requested again, and every URL
requested twice was requested before the kill without its item being written (it was in
flight). That is the strongest statement possible: a request in flight at the kill may have
reached the site without its answer being recorded, so it has to be fetched again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from onionlab.crawler.runs.ledger import read_ledger, repair_items
from onionlab.crawler.runs.rundir import RunDir
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

ONION = "r" * 55 + "d.onion"
PAGES = 120
KILL_AFTER = 40


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "onionlab", "crawl", *args]


def _page_urls(run: Path) -> list[str]:
    return [doc["url"] for _, doc in RunDir(run).iter_docs() if doc.get("kind") == "page"]


def _paths(requests: list[tuple[str, dict[str, str]]]) -> list[str]:
    return [path for path, _ in requests]


def _url(path: str) -> str:
    return f"http://{ONION}{path}"


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("data")
    with (
        LinkedSite(pages=PAGES, delay=0.05) as site,
        FakeTorSocks(routes={ONION: site.port}) as socks,
    ):
        common = ["--json", "--socks", f"127.0.0.1:{socks.port}"]
        first = subprocess.Popen(
            _cli(*common, "--data-dir", str(data), _url("/")),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while len(site.requests) < KILL_AFTER and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()[1].decode()[-2000:]
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        time.sleep(0.3)  # let bytes already sent reach the site
        before_kill = _paths(site.requests)
        (run,) = list((data / "runs").iterdir())
        written_before = _page_urls(run)
        # A kill in the middle of a write: half a line at the end of each file.
        with RunDir(run).items.open("a") as items:
            items.write('{"index": {"_index": "onionlab-pages", "_id": "x"}}\n{"url": "ht')
        with (run / "resume.ndjson").open("a") as ledger:
            ledger.write('{"ev":"done","fp":"ab')
        resumed = subprocess.run(
            _cli(*common, "--resume", str(run)), capture_output=True, text=True, timeout=60
        )
        after = _paths(site.requests)
    return {
        "run": run,
        "first_rc": first.returncode,
        "before_kill": before_kill,
        "written_before": written_before,
        "resumed": resumed,
        "all_requests": after,
        "after_kill": after[len(before_kill) :],
    }


def test_the_first_crawl_was_killed_mid_crawl(killed_and_resumed: dict) -> None:
    assert killed_and_resumed["first_rc"] == -signal.SIGKILL
    assert KILL_AFTER <= len(killed_and_resumed["before_kill"]) < PAGES
    assert 0 < len(killed_and_resumed["written_before"]) < PAGES


def test_resume_completes_the_crawl(killed_and_resumed: dict) -> None:
    resumed = killed_and_resumed["resumed"]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads(resumed.stdout)
    assert summary["finish_reason"] == "finished"
    assert summary["run_dir"] == str(killed_and_resumed["run"])
    stats = json.loads((killed_and_resumed["run"] / "stats.json").read_text())
    assert stats["onionlab/resume/sessions"] == 2
    assert stats.get("onionlab/resume/rescheduled", 0) > 0


def test_the_summary_covers_the_whole_run(killed_and_resumed: dict) -> None:
    summary = json.loads((killed_and_resumed["run"] / "summary.json").read_text())
    assert summary["items"]["page"] == PAGES  # distinct pages of both sessions
    first, last = summary["sessions"]
    assert first == {"finish_reason": "interrupted"}  # killed: it left no summary
    assert last["finish_reason"] == "finished"
    assert last["items"]["page"] < PAGES  # the resumed session alone fetched the rest


def test_no_page_is_lost_and_no_page_item_is_written_twice(killed_and_resumed: dict) -> None:
    urls = _page_urls(killed_and_resumed["run"])
    expected = {_url("/")} | {_url(f"/p/{n}") for n in range(1, PAGES)}
    assert set(urls) == expected
    assert [u for u, n in Counter(urls).items() if n > 1] == []


def test_no_page_written_before_the_kill_is_fetched_again(killed_and_resumed: dict) -> None:
    written = set(killed_and_resumed["written_before"])
    again = [_url(p) for p in killed_and_resumed["after_kill"] if _url(p) in written]
    assert again == []
    # Every URL fetched twice was in flight at the kill: requested, its item not written.
    twice = {_url(p) for p, n in Counter(killed_and_resumed["all_requests"]).items() if n > 1}
    in_flight = {_url(p) for p in killed_and_resumed["before_kill"]} - written
    assert twice <= in_flight
    assert len(twice) <= 16  # at most the per-site concurrency


def test_items_are_appended_and_a_torn_last_line_is_cut(killed_and_resumed: dict) -> None:
    run = killed_and_resumed["run"]
    lines = RunDir(run).items.read_text().splitlines()
    assert len(lines) % 2 == 0
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert (
        _page_urls(run)[: len(killed_and_resumed["written_before"])]
        == (killed_and_resumed["written_before"])
    )
    assert read_ledger(run / "resume.ndjson").last_close == "finished"


def test_resuming_a_finished_run_does_nothing(killed_and_resumed: dict) -> None:
    run = killed_and_resumed["run"]
    before = RunDir(run).items.read_bytes()
    # No SOCKS server is listening any more: a resume that tried to crawl would fail.
    result = subprocess.run(
        _cli("--json", "--socks", "127.0.0.1:9", "--resume", str(run)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["resumed"] is False
    assert RunDir(run).items.read_bytes() == before


def test_resuming_a_missing_run_is_wrong_usage(tmp_path: Path) -> None:
    for target in (tmp_path / "nope", tmp_path):
        result = subprocess.run(
            _cli("--resume", str(target)), capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2
        assert "resume" in result.stderr


def test_a_graceful_stop_says_how_to_resume(tmp_path: Path) -> None:
    with (
        LinkedSite(pages=PAGES, delay=0.05) as site,
        FakeTorSocks(routes={ONION: site.port}) as socks,
    ):
        crawl = subprocess.Popen(
            _cli(
                "--json",
                "--socks",
                f"127.0.0.1:{socks.port}",
                "--data-dir",
                str(tmp_path),
                _url("/"),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while len(site.requests) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        crawl.send_signal(signal.SIGINT)
        _, stderr = crawl.communicate(timeout=30)
    (run,) = list((tmp_path / "runs").iterdir())
    assert f"resume with: onionlab crawl --resume {run}" in stderr
    assert read_ledger(run / "resume.ndjson").last_close == "shutdown"


def test_repair_cuts_torn_lines(tmp_path: Path) -> None:
    items = tmp_path / "items.ndjson"
    pair = '{"index": {"_id": "a"}}\n{"kind": "page", "url": "http://x/"}\n'
    items.write_text(pair + '{"index": {"_id": "b"}}\n{"kind": "pa')
    assert repair_items(items) == {"http://x/"}
    assert items.read_text() == pair
    items.write_text(pair + '{"index": {"_id": "b"}}\n')  # an action without its document
    repair_items(items)
    assert items.read_text() == pair
    ledger = tmp_path / "resume.ndjson"
    ledger.write_text('{"ev":"open"}\n{"ev":"queued","fp":"f","url":"http://x/u"}\n{"ev":"do')
    state = read_ledger(ledger, repair=True)
    assert [e["url"] for e in state.pending()] == ["http://x/u"]
    assert ledger.read_text().endswith('"url":"http://x/u"}\n')


def test_sessions_stopped_cleanly_are_added_up(tmp_path: Path) -> None:
    from onionlab.crawler.runner import combine_sessions

    run = RunDir(tmp_path)
    first = {"pages": 10, "errors": 1, "errors_by_kind": {"http_404": 1}, "duration_s": 4.0,
             "items": {"page": 10}, "finish_reason": "shutdown"}  # fmt: skip
    second = {"pages": 5, "errors": 2, "errors_by_kind": {"http_404": 1, "F0": 1},
              "duration_s": 1.0, "items": {"page": 5}, "finish_reason": "finished"}  # fmt: skip
    both = combine_sessions(first, second, run, session_count=2)
    assert (both["pages"], both["errors"], both["duration_s"]) == (15, 3, 5.0)
    assert both["errors_by_kind"] == {"F0": 1, "http_404": 2}
    assert both["pages_per_s"] == 3.0
    assert [s["finish_reason"] for s in both["sessions"]] == ["shutdown", "finished"]
    third = combine_sessions(both, {**second, "finish_reason": "finished"}, run, session_count=3)
    assert len(third["sessions"]) == 3 and third["pages"] == 20
