"""Run-directory integrity: a run directory is untrusted input and every write is whole.

- A ``resume.ndjson`` carrying a code-execution pickle is refused (exit 7) and runs nothing;
  requests are kept as validated JSON data, and anything else in the ledger is refused.
- A plugin value that is not JSON data (a ``datetime`` in ``extra``) is counted and left out,
  nothing half-written; the crawl, ``eval``, ``index load`` and ``--resume`` go on.
- Truncated or garbage run files are one clear line (file, line, what to do), exit 7, in
  ``eval``, ``index load`` and ``crawl --resume``; ``eval`` on a directory that is not a run
  exits 7.
- An item an item pipeline raises on is counted as ``pipeline_error`` in the summary.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request

from onionlab.crawler.labstate import TRUTH_SCHEMA
from onionlab.crawler.runner import CrawlConfig
from onionlab.crawler.runs.ledger import read_ledger
from onionlab.crawler.runs.rundir import RunDir
from onionlab.crawler.spiders.onion import OnionSpider
from tests.support import crawls
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

ONION = "i" * 55 + "d.onion"
URL = f"http://{ONION}/"
FP = "ab" * 20


def _cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONIONLAB_")}
    return subprocess.run(
        [sys.executable, "-m", "onionlab", *args],
        capture_output=True, text=True, timeout=120, env=base | (env or {}),
    )  # fmt: skip


def _assert_one_clear_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 7, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # one line
    text = lines[0]
    assert text.startswith("error:"), text
    for word in words:
        assert word in text, (word, text)


class _RunShell:
    """A pickle that runs a shell command when loaded (what an attacker appends)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


def _make_run(run: Path, socks: str = "127.0.0.1:9", ledger: list[Any] | None = None) -> Path:
    """A small, valid, interrupted run: config, one page item, a summary, a ledger."""
    run.mkdir(parents=True, exist_ok=True)
    config = CrawlConfig(start_urls=[URL], socks=socks, run_dir=run, progress=False)
    RunDir(run).write_json(RunDir(run).config, asdict(config))
    page = {"kind": "page", "url": URL, "site": ONION, "status": 200, "title": "home"}
    action = {"index": {"_index": "onionlab-pages", "_id": "p1"}}
    RunDir(run).items.write_text(json.dumps(action) + "\n" + json.dumps(page) + "\n")
    (run / "errors.ndjson").write_text("")
    summary = {"run_dir": str(run), "pages": 1, "items": {"page": 1}, "errors": 0,
               "errors_by_kind": {}, "duration_s": 1.0, "pages_per_s": 1.0,
               "finish_reason": "shutdown"}  # fmt: skip
    RunDir(run).write_json(RunDir(run).summary, summary)
    events = ledger if ledger is not None else [
        {"ev": "open", "session": 1},
        {"ev": "queued", "fp": FP, "url": URL},
        {"ev": "done", "fp": FP, "urls": [URL]},
        {"ev": "queued", "fp": "cd" * 20, "url": URL + "p/1"},
        {"ev": "closed", "reason": "shutdown"},
    ]  # fmt: skip
    (run / "resume.ndjson").write_text(
        "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)
    )
    return run


def _truth(tmp: Path) -> Path:
    path = tmp / "truth.json"
    path.write_text(json.dumps({"schema": TRUTH_SCHEMA, "services": [
        {"name": "site", "onion": ONION, "mirrors": []}], "pages": [URL]}))  # fmt: skip
    return path


