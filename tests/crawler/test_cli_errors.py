"""Exit codes that say what happened, and one clear line (never a traceback) for bad input.

Each case runs ``onionlab`` as a user would (a subprocess), through the recording SOCKS5
server where a crawl is needed. Before the fix: a crawl whose Scrapy start failed exited 0;
a read-only data directory, a data directory that is a file, a site-profile file that is
not UTF-8 or is a directory, and a non-UTF-8 ``onionlab.toml`` ended in tracebacks.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onionlab.crawler import exitcodes
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

ONION = "e" * 55 + "d.onion"
URL = f"http://{ONION}/"
NOT_UTF8 = b"[defaults]\ndelay = 1.0\n# caf\xe9 \xff\n"


def onionlab(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "onionlab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "ONIONLAB_DATA": "", **(env or {})},
    )


def _one_clear_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    """stderr is one ``error:`` line (rich may wrap it) holding every expected fragment."""
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    text = " ".join(result.stderr.split())
    assert text.startswith("error: "), result.stderr[-3000:]
    for fragment in expected:
        assert fragment in text, text
    return text


@pytest.fixture(scope="module")
def tor() -> Iterator[FakeTorSocks]:
    with LinkedSite(pages=8) as site, FakeTorSocks(routes={ONION: site.port}) as socks:
        yield socks


def _socks(tor: FakeTorSocks) -> str:
    return f"127.0.0.1:{tor.port}"


# -- the data directory --------------------------------------------------------------------


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs remounted read-only (root ignores file modes), unmounted afterwards."""
    mount = tmp_path / f"ro-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_read_only_data_dir_is_one_line_and_exit_6(tor, read_only_dir: Path) -> None:
    result = onionlab(
        "crawl", "--json", "--socks", _socks(tor), "--data-dir", str(read_only_dir), URL
    )
    assert result.returncode == exitcodes.NOT_SAVED, result.stderr[-3000:]
    _one_clear_line(
        result,
        f"cannot create a run directory under {read_only_dir / 'runs'}",
        "Read-only file system",
        "--data-dir",
    )
    assert result.stdout == ""


