"""Bulk indexing speed into a real Elasticsearch node: onionlab's bulk path against raw ``_bulk``.

    python -m bench.bulk_index [--docs 20000] [--chunk 500,1000,2000] [--streams 1,2]
                               [--run-dir RUN_DIR]

Starts a node of the stack's version on 127.0.0.1 (a free port: ``bin/elasticsearch``, the
test suite's; run ``bash bin/elasticsearch fetch`` once first), applies ``onionlab index
setup`` and indexes documents with :func:`onionlab.crawler.sinks.elastic.bulk.index_actions`
(streaming_bulk with per-item accounting, the path the crawl pipeline and ``onionlab index
load`` use). Documents
are a synthetic crawl's items transformed by :mod:`onionlab.crawler.sinks.elastic.documents` (or a
real run's, with ``--run-dir``), repeated under fresh ids up to ``--docs``. Also prints a
raw ``_bulk`` POST of the same bytes without the client, to separate the client's cost from
the server's, and N parallel streams (threads) to show how the server scales; the node is
emptied and set up again before each line. Goal: 10,000 docs/s. Prints a table; asserts
nothing. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from onionlab.crawler.runs.rundir import RunDir
from onionlab.crawler.sinks.elastic import provision
from onionlab.crawler.sinks.elastic.bulk import Action, index_actions
from onionlab.crawler.sinks.elastic.client import make_client, resolve_settings
from onionlab.crawler.sinks.elastic.documents import RunInfo
from onionlab.crawler.sinks.elastic.load import item_actions
from tests.support.es_node import running_node, wipe
from tests.support.known_crawl import known_items, write_run


def client(url: str, **options: object):  # type: ignore[no-untyped-def]
    return make_client(resolve_settings({"url": url})).options(**options)


def documents(run_dir: Path | None, count: int) -> list[Action]:
    """``count`` Elasticsearch documents: the run's items, repeated under fresh ids."""
    with tempfile.TemporaryDirectory() as scratch:
        path = run_dir or write_run(Path(scratch), known_items(listings=400))
        base = list(item_actions(RunDir(path), RunInfo.of_run_dir(path)))
    return [
        Action(a.alias, f"{a.id}-{n // len(base)}", a.doc)
        for n, a in ((n, base[n % len(base)]) for n in range(count))
    ]


def through_client(url: str, actions: list[Action], chunk: int, streams: int) -> float:
    """Seconds to index ``actions`` in ``streams`` parallel streams of ``chunk``-sized bulks."""
    clients = [client(url, request_timeout=60) for _ in range(streams)]
    shards = [actions[i::streams] for i in range(streams)]
    started = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        reports = list(
            pool.map(
                lambda pair: index_actions(pair[0], pair[1], chunk_size=chunk),
                zip(clients, shards, strict=True),
            )
        )
    elapsed = time.perf_counter() - started
    failures = sum(len(report.failures) for report in reports)
    if failures:
        raise SystemExit(f"{failures} documents failed: the figures would be wrong")
    return elapsed


def raw_bulk(url: str, actions: list[Action], chunk: int) -> float:
    """Seconds to POST the same documents to ``_bulk`` with urllib (no client, no accounting)."""
    bodies = []
    for start in range(0, len(actions), chunk):
        lines = []
        for action in actions[start : start + chunk]:
            lines.append(json.dumps({"index": {"_index": action.alias, "_id": "raw-" + action.id}}))
            lines.append(json.dumps(action.doc))
        bodies.append(("\n".join(lines) + "\n").encode())
    started = time.perf_counter()
    for body in bodies:
        request = urllib.request.Request(
            f"{url}/_bulk", data=body, headers={"Content-Type": "application/x-ndjson"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            if json.loads(response.read()).get("errors"):
                raise SystemExit("raw bulk reported errors")
    return time.perf_counter() - started


def row(path: str, chunk: int, streams: int, seconds: float, docs: int) -> None:
    print(f"{path:<28}{chunk:>7}{streams:>9}{seconds:>9.2f}{docs / seconds:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--chunk", default="500,1000,2000")
    parser.add_argument("--streams", default="1,2")
    parser.add_argument("--run-dir", type=Path)
    args = parser.parse_args()
    actions = documents(args.run_dir, args.docs)
    size = sum(len(json.dumps(a.doc)) for a in actions) / len(actions)
    print(f"{len(actions)} documents, {size:.0f} bytes each on average, {os.cpu_count()} CPUs")
    print(f"{'path':<28}{'chunk':>7}{'streams':>9}{'seconds':>9}{'docs/s':>9}")
    with running_node("onionlab-es-bench-") as node:
        admin = client(node.url, request_timeout=60)
        for chunk in (int(c) for c in args.chunk.split(",")):
            for streams in (int(s) for s in args.streams.split(",")):
                wipe(admin)
                assert provision.setup(admin).ok
                seconds = through_client(node.url, actions, chunk, streams)
                row("index_actions (client)", chunk, streams, seconds, len(actions))
                if streams == 1:
                    seconds = raw_bulk(node.url, actions, chunk)
                    row("raw _bulk (urllib)", chunk, 1, seconds, len(actions))


if __name__ == "__main__":
    main()