# -- 1. no pickle: the crafted resume ---------------------------------------------------------
def test_a_crafted_resume_ledger_with_a_pickle_payload_is_refused_and_runs_nothing(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    payload = base64.b64encode(pickle.dumps(_RunShell(f"touch {shlex.quote(str(marker))}")))
    with LinkedSite(pages=3) as site, FakeTorSocks(routes={ONION: site.port}) as socks:
        # A working Tor stand-in: nothing stops the resume before it reads the ledger.
        run = _make_run(tmp_path / "run", f"127.0.0.1:{socks.port}")
        with (run / "resume.ndjson").open("a") as ledger:  # the appended event
            event = {"ev": "queued", "fp": "ef" * 20, "url": URL + "p/2", "req": payload.decode()}
            ledger.write(json.dumps(event) + "\n")
        result = _cli("crawl", "--json", "--resume", str(run))
        assert not marker.exists(), "the pickle in resume.ndjson was executed"
        assert site.requests == []  # refused before anything was crawled
    _assert_one_clear_error(result, "resume.ndjson:6", "pickled", "never loads")


@pytest.mark.parametrize(
    ("request_data", "problem"),
    [
        ({"url": "file:///etc/passwd"}, "not an http/https URL"),
        ({"url": "javascript:alert(1)"}, "not an http/https URL"),
        ({"url": URL, "callback": "__init__"}, "callback '__init__'"),
        ({"url": URL, "errback": "os.system"}, "errback 'os.system'"),
        ({"url": URL, "meta": {"_callback": "x"}}, "meta key '_callback'"),
        ({"url": URL, "meta": {"depth": "3"}}, "meta depth is not a int"),
        ({"url": URL, "headers": {"X-A": ["a\r\nHost: evil"]}}, "not one bounded line"),
        ({"url": URL, "body": "!!!"}, "body is not base64"),
        ({"url": URL, "body": "A" * (2 * 1024 * 1024)}, "at most 1048576 bytes"),
        ({"url": URL, "method": "CONNECT"}, "method 'CONNECT'"),
        ({"url": URL, "priority": 10**12}, "priority"),
        ({"url": URL, "cb_kwargs": {"a": 1}}, "unknown fields ['cb_kwargs']"),
        ({"url": URL, "encoding": "no-such-codec"}, "not a known codec"),
        ("gASV", "request is not a JSON object"),
    ],
)
def test_every_request_field_in_the_ledger_is_checked(
    tmp_path: Path, request_data: Any, problem: str
) -> None:
    from onionlab.crawler.runs.rundir import RunDirDamaged

    ledger = tmp_path / "resume.ndjson"
    event = {"ev": "queued", "fp": FP, "url": URL, "request": request_data}
    ledger.write_text(json.dumps({"ev": "open", "session": 1}) + "\n" + json.dumps(event) + "\n")
    with pytest.raises(RunDirDamaged, match=r"resume\.ndjson:2: ") as caught:
        read_ledger(ledger)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "line",
    [
        '{"ev": "queued", "fp": "zz", "url": "http://a.onion/"}',
        '{"ev": "queued", "fp": "ab", "url": "ftp://a.onion/"}',
        '{"ev": "done", "fp": "ab", "urls": "http://a.onion/"}',
        '{"ev": "exec", "cmd": "id"}',
        '["queued"]',
        "not json at all",
    ],
)
def test_a_garbage_ledger_line_is_refused_with_its_number(tmp_path: Path, line: str) -> None:
    from onionlab.crawler.runs.rundir import RunDirDamaged

    ledger = tmp_path / "resume.ndjson"
    ledger.write_text('{"ev": "open", "session": 1}\n' + line + '\n{"ev": "open"}\n')
    with pytest.raises(RunDirDamaged, match=r"resume\.ndjson:2: "):
        read_ledger(ledger)


