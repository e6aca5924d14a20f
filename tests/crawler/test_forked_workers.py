"""Extraction workers forked from the crawl before it runs (onionlab.crawler.extraction.forked).

They must do exactly what a worker started as a new interpreter does, be as separate from
the crawl (own process group, Ctrl-C ignored, no crawl log handler), end when the crawl
closes their pipe even while another forked worker lives, and be replaced like any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from onionlab.crawler.extraction import forked
from onionlab.crawler.extraction.pool import ExtractPool
from onionlab.crawler.extraction.process import WorkerProcess, spawn_worker
from onionlab.crawler.extraction.protocol import HEADER, task_of

HOST = "a" * 56 + ".onion"
PAGE = (
    "<html><head><title>Vendor shop</title></head><body><h1>Vendor profile</h1>"
    "<p>Contact: vendor@example.onion. BTC 1BoatSLRHtKNngkdXEeobR76b53LETtpyT</p>"
    "<a href='/item/1'>item</a><a href='/x' hidden>hidden</a></body></html>"
)


def _job() -> tuple[dict[str, Any], bytes]:
    header, body = task_of(HtmlResponse(f"http://{HOST}/", body=PAGE.encode()))
    header.update(domains=[HOST], plugins=None, max_items=100, max_links=100)
    return header, body


def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def _sigmask(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        return int(next(line for line in handle if line.startswith(field)).split()[1], 16)


async def _answers(pool: ExtractPool, times: int = 1) -> list[dict[str, Any]]:
    results = []
    for _ in range(times):
        header, body = _job()
        results.append(await asyncio.wait_for(pool.run(HOST, header, body), 60))
    return results


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("ok", "title", "docs", "hidden", "links", "state")}


def test_a_worker_started_before_the_crawl_runs_is_forked_and_does_the_same_work() -> None:
    early = ExtractPool(2, timeout=30)
    early.start()  # no event loop running: as the spider does in from_crawler
    pending = list(early._pending)
    assert [type(w.proc).__name__ for w in pending] == ["ForkedProcess", "ForkedProcess"]

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            forked_result = (await _answers(early))[0]
            while len(early.workers) < 2:
                await asyncio.sleep(0.05)
            for worker in pending:  # each has said hello: its set-up is done
                assert _comm(worker.pid) == "onionlab-worker"
                assert os.getpgid(worker.pid) == worker.pid != os.getpgid(0)
                assert _sigmask(worker.pid, "SigIgn:") & (1 << (signal.SIGINT - 1))
        finally:
            early.close()
        late = ExtractPool(1, timeout=30)  # the event loop runs: a new interpreter
        try:
            spawned_result = (await _answers(late))[0]
            assert type(late.workers[0].proc).__name__ == "Popen"
        finally:
            late.close()
        return forked_result, spawned_result

    forked_result, spawned_result = asyncio.run(both())
    assert forked_result["ok"] and forked_result["docs"], forked_result
    assert _comparable(forked_result) == _comparable(spawned_result)


def test_a_forked_worker_ends_when_its_pipe_closes_while_another_lives() -> None:
    """The second worker is forked holding the crawl's end of the first one's pipe unless it
    closes it: the first would then never see end of input."""
    assert forked.can_fork()
    first, second = spawn_worker(32), spawn_worker(32)
    try:
        assert isinstance(first.proc, forked.ForkedProcess)
        assert isinstance(second.proc, forked.ForkedProcess)
        hello = json.loads(_read_frame(first))
        assert hello["pid"] == first.pid
        assert first.proc.stdin is not None
        first.proc.stdin.close()
        deadline = time.monotonic() + 20
        while first.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.proc.returncode == 0, "the first worker never saw end of input"
        assert second.proc.poll() is None
    finally:
        for worker in (first, second):
            worker.kill("test")
            worker.close()


def _read_frame(worker: WorkerProcess) -> bytes:
    assert worker.proc.stdout is not None
    length = int.from_bytes(worker.proc.stdout.read(4), "big")
    return worker.proc.stdout.read(length)


LOUD = """
import logging
from onionlab import hookimpl

@hookimpl
def onionlab_extract(response):
    logging.getLogger("loud").warning("loud plugin saw %s", response.url)
