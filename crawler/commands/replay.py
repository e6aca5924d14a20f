"""``onionlab replay``: a run's captured pages in a browser, as they were, after the site is gone.

Serves the WARC files of a run (``RUN_DIR/warc``, see :mod:`onionlab.crawler.sinks.warc`) with
pywb, Webrecorder's replay system, on 127.0.0.1 only and without a live web: a page that was
not captured is a 404, never fetched. pywb runs in an environment of its own (``bin/setup``
puts it in ``.venv-replay`` and its ``wayback`` and ``cdx-indexer`` beside onionlab's Python):
its gevent stack stays out of the crawler's. The index and pywb's configuration go to a
temporary folder, never into the run directory (its manifest stays true).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from onionlab.crawler import exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.summary import err

COLLECTION = "run"


def pywb_tool(name: str) -> str | None:
    """The path of one of pywb's commands: beside this Python (where ``bin/setup`` links
    them), else on ``PATH``; None if neither has it."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def replay_url(port: int, url: str = "") -> str:
    """The address at which pywb shows the capture of ``url`` (its newest one)."""
    return f"http://127.0.0.1:{port}/{COLLECTION}/{url}"


def prepare(run_dir: Path, folder: Path, indexer: str) -> int:
    """Index the run's WARC files into ``folder`` with pywb's ``indexer`` and write pywb's
    ``config.yaml`` there; the number of captures indexed."""
    warcs = sorted(str(path) for path in (run_dir / "warc").glob("*.warc.gz"))
    index = folder / "index.cdxj"
    with index.open("wb") as out:
        done = subprocess.run(
            [indexer, "--postappend", "--cdxj", "--sort", *warcs],
            stdout=out, stderr=subprocess.PIPE, timeout=3600, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        fail(f"pywb could not index {run_dir / 'warc'}: {message[0]}")
    (folder / "config.yaml").write_text(
        "# written by onionlab replay\n"
        "collections:\n"
        f"  {COLLECTION}:\n"
        f"    index_paths: {index}\n"
        f"    archive_paths: {run_dir.resolve() / 'warc'}/\n"
        # the page alone, as it looked, not inside pywb's frame with its banner
        "framed_replay: false\n",
        encoding="utf-8",
    )
    with index.open("rb") as handle:
        return sum(1 for _ in handle)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def start_urls(run_dir: Path) -> list[str]:
    """The URLs the run's crawl started from (its ``config.json``), if it says."""
    from onionlab.crawler.runs.rundir import RunDir, RunDirDamaged

    run = RunDir(run_dir)
    try:
        config = run.read_json(run.config) or {}
    except RunDirDamaged:
        return []
    return [str(url) for url in config.get("start_urls") or []]


@click.command(name="replay")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--port",
    default=8090,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port on 127.0.0.1 to serve the replay on.",
)
def replay_command(run_dir: Path, port: int) -> None:
    """Show the pages captured in RUN_DIR in your browser, as they looked when crawled.

    Serves the run's WARC files (RUN_DIR/warc) on http://127.0.0.1:PORT/ with pywb,
    Webrecorder's replay system, until Ctrl-C: open the address it prints, or
    http://127.0.0.1:PORT/run/<the page's onion URL>. Only what was captured is shown;
    nothing is fetched from the network, so this works after the site is gone, without
    Tor. Nothing is written into RUN_DIR (its manifest stays true).

    Exit codes: 0 after Ctrl-C; 1 when pywb is not installed or the port is taken;
    7 when RUN_DIR has no WARC files (crawled with --no-capture?).

    \b
    Examples:
      onionlab replay onionlab-data/runs/<run>
      onionlab replay onionlab-data/runs/<run> --port 8091
    """
    if not list((run_dir / "warc").glob("*.warc.gz")):
        fail(
            f"{run_dir} has no WARC files (no {run_dir / 'warc'}): only a crawl with evidence "
            "capture (the default, not --no-capture) can be replayed",
            exitcodes.DAMAGED,
        )
    wayback, indexer = pywb_tool("wayback"), pywb_tool("cdx-indexer")
    if wayback is None or indexer is None:
        fail("pywb (Webrecorder's replay system) is not installed: run bash bin/setup")
    # SIGTERM stops the replay as Ctrl-C does: pywb is stopped too, never left behind
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="onionlab-replay-") as tmp:
        folder = Path(tmp)
        captures = prepare(run_dir, folder, indexer)
        server = subprocess.Popen(
            [wayback, "--bind", "127.0.0.1", "--port", str(port), "--directory", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder,
        )  # fmt: skip
        try:
            time.sleep(0.5)
            if server.poll() is not None:
                why = (server.stderr.read() if server.stderr else b"").decode(errors="replace")
                fail(f"pywb did not start on 127.0.0.1:{port}: {why.strip()[-300:]}")
            err.print(f"replaying {captures} captures of {run_dir}; the sites it started from:")
            for url in start_urls(run_dir)[:20]:
                err.print(f"  {replay_url(port, url)}", markup=False, highlight=False)
            click.echo(f"replaying at {replay_url(port)}  (Ctrl-C to stop)")
            sys.stdout.flush()
            server.wait()
            why = (server.stderr.read() if server.stderr else b"").decode(errors="replace")
            fail(f"pywb stopped (exit {server.returncode}): {why.strip()[-300:]}")
        except KeyboardInterrupt:
            pass
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
