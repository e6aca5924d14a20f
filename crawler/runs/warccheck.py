"""Record by record: is every WARC record of a run still the one the crawl wrote?

For each ``warc/*.warc.gz`` of a run and its members list (``.members.ndjson``, see
:mod:`onionlab.crawler.sinks.warc`), :func:`check_warc` says which records changed:

- the gzip member at the listed offset and length no longer has the listed SHA-256 (any
  changed byte of a record, even one that makes it unreadable, names that record: its type,
  target URI and record id, from the list);
- a record whose member is intact must also read back with its own digests
  (``WARC-Block-Digest``, ``WARC-Payload-Digest``, checked by warcio as it reads);
- bytes in the file that no listed member covers (appended, or the file cut short).

The members lists themselves are in the run manifest, so changing a list to match a changed
record shows there. Depends on warcio and the standard library.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from onionlab.crawler.sinks.warc import FOLDER, MEMBERS_SUFFIX


@dataclass(frozen=True)
class RecordProblem:
    """One WARC record (or stretch of a WARC file) that is not as the crawl wrote it."""

    file: str
    offset: int
    problem: str
    record: str = ""  # "response http://…onion/item/3 <urn:uuid:…>"

    def __str__(self) -> str:
        where = f"{self.file} at byte {self.offset}"
        return f"{where}: {self.record + ': ' if self.record else ''}{self.problem}"


def warc_files(run: Path) -> list[Path]:
    """The run's WARC files, in name order."""
    return sorted((run / FOLDER).glob("*.warc.gz"))


def _members(path: Path) -> Iterator[dict[str, object]]:
    listing = path.with_name(path.name + MEMBERS_SUFFIX)
    if not listing.is_file():
        return
    with listing.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue  # a damaged list is the manifest's to report
                if isinstance(entry, dict):
                    yield entry


def _describe(entry: dict[str, object]) -> str:
    return f"{entry.get('type')} {entry.get('uri')} {entry.get('id')}"


def _read_back(member: bytes) -> str:
    """What is wrong with an intact member's own digests; "" if nothing."""
    try:
        for record in ArchiveIterator(io.BytesIO(member), check_digests=True):
            stream = record.content_stream()
            while stream.read(1024 * 1024):
                pass
            if record.digest_checker.passed is False:
                return "; ".join(str(p) for p in record.digest_checker.problems)
    except (ArchiveLoadFailed, OSError, ValueError, EOFError) as exc:
        return f"cannot be read: {exc}"
    return ""


def check_warc(path: Path, name: str) -> list[RecordProblem]:
    """Every problem of the WARC file at ``path`` (``name`` is how to call it)."""
    problems: list[RecordProblem] = []
    members = list(_members(path))
    if not members:
        return [RecordProblem(name, 0, f"no list of its records ({path.name}{MEMBERS_SUFFIX})")]
    size = path.stat().st_size
    covered = 0
    with path.open("rb") as handle:
        for entry in members:
            offset, length = entry.get("offset"), entry.get("length")
            if not isinstance(offset, int) or not isinstance(length, int):
                problems.append(RecordProblem(name, covered, "a members-list line is damaged"))
                continue
            if offset != covered:
                problems.append(
                    RecordProblem(name, covered, f"{offset - covered} bytes no record covers")
                )
            handle.seek(offset)
            member = handle.read(length)
            covered = offset + length
            if len(member) < length:
                cut = "cut short: the file ends inside it"
                problems.append(RecordProblem(name, offset, cut, _describe(entry)))
                break
            if hashlib.sha256(member).hexdigest() != entry.get("sha256"):
                problems.append(
                    RecordProblem(name, offset, "altered: its bytes changed", _describe(entry))
                )
                continue
            wrong = _read_back(member)
            if wrong:
                problems.append(RecordProblem(name, offset, wrong, _describe(entry)))
    if size > covered:
        problems.append(
            RecordProblem(name, covered, f"{size - covered} bytes after the last record")
        )
    return problems


def check_run(run: Path) -> tuple[int, list[RecordProblem]]:
    """``(records checked, problems)`` over every WARC file of ``run``."""
    problems: list[RecordProblem] = []
    records = 0
    for path in warc_files(run):
        records += sum(1 for _ in _members(path))
        problems.extend(check_warc(path, path.relative_to(run).as_posix()))
    return records, problems


def capture_totals(run: Path) -> dict[str, int]:
    """The run's WARC files, bytes and records (every session's), for the crawl summary."""
    files = warc_files(run)
    records = 0
    for path in files:
        listing = path.with_name(path.name + MEMBERS_SUFFIX)
        if listing.is_file():
            with listing.open("rb") as handle:
                records += sum(1 for line in handle if line.strip())
    return {
        "files": len(files),
        "bytes": sum(path.stat().st_size for path in files),
        "records": records,
    }
