"""The run manifest: every file of a run with its size and SHA-256, for a chain of custody.

Written as ``manifest.json`` when a crawl session ends, after every other file of the run
(:func:`write_manifest`); a resumed run writes it again at the end of its session. Its own
SHA-256 goes into the crawl's summary (``manifest_sha256``) and onto the screen, for the case
file: with it, the manifest itself cannot be changed unseen. :func:`check_manifest` says, file
by file, what differs from it now: altered (size and digest then and now), missing, or added
since. The record-level check of the WARC files is :mod:`onionlab.crawler.runs.warccheck`.
Depends on the standard library and the run directory's writer.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onionlab.crawler.runs.rundir import RunDir, RunDirDamaged, read_json

NAME = "manifest.json"
SCHEMA = "onionlab-manifest/1"
_CHUNK = 1024 * 1024


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, hex, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(_CHUNK):
            digest.update(piece)
    return digest.hexdigest()


def run_files(run: Path) -> Iterator[Path]:
    """Every regular file of the run directory but the manifest and half-written temporaries
    (``.<name>.tmp``), sorted, as paths relative to ``run``."""
    for folder, dirs, files in os.walk(run):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            relative = path.relative_to(run)
            if relative == Path(NAME) or (name.startswith(".") and name.endswith(".tmp")):
                continue
            if path.is_file() and not path.is_symlink():
                yield relative


def build(run: Path) -> dict[str, Any]:
    """The manifest of ``run`` as it is now."""
    files = {}
    for relative in run_files(run):
        path = run / relative
        files[relative.as_posix()] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    return {
        "schema": SCHEMA,
        "run": run.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
    }


def write_manifest(run: Path) -> str:
    """Write ``manifest.json`` for ``run`` (atomically); the SHA-256 of what was written."""
    RunDir(run).write_json(run / NAME, build(run))
    return file_sha256(run / NAME)


@dataclass(frozen=True)
class Change:
    """One file that differs from the manifest."""

    path: str
    what: str  # "altered", "missing", "added"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.what}" + (f" ({self.detail})" if self.detail else "")


def load(run: Path) -> dict[str, Any]:
    """The manifest of ``run``; :class:`RunDirDamaged` if there is none or it is not one."""
    path = run / NAME
    if not path.is_file():
        raise RunDirDamaged(
            path,
            "no manifest (a crawl writes it when its session ends)",
            hint="a crawl cut off by a kill has none: onionlab crawl --resume "
            f"{run} finishes it and writes one (a run made by an onionlab older than its "
            "manifests never gets one)",
        )
    data = read_json(path)
    files = data.get("files")
    if data.get("schema") != SCHEMA or not isinstance(files, dict):
        raise RunDirDamaged(path, f"not an onionlab manifest (schema {SCHEMA!r})")
    for name, entry in files.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("bytes"), int)
        ):
            raise RunDirDamaged(path, f"the entry of {name!r} has no sha256 and bytes")
    return data


def check_manifest(run: Path, manifest: dict[str, Any]) -> list[Change]:
    """Every file of ``run`` that differs from ``manifest`` now, in path order."""
    listed: dict[str, dict[str, Any]] = manifest["files"]
    present = {relative.as_posix() for relative in run_files(run)}
    changes = []
    for name in sorted(set(listed) | present):
        entry = listed.get(name)
        if entry is None:
            size = (run / name).stat().st_size
            changes.append(Change(name, "added", f"{size} bytes, not in the manifest"))
            continue
        if name not in present:
            changes.append(Change(name, "missing", f"{entry['bytes']} bytes in the manifest"))
            continue
        path = run / name
        size = path.stat().st_size
        digest = file_sha256(path)
        if digest != entry["sha256"] or size != entry["bytes"]:
            detail = (
                f"{entry['bytes']} bytes, sha256 {entry['sha256'][:16]}… in the manifest; "
                f"now {size} bytes, sha256 {digest[:16]}…"
            )
            changes.append(Change(name, "altered", detail))
    return changes


def record_change(run: Path, names: list[str], by: str, why: str) -> str | None:
    """onionlab itself changed ``names`` in a sealed run (``index load`` rewrites the spool
    as it replays it): update their entries and add what changed, when, by which command
    and why to the manifest's ``changes`` (its custody log, which ``verify`` shows). The
    new manifest's SHA-256, or None when the run has no manifest or nothing changed."""
    path = run / NAME
    if not path.is_file():
        return None
    data = load(run)
    changed: dict[str, Any] = {}
    for name in names:
        before = data["files"].get(name)
        now = run / name
        after = None
        if now.is_file():
            after = {"bytes": now.stat().st_size, "sha256": file_sha256(now)}
        if after != before:
            changed[name] = {"before": before, "after": after}
            if after is None:
                data["files"].pop(name, None)
            else:
                data["files"][name] = after
    if not changed:
        return None
    at = datetime.now(UTC).isoformat(timespec="seconds")
    data.setdefault("changes", []).append({"at": at, "by": by, "why": why, "files": changed})
    RunDir(run).write_json(path, data)
    return file_sha256(path)


def custody_lines(manifest: dict[str, Any]) -> list[str]:
    """The changes onionlab recorded after the crawl, one line each (``verify``)."""
    lines = []
    for change in manifest.get("changes") or []:
        if isinstance(change, dict):
            files = ", ".join(sorted(change.get("files") or {}))
            lines.append(
                f"{change.get('at')}: {change.get('by')} changed {files} ({change.get('why')})"
            )
    return lines


def summary_line(manifest: dict[str, Any]) -> str:
    """``N files, B bytes, created T`` for the verify command's first line."""
    files = manifest["files"]
    total = sum(int(entry["bytes"]) for entry in files.values())
    return f"{len(files)} files, {total} bytes, manifest written {manifest.get('created', '?')}"
