"""Serve real lab sites (``onionlab.lab.sites.serve``) on loopback ports for crawler tests.

``lab_sites(tmp, profile_text, sites)`` starts the lab's site server for the named services
of the seed-1 world and yields onion host → local port, to hand to
:class:`tests.support.socks5.FakeTorSocks`; no Tor involved. ``crawl_cli`` runs
``onionlab crawl`` as a subprocess through such a SOCKS server; ``crawl_site`` crawls one
site so and scores the run against that site's truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from onionlab.crawler.runs.rundir import RunDir
from onionlab.crawler.scoring import evaluate
from tests.support.site_pages import world_and_truth
from tests.support.socks5 import FakeTorSocks

SEED = 1
OPEN = 'base = "open"\n'


@contextmanager
def lab_sites(
    tmp: Path, profile_text: str, sites: tuple[str, ...], *, access_log: Path | None = None
) -> Iterator[dict[str, int]]:
    """The real lab site server for ``sites``; yields onion → local port.

    :param access_log: where the server writes its access log (``--access-log``), if at all.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    profile, ready = tmp / "profile.toml", tmp / "ready.json"
    profile.write_text(profile_text)
    listen = [arg for site in sites for arg in ("--listen", f"{site}=127.0.0.1:0")]
    logging = ["--access-log"] if access_log else []
    with ExitStack() as stack:
        out = stack.enter_context(access_log.open("w")) if access_log else subprocess.DEVNULL
        proc = subprocess.Popen(
            [sys.executable, "-m", "onionlab.lab.sites.serve",
             "--seed", str(SEED), "--profile", str(profile), *listen, *logging,
             "--ready-file", str(ready), "--admin-socket", str(tmp / "a.sock")],
            stdout=out, stderr=subprocess.STDOUT if access_log else subprocess.PIPE,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, _output(proc, access_log)
            assert time.monotonic() < deadline, "lab sites did not start in 30 s"
            time.sleep(0.05)
        listening = json.loads(ready.read_text())["sites"]
        world, _ = world_and_truth(SEED)
        yield {world.service(site).onion: int(listening[site].rpartition(":")[2]) for site in sites}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _output(proc: subprocess.Popen[bytes], access_log: Path | None) -> str:
    if access_log:
        return access_log.read_text()[-2000:]
    return proc.stderr.read().decode() if proc.stderr else ""


def crawl_site(onion: str, port: int, tmp: Path) -> dict[str, Any]:
    """Crawl ``http://ONION/``, served on ``port``, with the CLI through a recording SOCKS server.

    :return: the crawl's ``summary`` and ``stats``, its scores (``eval``) against the seed's
        truth cut down to this site's pages, and how many pages that truth has
        (``truth_pages``).
    """
    with FakeTorSocks(routes={onion: port}) as socks:
        result = crawl_cli(
            "--socks", f"127.0.0.1:{socks.port}", "--data-dir", str(tmp / "data"), "--json",
            "--no-score", "--max-seconds", "50", f"http://{onion}/",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    run = RunDir(Path(summary["run_dir"]))
    _, truth = world_and_truth(SEED)
    pages = [url for url in truth["pages"] if url.startswith(f"http://{onion}/")]
    return {
        "summary": summary,
        "stats": json.loads(run.stats.read_text()),
        "eval": evaluate(run, {**truth, "pages": pages}),
        "truth_pages": len(pages),
    }


def crawl_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``onionlab crawl ARGS`` in a subprocess (no ONIONLAB_* settings from the caller)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONIONLAB_")}
    return subprocess.run(
        [sys.executable, "-m", "onionlab", "crawl", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
