"""Bulk indexing speed into a real Elasticsearch node: onionlab's bulk path against raw ``_bulk``.

    python -m bench.bulk_index [--docs 20000] [--chunk 500,1000,2000] [--streams 1,2]
                               [--repeat 3] [--run-dir RUN_DIR]

Starts a node of the stack's version on 127.0.0.1 (a free port: ``bin/elasticsearch``, the
test suite's; run ``bash bin/elasticsearch fetch`` once first), applies ``onionlab index
setup`` and indexes documents with :func:`onionlab.crawler.sinks.elastic.bulk.index_actions`
(per-item accounting, history reads for listings: the path the crawl pipeline and
``onionlab index load`` use). Documents are a synthetic crawl's items transformed by
:mod:`onionlab.crawler.sinks.elastic.documents` (or a real run's, with ``--run-dir``),
repeated under fresh ids up to ``--docs``.

Beside it, raw ``_bulk``: the same documents under the same ids into the same freshly set up
aliases (``require_alias``, the same index settings and refresh interval), encoded with the
standard ``json`` inside the timer and POSTed one request at a time with urllib: what any
client must do, without onionlab's accounting and history reads. Also N parallel streams
(threads) of the path, to show how the server scales. Fair by construction: an untimed
warm-up of both first (the JVM compiles its indexing code on the first documents), every
line on emptied and freshly set up indices, ``--repeat`` rounds interleaved, the median of
each line shown. Besides wall time, the CPU seconds of this process (the client) and of the
node: on a shared machine they show who did the work when the wall clock waits for a CPU.
Goal: 10,000 docs/s. Prints a table; asserts nothing. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from onionlab.crawler.runs.rundir import RunDir
from onionlab.crawler.sinks.elastic import provision
from onionlab.crawler.sinks.elastic.bulk import Action, index_actions
from onionlab.crawler.sinks.elastic.client import make_client, resolve_settings
from onionlab.crawler.sinks.elastic.documents import RunInfo
from onionlab.crawler.sinks.elastic.load import item_actions
from tests.support.es_node import Node, running_node, wipe

WARM_UP_DOCS = 10_000
PATH, RAW = "index_actions (onionlab)", "raw _bulk (urllib)"
Line = tuple[str, int, int]  # path, chunk, streams
Figures = tuple[float, float, float]  # wall, client CPU, node CPU seconds


def client(url: str, **options: object):  # type: ignore[no-untyped-def]
    return make_client(resolve_settings({"url": url})).options(**options)


def documents(run_dir: Path | None, count: int) -> list[Action]:
    """``count`` Elasticsearch documents: the run's items, repeated under fresh ids."""
    from tests.support.known_crawl import known_items, write_run

    with tempfile.TemporaryDirectory() as scratch:
        path = run_dir or write_run(Path(scratch), known_items(listings=400))
        base = list(item_actions(RunDir(path), RunInfo.of_run_dir(path)))
    return [
        Action(a.alias, f"{a.id}-{n // len(base)}", a.doc)
        for n, a in ((n, base[n % len(base)]) for n in range(count))
    ]


def through_client(url: str, actions: list[Action], chunk: int, streams: int) -> None:
    """Index ``actions`` in ``streams`` parallel streams of ``chunk``-sized bulks."""
    clients = [client(url, request_timeout=60) for _ in range(streams)]
    shards = [actions[i::streams] for i in range(streams)]
    with ThreadPoolExecutor(streams) as pool:
        reports = list(
            pool.map(
                lambda pair: index_actions(pair[0], pair[1], chunk_size=chunk),
                zip(clients, shards, strict=True),
            )
        )
    failures = sum(len(report.failures) for report in reports)
    if failures or sum(report.indexed_total for report in reports) != len(actions):
        raise SystemExit(f"{failures} documents failed: the figures would be wrong")


def raw_bulk(url: str, actions: list[Action], chunk: int) -> None:
    """Encode the same documents and POST them to ``_bulk`` with urllib, one chunk a request."""
    for start in range(0, len(actions), chunk):
        lines = []
        for action in actions[start : start + chunk]:
            lines.append(json.dumps({"index": {"_index": action.alias, "_id": action.id}}))
            lines.append(json.dumps(action.doc))
        request = urllib.request.Request(
            f"{url}/_bulk?require_alias=true",
            data=("\n".join(lines) + "\n").encode(),
            headers={"Content-Type": "application/x-ndjson"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            if json.loads(response.read()).get("errors"):
                raise SystemExit("raw bulk reported errors")


def node_cpu(node: Node) -> float:
    """CPU seconds the node's process has used (Linux ``/proc``; 0 elsewhere)."""
    try:
        stat = Path(f"/proc/{(node.directory / 'es.pid').read_text().strip()}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(node: Node, admin, work: Callable[[], None]) -> Figures:  # type: ignore[no-untyped-def]
    """Wall, client CPU and node CPU seconds of ``work`` on freshly set up indices."""
    wipe(admin)
    assert provision.setup(admin).ok
    wall, cpu, server = time.perf_counter(), time.process_time(), node_cpu(node)
    work()
    return time.perf_counter() - wall, time.process_time() - cpu, node_cpu(node) - server


def lines(actions: list[Action], chunks: list[int], streams: list[int]) -> dict[Line, Callable]:  # type: ignore[type-arg]
    """What each line of the table runs, given the node's URL."""
    work: dict[Line, Callable] = {}  # type: ignore[type-arg]
    for chunk in chunks:
        for count in streams:
            work[(PATH, chunk, count)] = lambda url, c=chunk, n=count: through_client(
                url, actions, c, n
            )
            if count == 1:
                work[(RAW, chunk, 1)] = lambda url, c=chunk: raw_bulk(url, actions, c)
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--chunk", default="500,1000,2000")
    parser.add_argument("--streams", default="1,2")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is shown")
    parser.add_argument("--run-dir", type=Path)
    args = parser.parse_args()
    actions = documents(args.run_dir, args.docs)
    size = sum(len(json.dumps(a.doc)) for a in actions) / len(actions)
    print(f"{len(actions)} documents, {size:.0f} bytes each on average, {os.cpu_count()} CPUs")
    work = lines(actions, [int(c) for c in args.chunk.split(",")],
                 [int(s) for s in args.streams.split(",")])  # fmt: skip
    figures: dict[Line, list[Figures]] = defaultdict(list)
    with running_node("onionlab-es-bench-") as node:
        admin = client(node.url, request_timeout=60)
        measured(node, admin, lambda: through_client(node.url, actions[:WARM_UP_DOCS], 500, 1))
        measured(node, admin, lambda: raw_bulk(node.url, actions[:WARM_UP_DOCS], 500))
        for _round in range(args.repeat):
            for line, run in work.items():
                figures[line].append(measured(node, admin, lambda run=run: run(node.url)))
    print(f"median of {args.repeat} rounds, each on freshly set up indices; CPU in seconds")
    print(f"{'path':<26}{'chunk':>6}{'streams':>8}{'seconds':>8}{'docs/s':>8}"
          f"{'client CPU':>11}{'node CPU':>9}")  # fmt: skip
    for (path, chunk, count), runs in figures.items():
        wall, cpu, server = (statistics.median(column) for column in zip(*runs, strict=True))
        print(f"{path:<26}{chunk:>6}{count:>8}{wall:>8.2f}{len(actions) / wall:>8.0f}"
              f"{cpu:>11.2f}{server:>9.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
