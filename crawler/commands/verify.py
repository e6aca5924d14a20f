"""``onionlab verify``: is a run directory still exactly what the crawl wrote?

CLI layer over :mod:`onionlab.crawler.runs.manifest` (every file against ``manifest.json``)
and :mod:`onionlab.crawler.runs.warccheck` (every WARC record against its digests).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from onionlab.crawler import exitcodes
from onionlab.crawler.commands.errors import fail
from onionlab.crawler.commands.options import json_option, print_json


@click.command(name="verify")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@json_option()
def verify_command(run_dir: Path, as_json: bool) -> None:
    """Check that RUN_DIR is exactly what the crawl wrote: evidence that holds.

    Every file is compared with the run's manifest.json (size and SHA-256, written when the
    crawl's session ended), and every record of the WARC files in RUN_DIR/warc with the
    SHA-256 of its bytes and its own WARC digests. Prints the manifest's SHA-256 (note it
    in your case file: with it the manifest cannot be changed unseen), then either "intact"
    or each change: the file (altered, missing or added) and, in a WARC file, the record
    (byte offset, type, URL, record id). Changes onionlab itself made after the crawl
    (`onionlab index load` rewrites spool.ndjson as it replays it) are in the manifest's
    custody log, listed as "recorded", with the new manifest's SHA-256 printed by that
    command.

    Exit codes: 0 when nothing changed; 1 when anything did; 7 when RUN_DIR has no
    manifest or it is damaged (a crawl killed before its end: resume it to write one).

    \b
    Examples:
      onionlab verify onionlab-data/runs/<run>
      onionlab verify onionlab-data/runs/<run> --json
    """
    from onionlab.crawler.runs import manifest, warccheck
    from onionlab.crawler.runs.rundir import RunDirDamaged

    try:
        listed = manifest.load(run_dir)
    except RunDirDamaged as exc:
        fail(str(exc), exitcodes.DAMAGED)
    manifest_sha = manifest.file_sha256(run_dir / manifest.NAME)
    changes = manifest.check_manifest(run_dir, listed)
    records, problems = warccheck.check_run(run_dir)
    intact = not changes and not problems
    if as_json:
        print_json(
            {
                "run_dir": str(run_dir),
                "intact": intact,
                "manifest_sha256": manifest_sha,
                "files": len(listed["files"]),
                "warc_records": records,
                "recorded_changes": listed.get("changes") or [],
                "changed_files": [asdict(change) for change in changes],
                "changed_records": [
                    {"file": p.file, "offset": p.offset, "record": p.record, "problem": p.problem}
                    for p in problems
                ],
            }
        )
    else:
        click.echo(f"{run_dir}: {manifest.summary_line(listed)}")
        click.echo(f"manifest.json sha256 {manifest_sha}")
        for line in manifest.custody_lines(listed):
            click.echo(f"recorded: {line}")
        for change in [*changes, *problems]:
            click.echo(f"CHANGED {change}")
        if intact:
            files = len(listed["files"])
            click.echo(f"intact: {files} files and {records} WARC records as written")
        else:
            click.echo(
                f"NOT intact: {len(changes)} file(s) and {len(problems)} WARC record(s) differ "
                "from what the crawl wrote"
            )
    if not intact:
        raise SystemExit(exitcodes.FAILED)