"""


def test_a_forked_worker_logs_through_the_crawl_not_into_its_handlers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crawl's log handlers (crawl.log) are not the worker's: what a plugin logs goes
    back with the answer, to be logged once by the crawl, as from any worker."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "loud.py").write_text(LOUD)
    monkeypatch.setenv("ONIONLAB_PLUGINS_DIR", str(tmp_path / "plugins"))
    monkeypatch.setenv("ONIONLAB_LOAD_PLUGINS", "loud")
    log = tmp_path / "crawl.log"
    handler = logging.FileHandler(log)
    logging.getLogger().addHandler(handler)
    try:
        worker = spawn_worker(32)
        try:
            assert isinstance(worker.proc, forked.ForkedProcess)
            assert json.loads(_read_frame(worker))["plugins"] == ["loud"]
            header, body = _job()
            data = json.dumps(header).encode()
            assert worker.proc.stdin is not None
            worker.proc.stdin.write(HEADER.pack(len(data), len(body)) + data + body)
            worker.proc.stdin.flush()
            answer = json.loads(_read_frame(worker))
        finally:
            worker.kill("test")
            worker.close()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert [record[2] for record in answer["logs"]] == [f"loud plugin saw http://{HOST}/"]
    assert log.read_text() == ""


def test_a_killed_forked_worker_is_replaced_by_a_new_interpreter() -> None:
    pool = ExtractPool(1, timeout=30)
    pool.start()

    async def scenario() -> tuple[str, str, bool]:
        try:
            await _answers(pool)
            first = pool.workers[0]
            kind = type(first.proc).__name__
            first.kill("test")
            while first.proc.poll() is None:
                await asyncio.sleep(0.05)
            pool._retire(first)
            result = (await _answers(pool))[0]
            return kind, type(pool.workers[0].proc).__name__, bool(result["ok"])
        finally:
            pool.close()

    first_kind, replacement_kind, ok = asyncio.run(scenario())
    assert (first_kind, replacement_kind, ok) == ("ForkedProcess", "Popen", True)
    assert pool.started_workers == 2


def test_a_closed_forked_worker_leaves_no_zombie() -> None:
    """A Popen never waited for is reaped by the subprocess module later; a forked worker
    closed with no event loop left to reap it is reaped at the next fork."""
    import gc

    worker = spawn_worker(32)
    pid = worker.pid
    worker.kill("test")
    worker.close()
    del worker
    gc.collect()
    time.sleep(0.2)
    later = spawn_worker(32)
    try:
        assert not Path(f"/proc/{pid}").exists()  # a zombie keeps its /proc entry
    finally:
        later.kill("test")
        later.close()


COUNTING = """
import os
from onionlab import hookimpl

@hookimpl
def onionlab_extract(response):
    if response.url.endswith("/warm-up"):
        with open(os.environ["WARM_UPS"], "a") as handle:
            handle.write(f"{os.getpid()}\\n")
"""


def test_forked_workers_start_warm_from_one_warm_up_in_the_crawl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugins' warm-up (0.55 s of CPU a worker the first time) is done once, in the
    crawl's process, before the first fork: the workers load nothing of their own and only
    do the warm-up page once more (1 ms: everything is loaded), so that their memory
    baseline holds what a process's first page allocates; and they work as before."""
    from onionlab.crawler.extraction import warmup

    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "counting.py").write_text(COUNTING)
    monkeypatch.setenv("ONIONLAB_PLUGINS_DIR", str(tmp_path / "plugins"))
    monkeypatch.setenv("WARM_UPS", str(tmp_path / "warm-ups"))
    pool = ExtractPool(2, timeout=30)
    pool.start()

    async def answers_then_both_ready() -> list[dict[str, Any]]:
        answers = await _answers(pool, times=4)
        deadline = time.monotonic() + 30  # the first worker may answer all four alone
        while len(pool.workers) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return answers

    try:
        answers = asyncio.run(answers_then_both_ready())
        kinds = {type(worker.proc).__name__ for worker in pool.workers}
        pids = sorted(str(worker.proc.pid) for worker in pool.workers)
    finally:
        pool.close()
    assert kinds == {"ForkedProcess"}
    crawl, *workers = (tmp_path / "warm-ups").read_text().split()
    assert crawl == str(os.getpid())
    assert sorted(workers) == pids
    assert warmup.prepared() is not None
    assert all(answer["ok"] and answer["docs"] for answer in answers)


def test_plugins_that_fail_the_crawls_warm_up_are_warmed_up_by_each_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A plugin that takes too long on the warm-up page in the crawl's process does not
    hold the crawl up: after the bound, each worker does its own warm-up, as before."""
    from onionlab.crawler.extraction import warmup

    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "slow.py").write_text(SLOW_IN_THE_CRAWL)
    monkeypatch.setenv("ONIONLAB_PLUGINS_DIR", str(tmp_path / "plugins"))
    monkeypatch.setenv("CRAWL_PID", str(os.getpid()))
    monkeypatch.setattr(warmup, "PREPARE_TIMEOUT", 0.5)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger=warmup.__name__):
        pool = ExtractPool(1, timeout=30)
        pool.start()
        try:
            answers = asyncio.run(_answers(pool, times=2))
        finally:
            pool.close()
    assert time.monotonic() - started < 30
    assert warmup.prepared() is None
    assert "each extraction worker warms its plugins up itself: their warm-up took over 0.5 s" in (
        caplog.text
    )
    assert all(answer["ok"] and answer["docs"] for answer in answers)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL  # the crawl's handler is back


SLOW_IN_THE_CRAWL = """
import os, time
from onionlab import hookimpl

@hookimpl
def onionlab_extract(response):
    if response.url.endswith("/warm-up") and os.getpid() == int(os.environ["CRAWL_PID"]):
        time.sleep(600)
"""
