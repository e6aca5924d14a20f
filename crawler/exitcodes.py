"""The ``onionlab`` command's exit codes: one table, used by every command and by ``--help``.

A trainee's script (or CI) can tell from the code alone what happened. Depends on nothing.
"""

from __future__ import annotations

OK = 0
FAILED = 1  # the command failed; the message says why and what to do
USAGE = 2  # wrong usage: an unknown option, a missing argument, an invalid input file
TOR = 3  # Tor is not reachable, or the SOCKS port is not Tor
NO_LAB = 4  # no lab is running, or no lab is installed
SERVICE = 5  # Elasticsearch not reachable, or Kibana not ready in time
NOT_SAVED = 6  # the crawl stopped because results could not be written (disk full, I/O)
DAMAGED = 7  # a run directory is damaged or is not an onionlab run
INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT) or SIGTERM, as shells report SIGINT: resumable

HELP = """\b
Exit codes:
  0    success (a crawl stopped by your --max-pages or --max-seconds cap too)
  1    the command failed (the message says why and what to do)
  2    wrong usage (unknown option, missing argument, invalid input file)
  3    Tor is not reachable, or the SOCKS port is not Tor
  4    no lab is running, or no lab is installed
  5    Elasticsearch not reachable, or Kibana not ready in time (index, kibana)
  6    the crawl stopped: its results could not be saved (disk full, I/O error)
  7    a run directory is damaged or is not an onionlab run
  130  interrupted (Ctrl-C or SIGTERM): continue with onionlab crawl --resume RUN_DIR
"""