def test_requests_round_trip_as_plain_data() -> None:
    from onionlab.crawler.runs.requestdata import (
        check_request,
        request_from_data,
        request_to_data,
    )

    spider = OnionSpider(start_urls=[URL])
    request = Request(
        URL + "p/1?q=1",
        callback=spider.parse,
        errback=spider.on_error,
        priority=50,
        headers={"Referer": URL},
        meta={"depth": 3, "cookiejar": "s1", "unkeepable": object()},
        body=b"\x00\xffdata",
        method="POST",
        flags=["x"],
        encoding="cp1251",  # a page's own charset, as response.follow passes it on
    )
    data = request_to_data(request, spider)
    assert data is not None
    text = json.dumps(data)  # plain JSON: no code, no pickle
    again = request_from_data(check_request(json.loads(text), Path("resume.ndjson"), 1), spider)
    assert (again.url, again.method, again.body, again.priority) == (
        request.url, "POST", b"\x00\xffdata", 50,
    )  # fmt: skip
    assert again.headers.get("Referer") == URL.encode()
    assert again.meta == {"depth": 3, "cookiejar": "s1"}  # only the keys onionlab keeps
    assert again.callback == spider.parse and again.errback == spider.on_error
    assert again.flags == ["x"] and again.encoding == "cp1251"
    # A callback that is not an allowed spider method is not recorded: URL-only replay.
    assert request_to_data(Request(URL, callback=print), spider) is None


# -- 3. atomic per item -------------------------------------------------------------------
BAD_PLUGIN = """
from datetime import datetime
from urllib.parse import urlsplit
from onionlab import hookimpl
from onionlab.crawler.items import Entity

@hookimpl
def onionlab_extract(response):
    host = urlsplit(response.url).hostname
    when = datetime(2026, 1, 1) if response.url.endswith(("/p/3", "/p/5")) else "2026-01-01"
    value = "a\\ud800@b.c" if response.url.endswith("/p/7") else "a@b.c"  # a lone surrogate
    return [Entity(type="email", value=value, url=response.url, site=host,
                   extra={"seen": when})]
"""


@pytest.fixture(scope="module")
def unserialisable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("unserialisable")
    (tmp / "plugins").mkdir()
    (tmp / "plugins" / "badvalue.py").write_text(BAD_PLUGIN)
    env = {"ONIONLAB_PLUGINS_DIR": str(tmp / "plugins")}
    with LinkedSite(pages=12) as site, FakeTorSocks(routes={ONION: site.port}) as socks:
        crawl = _cli("crawl", "--json", "--no-score", "--socks", f"127.0.0.1:{socks.port}",
                     "--data-dir", str(tmp / "data"), URL, env=env)  # fmt: skip
        (run,) = list((tmp / "data" / "runs").iterdir())
        resume = _cli("crawl", "--json", "--resume", str(run), "--socks", "127.0.0.1:9")
    return {"crawl": crawl, "run": run, "resume": resume, "tmp": tmp}


def test_an_unserialisable_item_is_counted_and_the_crawl_goes_on(unserialisable: dict) -> None:
    crawl = unserialisable["crawl"]
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    summary = json.loads(crawl.stdout)
    assert summary["finish_reason"] == "finished"
    assert summary["dropped"]["item_unserialisable"] == 3
    assert summary["items"] == {"identifier": 9, "page": 12}


def test_nothing_is_half_written_and_every_reader_reads_the_run(
    unserialisable: dict, tmp_path: Path
) -> None:
    from onionlab.crawler.sinks.elastic.load import check_run_dir

    run = unserialisable["run"]
    lines = RunDir(run).items.read_text().splitlines()
    assert len(lines) % 2 == 0
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert RunDir(run).count_documents() == {"identifier": 9, "page": 12}
    check_run_dir(run)  # what index load reads
    evaluated = _cli("eval", "--json", str(run), "--truth", str(_truth(tmp_path)))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert json.loads(evaluated.stdout)["pages"]["found"] == 12
    resumed = unserialisable["resume"]
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads(resumed.stdout)["resumed"] is False  # finished: nothing to resume


APPEND_OVER_LIMIT = """
import resource, signal, sys
from pathlib import Path
from onionlab.crawler.runs.rundir import AppendFile, WriteFailed
path = Path(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit: EFBIG, as ENOSPC would be
limit = path.stat().st_size + 10
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
out = AppendFile(path)
try:
    out.write('{"index": {"_id": "b"}}\\n{"kind": "page", "url": "http://x/"}\\n')
except WriteFailed as exc:
    print("failed:", exc)
"""