def test_a_data_dir_that_is_a_file_is_wrong_usage(tor, tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("not a directory")
    from_env = onionlab("crawl", "--socks", _socks(tor), URL, env={"ONIONLAB_DATA": str(a_file)})
    assert from_env.returncode == exitcodes.USAGE, from_env.stderr[-3000:]
    _one_clear_line(from_env, str(a_file), "is a file, not a directory")
    from_flag = onionlab("crawl", "--socks", _socks(tor), "--data-dir", str(a_file), URL)
    assert from_flag.returncode == exitcodes.USAGE
    assert "Traceback" not in from_flag.stderr and "is a file" in from_flag.stderr


def test_a_runs_dir_that_is_a_file_is_wrong_usage(tor, tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("")
    result = onionlab("crawl", "--socks", _socks(tor), "--data-dir", str(tmp_path), URL)
    assert result.returncode == exitcodes.USAGE, result.stderr[-3000:]
    _one_clear_line(result, f"{tmp_path / 'runs'} is a file, not a directory")


def test_a_socks_port_that_refuses_is_exit_3(tmp_path: Path) -> None:
    result = onionlab("crawl", "--socks", "127.0.0.1:9", "--data-dir", str(tmp_path), URL)
    assert result.returncode == exitcodes.TOR
    _one_clear_line(result, "Nothing is listening on Tor's SOCKS port 127.0.0.1:9")
    assert not (tmp_path / "runs").exists()


# -- input files -----------------------------------------------------------------------------


def test_a_site_profile_file_that_is_not_utf8_is_one_line(tor, tmp_path: Path) -> None:
    profiles = tmp_path / "sites.toml"
    profiles.write_bytes(NOT_UTF8)
    checked = onionlab("sites", str(profiles), "--data-dir", str(tmp_path))
    assert checked.returncode == exitcodes.USAGE, checked.stderr[-3000:]
    _one_clear_line(checked, str(profiles), "not UTF-8", "line 3", "save it as UTF-8")
    crawled = onionlab(
        "crawl", "--socks", _socks(tor), "--data-dir", str(tmp_path), "--sites", str(profiles), URL
    )
    assert crawled.returncode == exitcodes.USAGE
    _one_clear_line(crawled, "not UTF-8")
    assert not (tmp_path / "runs").exists()  # stopped before anything was created


def test_a_site_profile_path_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    result = onionlab("sites", str(tmp_path), "--data-dir", str(tmp_path))
    assert result.returncode == exitcodes.USAGE
    assert "Traceback" not in result.stderr


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "onionlab.toml"
    config.write_bytes(b'[elasticsearch]\nurl = "http://127.0.0.1:9"\n# \xff\xfe\n')
    result = onionlab("index", "status", env={"ONIONLAB_CONFIG": str(config)})
    assert result.returncode == exitcodes.USAGE, result.stderr[-3000:]
    _one_clear_line(result, str(config), "not UTF-8")


def test_a_crawl_with_a_non_utf8_config_file_stops_before_it_starts(tor, tmp_path: Path) -> None:
    # onionlab.toml holds Elasticsearch settings and site accounts; each component read it
    # on its own inside the crawl (a crawl that failed to start, exit 0, before the fix).
    config = tmp_path / "onionlab.toml"
    config.write_bytes(b'[credentials."*"]\nusername = "caf\xe9"\npassword = "x"\n')
    result = onionlab(
        "crawl", "--socks", _socks(tor), "--data-dir", str(tmp_path / "data"), URL,
        env={"ONIONLAB_CONFIG": str(config)},
    )  # fmt: skip
    assert result.returncode == exitcodes.USAGE, result.stderr[-3000:]
    _one_clear_line(result, str(config), "not UTF-8", "line 2")
    assert not (tmp_path / "data" / "runs").exists()


# -- a crawl that cannot start or that stops itself ----------------------------------------


def test_a_crawl_scrapy_cannot_start_exits_non_zero(tor, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    script = f"""
import sys
from pathlib import Path
from onionlab.crawler.runner import CrawlConfig, CrawlFailed, run_crawl
config = CrawlConfig(start_urls=[{URL!r}], socks={_socks(tor)!r}, run_dir=Path({str(run)!r}),
                     progress=False, extra_settings={{"CONCURRENT_REQUESTS": "many"}})
try:
    run_crawl(config)
except CrawlFailed as exc:
    print(exc)
    sys.exit(1)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr[-3000:]  # it returned a summary
    assert "the crawl failed: ValueError" in result.stdout
    assert str(run / "crawl.log") in result.stdout


def test_a_resumed_crawl_whose_site_profiles_are_gone_is_one_clear_line(
    tor, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    config = {
        "start_urls": [URL],
        "socks": _socks(tor),
        "run_dir": str(run),
        "site_profiles": str(tmp_path),  # a directory now, not the profile file
    }
    (run / "config.json").write_text(json.dumps(config))
    result = onionlab("crawl", "--json", "--resume", str(run))
    assert result.returncode == exitcodes.USAGE, result.stderr[-3000:]
    _one_clear_line(result, str(tmp_path), "is a directory")
    assert "unexpected" not in result.stderr
    assert result.stdout == ""  # no summary of a crawl that never ran


def test_a_crawl_stopped_by_the_page_cap_exits_0_and_says_so(tor, tmp_path: Path) -> None:
    result = onionlab(
        "crawl", "--socks", _socks(tor), "--data-dir", str(tmp_path), "--max-pages", "2", URL
    )
    assert result.returncode == exitcodes.OK, result.stderr[-3000:]
    (run,) = list((tmp_path / "runs").iterdir())
    text = " ".join(result.stderr.split())
    assert "crawl stopped at the page cap (--max-pages)" in text
    assert f"resume with: onionlab crawl --resume {run}" in text


def test_help_documents_the_exit_codes() -> None:
    root = " ".join(onionlab("--help").stdout.split())
    assert "130 interrupted (Ctrl-C or SIGTERM)" in root
    crawl = re.sub(r"(\w)- (\w)", r"\1-\2", " ".join(onionlab("crawl", "--help").stdout.split()))
    assert "--max-pages or --max-seconds" in crawl and "exit 0" in crawl
    assert "exit 130" in crawl


def test_ctrl_c_outside_a_crawl_exits_130_in_one_line(tmp_path: Path) -> None:
    # `onionlab sites` reading a FIFO nobody writes to blocks until Ctrl-C: click's own
    # handling said "Aborted!" and exited 1.
    fifo = tmp_path / "sites.toml"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onionlab",
            "sites",
            str(fifo),
            "--data-dir",
            str(tmp_path),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ONIONLAB_DATA": ""},
    )
    try:
        time.sleep(3)  # past plugin loading, blocked opening the FIFO
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == exitcodes.INTERRUPTED, err
    assert "Traceback" not in err and "interrupted (Ctrl-C)" in err
