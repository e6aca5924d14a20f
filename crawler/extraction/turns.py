"""Which waiting page an extraction worker takes next: sites in turn, bounded by cost.

The pool (:mod:`onionlab.crawler.extraction.pool`) keeps a queue of pages per site and asks
:func:`next_job` for each worker with room in its line. Sites take turns, and two kinds of
page are kept from holding every worker, so that other sites' pages keep flowing (and,
through the obstacle gate, which waits for each page's worker, other sites' fetching):

- a site whose page has run over :data:`SLOW` seconds keeps all workers but one until its
  pages run into their time bound;
- pages over :data:`HEAVY_BYTES` are worked on by all workers but one at most: two of them
  starting together had held both workers for seconds.

Depends on the extraction process module (its ``Job`` and ``WorkerProcess``) only.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence

from onionlab.crawler.extraction.process import Job, WorkerProcess

SLOW = 1.0  # seconds: a page running longer marks its site as slow
# Bytes: a page this big takes a worker seconds (a 4 MB page of attributes: 1.8 s, a 4 MB
# link flood: 4 s).
HEAVY_BYTES = 1024 * 1024


def stuck(worker: WorkerProcess, now: float) -> bool:
    """Whether the page ``worker`` is on has run longer than :data:`SLOW`."""
    return bool(worker.jobs) and now - worker.started > SLOW


def _holders(workers: Sequence[WorkerProcess], host: str) -> int:
    return sum(1 for w in workers if any(j.host == host for j in w.jobs))


def _heavy_elsewhere(workers: Sequence[WorkerProcess], worker: WorkerProcess) -> int:
    return sum(
        1 for w in workers if w is not worker and any(len(j.body) >= HEAVY_BYTES for j in w.jobs)
    )


def next_job(
    queues: OrderedDict[str, deque[Job]],
    worker: WorkerProcess,
    workers: Sequence[WorkerProcess],
    now: float,
) -> Job | None:
    """The next page for ``worker`` (taken off ``queues``; its site goes to the end of the
    turn), or None when no site may give it one now. ``workers`` are the pool's ready ones."""
    most = max(1, len(workers) - 1)  # workers one site (or the heavy pages) may hold
    for host in list(queues):
        queue = queues[host]
        heavy = len(queue[0].body) >= HEAVY_BYTES and len(workers) > 1
        if heavy and _heavy_elsewhere(workers, worker) + 1 > most:
            continue
        if not any(j.host == host for j in worker.jobs):  # it would take another worker
            slow = any(w.jobs and w.jobs[0].host == host and stuck(w, now) for w in workers)
            if slow and _holders(workers, host) >= most:
                continue
        job = queue.popleft()
        del queues[host]
        if queue:
            queues[host] = queue  # to the end of the turn
        if job.future.done():  # given up meanwhile
            return next_job(queues, worker, workers, now)
        return job
    return None