def test_a_failed_append_is_cut_back_whole(tmp_path: Path) -> None:
    """A write the disk takes only part of (10 bytes here) leaves nothing behind."""
    path = tmp_path / "items.ndjson"
    path.write_text('{"index": {"_id": "a"}}\n{"kind": "page"}\n')
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", APPEND_OVER_LIMIT, str(path)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.stdout.startswith("failed: "), result.stderr
    assert "cannot write items.ndjson" in result.stdout
    assert path.read_bytes() == before


# -- 4. clear errors on damaged run directories ----------------------------------------------
def _garbage_middle(run: Path) -> None:
    text = RunDir(run).items.read_text()
    RunDir(run).items.write_text(text + "{not json\n" + text)


def _truncated_tail(run: Path) -> None:
    with RunDir(run).items.open("a") as items:
        items.write('{"index": {"_id": "x"}}\n{"url": "ht')


def _orphan_action(run: Path) -> None:  # what the old writer left behind
    text = RunDir(run).items.read_text()
    RunDir(run).items.write_text(text.splitlines()[0] + "\n" + text)


def _missing_field(run: Path) -> None:
    with RunDir(run).items.open("a") as items:
        items.write('{"index": {"_id": "y"}}\n{"kind": "page", "status": 200}\n')


def _bad_summary(run: Path) -> None:
    RunDir(run).summary.write_text('{"pages": 3, "items": {')


def _not_utf8_items(run: Path) -> None:
    RunDir(run).items.write_bytes(b'{"index": {"_id": "\xff"}}\n{}\n')


EVAL_DAMAGE = {
    "garbage line": (_garbage_middle, "items.ndjson:3"),
    "truncated tail": (_truncated_tail, "items.ndjson:4"),
    "orphan action": (_orphan_action, "items.ndjson:1: an action line without its document"),
    "missing field": (_missing_field, "items.ndjson:4"),
    "garbage summary": (_bad_summary, "summary.json"),
    "not utf-8": (_not_utf8_items, "items.ndjson:1"),
}


