"""Crawls run in a fresh interpreter, and small local web servers to crawl, for crawler tests.

:func:`crawl` runs :func:`onionlab.crawler.runner.run_crawl` in a subprocess (the crawl's
reactor never shares the test's process) through a SOCKS server on loopback, such as
:class:`tests.support.socks5.FakeTorSocks`, and returns the crawl's summary. :func:`serving`
runs an ``http.server`` server in a thread for the length of a ``with`` block.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[2]
CRAWL = """
import json, sys
from pathlib import Path
from onionlab.crawler.runner import CrawlConfig, run_crawl
args = json.loads(sys.argv[1])
config = CrawlConfig(start_urls=args["urls"], socks=args["socks"], run_dir=Path(args["run"]),
                     progress=False, max_pages=args.get("max_pages", 1_000_000),
                     extra_settings=args.get("settings", {}))
print(json.dumps(run_crawl(config)))
"""

Server = TypeVar("Server", bound=HTTPServer)


def crawl(
    urls: list[str], socks: int, run: Path, *, timeout: float = 120, **config: Any
) -> dict[str, Any]:
    """Crawl ``urls`` into the run directory ``run`` through the SOCKS server on port ``socks``.

    :param config: ``settings`` (extra Scrapy settings) and ``max_pages``, as
        :class:`~onionlab.crawler.runner.CrawlConfig` takes them.
    :return: the crawl's summary; the test fails if the crawl does not exit 0.
    """
    args = {"urls": urls, "socks": f"127.0.0.1:{socks}", "run": str(run), **config}
    result = subprocess.run(
        [sys.executable, "-c", CRAWL, json.dumps(args)],
        capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """Serve ``server`` in a daemon thread until the block ends, then shut it and close it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