def test_eval_of_a_directory_that_is_not_a_run_exits_7(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _cli("eval", str(tmp_path / "empty"), "--truth", str(_truth(tmp_path)))
    _assert_one_clear_error(result, "not an onionlab run directory")


def _bad_spool(run: Path) -> None:
    (run / "spool.ndjson").write_text('{"index": {"_index": "a", "_id": "b"}}\n[1, 2]\n')


def _bad_errors(run: Path) -> None:
    (run / "errors.ndjson").write_text('{"url": "http://x/", "kind": "F0"}\n{"url": \n')


def _bad_config(run: Path) -> None:
    RunDir(run).config.write_text("garbage")


def _bad_failure_time(run: Path) -> None:
    (run / "errors.ndjson").write_text('{"url": "http://x/", "kind": "F0", "at": "yesterday"}\n')


def _bad_site_entry(run: Path) -> None:
    RunDir(run).sites.write_text(json.dumps({ONION: {"state": "up", "responses": "lots"}}))


LOAD_DAMAGE = {
    "garbage items": (_garbage_middle, "items.ndjson:3"),
    "failure time": (_bad_failure_time, "errors.ndjson:1"),
    "site entry": (_bad_site_entry, "sites.json"),
    "garbage spool": (_bad_spool, "spool.ndjson:2"),
    "garbage errors": (_bad_errors, "errors.ndjson:2"),
    "garbage config": (_bad_config, "config.json"),
}


def _ledger_garbage(run: Path) -> None:
    lines = (run / "resume.ndjson").read_text().splitlines(keepends=True)
    lines.insert(2, '{"ev": "queued", "fp": \n')
    (run / "resume.ndjson").write_text("".join(lines))


def _config_types(run: Path) -> None:
    data = json.loads(RunDir(run).config.read_text())
    RunDir(run).config.write_text(json.dumps(data | {"start_urls": "http://x.onion/"}))


def _config_settings(run: Path) -> None:
    data = json.loads(RunDir(run).config.read_text())
    settings = {"EXTENSIONS": {"scrapy.extensions.telnet.TelnetConsole": 0}}
    RunDir(run).config.write_text(json.dumps(data | {"extra_settings": settings}))


def _bad_sites(run: Path) -> None:
    RunDir(run).sites.write_text("{")


RESUME_DAMAGE = {
    "garbage ledger line": (_ledger_garbage, "resume.ndjson:3"),
    "garbage config": (_bad_config, "config.json"),
    "config of the wrong types": (_config_types, "'start_urls' is not a list"),
    "settings in the config": (_config_settings, "'extra_settings' are never taken"),
    "garbage summary": (_bad_summary, "summary.json"),
    "garbage items": (_garbage_middle, "items.ndjson:3"),
    "garbage sites": (_bad_sites, "sites.json"),
}


# Each command reading a run, with the damage it must report as one clear error.
COMMANDS: dict[str, Callable[[Path, Path], tuple[str, ...]]] = {
    "eval": lambda run, tmp: ("eval", str(run), "--truth", str(_truth(tmp))),
    # No cluster is needed: the run is read before anything is sent.
    "index load": lambda run, _: ("index", "load", str(run), "--es-url", "http://127.0.0.1:9"),
    "resume": lambda run, _: ("crawl", "--resume", str(run)),
}
DAMAGE = {"eval": EVAL_DAMAGE, "index load": LOAD_DAMAGE, "resume": RESUME_DAMAGE}


@pytest.mark.parametrize(
    ("command", "damage"),
    [(command, damage) for command, table in DAMAGE.items() for damage in table],
    ids=[f"{command}: {damage}" for command, table in DAMAGE.items() for damage in table],
)
def test_a_command_on_a_damaged_run_is_one_clear_error(
    tmp_path: Path, command: str, damage: str
) -> None:
    corrupt, where = DAMAGE[command][damage]
    run = _make_run(tmp_path / "run")
    corrupt(run)
    result = _cli(*COMMANDS[command](run, tmp_path))
    _assert_one_clear_error(result, where)


def test_a_torn_last_line_is_still_repaired_on_resume(tmp_path: Path) -> None:
    """The kill -9 case stays resumable: only a partly written LAST line is cut."""
    run = _make_run(tmp_path / "run")
    _truncated_tail(run)
    with (run / "resume.ndjson").open("a") as ledger:
        ledger.write('{"ev":"done","fp":"ab')
    state = read_ledger(run / "resume.ndjson")
    assert [e["url"] for e in state.pending()] == [URL + "p/1"]
    from onionlab.crawler.runs.ledger import check_resumable

    check_resumable(run)  # no error: resuming cuts these tails


# -- 5. pipeline errors are counted --------------------------------------------------------
class FailingPipeline:
    """An item pipeline that raises on one page's item (as a broken sink would)."""

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if getattr(item, "url", "").endswith("/p/2"):
            raise ValueError("the sink refused it")
        return item


def test_an_item_a_pipeline_raises_on_is_counted_in_the_summary(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    pipelines = {
        "onionlab.crawler.pipelines.rundir.RunDirPipeline": 800,
        "tests.crawler.test_rundir_integrity.FailingPipeline": 850,
    }
    with LinkedSite(pages=6) as site, FakeTorSocks(routes={ONION: site.port}) as socks:
        summary = crawls.crawl(
            [URL], socks.port, tmp_path / "run", settings={"ITEM_PIPELINES": pipelines}
        )
    assert summary["dropped"] == {"pipeline_error": 1}
    assert summary["items"]["page"] == 6  # written before the failing sink: kept
