"""The run directory: one folder per crawl holding everything needed to score or replay it.

Layout: ``items.ndjson`` (Elasticsearch bulk format: action line, then document),
``errors.ndjson`` (one line per page that could not be fetched), ``stats.json`` (Scrapy's
stats), ``summary.json`` (what ``onionlab crawl --json`` prints), ``config.json`` (how the
crawl was started) and ``crawl.log``.

Writing: :class:`AppendFile` appends whole records in one write and cuts a failed write back
off (a full disk leaves no half line); :meth:`RunDir.write_json` replaces a JSON file
atomically. Reading: every reader raises :class:`RunDirDamaged` (file, line, what to do)
instead of a traceback on a truncated or garbage file. Depends on the standard library and
:mod:`onionlab.crawler.frontier` (counting ids compactly).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

INDEX_PREFIX = "onionlab"
MAX_LINE = 16 * 1024 * 1024  # no line onionlab writes comes near: a bound on what is read
DAMAGED_HINT = "the run directory is damaged: restore it from a copy, or start a new crawl"


_PLURALS = {"vendor_identity": "vendor-identities"}


def index_for(kind: str) -> str:
    """The index (alias) name items of ``kind`` are written to, e.g. ``onionlab-listings``."""
    return f"{INDEX_PREFIX}-{_PLURALS.get(kind, kind + 's')}"


class RunDirDamaged(Exception):
    """A run-directory file that cannot be read: one line naming the file, the line and what
    to do (the CLI exits 7, ``onionlab.crawler.exitcodes.DAMAGED``)."""

    def __init__(self, path: Path, problem: str, line: int | None = None, hint: str = "") -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}; {hint or DAMAGED_HINT}")
        self.path = path
        self.line = line


class WriteFailed(OSError):
    """A write to the run directory failed (disk full, I/O error); nothing of it was kept."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, f"cannot write {path.name}: {cause.strerror or cause}")
        self.path = path
        self.cause = cause


def dumps_line(data: Any, **kwargs: Any) -> str:
    """``data`` as one strict JSON line (no NaN/Infinity); TypeError/ValueError if it is not
    JSON data (a ``datetime``, a set, a float NaN)."""
    return json.dumps(data, allow_nan=False, **kwargs) + "\n"


def encode_lines(*records: Any) -> bytes:
    """``records`` as strict JSON lines in UTF-8 (documents keep non-ASCII text as it is);
    TypeError/ValueError (UnicodeEncodeError for a lone surrogate) if one is not JSON data."""
    return "".join(
        dumps_line(record, ensure_ascii=False, sort_keys=True) for record in records
    ).encode("utf-8")


class AppendFile:
    """An append-only file written in whole records: :meth:`write` puts all of its text in
    the file, or (disk full, I/O error) cuts the file back to where it was and raises
    :class:`WriteFailed`. One writer per file."""

    def __init__(self, path: Path, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, text: str | bytes) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        data = text.encode("utf-8") if isinstance(text, str) else text
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            if self.fsync:
                os.fsync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)  # cutting needs no space
            raise WriteFailed(self.path, exc) from exc

    def cut(self, size: int) -> None:
        """Cut the file back to ``size`` bytes (undo a write a later one depends on)."""
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        os.ftruncate(self._fd, size)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_json(path: Path, what: str = "JSON object") -> Any:
    """The JSON object in ``path`` (RunDirDamaged if it is not one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RunDirDamaged(path, "not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise RunDirDamaged(path, f"truncated or not JSON ({exc})", line) from None
    if not isinstance(data, dict):
        raise RunDirDamaged(path, f"not a {what} (found {type(data).__name__})")
    return data


def ndjson_lines(path: Path, *, torn_tail_ok: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of every line of an NDJSON file; blank lines are skipped.

    A line that is not a JSON object raises :class:`RunDirDamaged`, except, with
    ``torn_tail_ok``, a last line without its newline (a write cut off by a kill), which is
    left out.
    """
    if not path.exists():
        return
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(MAX_LINE + 1):
            number += 1
            if len(raw) > MAX_LINE:
                raise RunDirDamaged(path, f"a line longer than {MAX_LINE} bytes", number)
            if not raw.strip():
                continue
            torn = not raw.endswith(b"\n")
            try:
                data = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                if torn and torn_tail_ok:
                    return
                problem = "truncated line" if torn else "not a JSON line"
                hint = (
                    f"onionlab crawl --resume {path.parent} repairs a crawl cut off by a kill"
                    if torn
                    else ""
                )
                raise RunDirDamaged(path, problem, number, hint) from None
            if not isinstance(data, dict):
                raise RunDirDamaged(path, f"not a JSON object ({type(data).__name__})", number)
            yield number, data


def bulk_target(action: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    """The ``{"_index", "_id"}`` of a bulk action line (RunDirDamaged if it is not one)."""
    if len(action) >= 1:
        op, target = next(iter(action.items()))
        if (
            op in ("index", "create", "update")
            and isinstance(target, dict)
            and isinstance(target.get("_index", ""), str)
            and isinstance(target.get("_id"), str)
            and target["_id"]
        ):
            return target
    raise RunDirDamaged(path, 'not a bulk action line ({"index": {"_id": …}})', line)


def _looks_like_action(data: dict[str, Any]) -> bool:
    if len(data) not in (1, 2):  # a spool action line has "spool" beside "index"
        return False
    op, target = next(iter(data.items()))
    return op in ("index", "create", "update") and isinstance(target, dict) and "_id" in target


def bulk_pairs(
    path: Path, *, torn_tail_ok: bool = False
) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
    """``(line of the action, action, document)`` of a bulk NDJSON file, every pair checked.

    With ``torn_tail_ok``, a last action without its document is left out as well.
    """
    pending: tuple[int, dict[str, Any]] | None = None
    for number, data in ndjson_lines(path, torn_tail_ok=torn_tail_ok):
        if pending is None:
            bulk_target(data, path, number)
            pending = (number, data)
            continue
        if _looks_like_action(data):  # the pending action lost its document
            raise RunDirDamaged(path, "an action line without its document", pending[0])
        if not isinstance(data.get("kind", ""), str):
            raise RunDirDamaged(path, "a document whose kind is not a string", number)
        yield pending[0], pending[1], data
        pending = None
    if pending is not None and not torn_tail_ok:
        raise RunDirDamaged(
            path,
            "an action line without its document (cut off?)",
            pending[0],
            f"onionlab crawl --resume {path.parent} repairs a crawl cut off by a kill",
        )


@dataclass(frozen=True)
class RunDir:
    path: Path

    @classmethod
    def create(cls, runs_root: Path, name: str | None = None) -> RunDir:
        """Make a new, empty run directory under ``runs_root`` (named by UTC time if no name)."""
        stamp = name or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = runs_root / stamp
        suffix = 1
        while path.exists():
            suffix += 1
            path = runs_root / f"{stamp}-{suffix}"
        path.mkdir(parents=True)
        return cls(path)

    @property
    def items(self) -> Path:
        return self.path / "items.ndjson"

    @property
    def errors(self) -> Path:
        return self.path / "errors.ndjson"

    @property
    def stats(self) -> Path:
        return self.path / "stats.json"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def log(self) -> Path:
        return self.path / "crawl.log"

    @property
    def sites(self) -> Path:
        return self.path / "sites.json"

    def is_run(self) -> bool:
        """Whether the directory looks like an onionlab run (any of its files is there)."""
        names = ("items.ndjson", "config.json", "summary.json", "resume.ndjson")
        return any((self.path / name).is_file() for name in names)

    def write_json(self, path: Path, data: Any) -> None:
        """Replace ``path`` with ``data`` atomically: a failed write (disk full) keeps the old
        file and raises :class:`WriteFailed`."""
        text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
        temporary = path.with_name(f".{path.name}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise WriteFailed(path, exc) from exc

    def read_json(self, path: Path) -> dict[str, Any] | None:
        """The JSON object in ``path``; None if there is no such file."""
        return read_json(path) if path.exists() else None

    def iter_docs(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(action, document)`` pairs from ``items.ndjson`` (RunDirDamaged on a
        truncated or garbage line)."""
        for _line, action, doc in bulk_pairs(self.items):
            yield action, doc

    def documents(self, kind: str) -> list[dict[str, Any]]:
        """Every document of ``kind`` in the run, the last write of each id winning."""
        by_id: dict[str, dict[str, Any]] = {}
        for action, doc in self.iter_docs():
            if doc.get("kind") == kind:
                by_id[next(iter(action.values()))["_id"]] = doc
        return list(by_id.values())

    def count_documents(self) -> dict[str, int]:
        """Distinct documents per kind in ``items.ndjson`` (a re-written id counts once);
        the ids are held as digests (:class:`onionlab.crawler.frontier.DigestSet`), so a
        run of millions of items is counted in tens of MB, not hundreds."""
        from onionlab.crawler.frontier import DigestSet

        ids: dict[str, DigestSet] = {}
        for action, doc in self.iter_docs():
            kind = str(doc.get("kind"))
            found = ids.get(kind)
            if found is None:
                found = ids[kind] = DigestSet()
            found.add(str(next(iter(action.values()))["_id"]))
        return {kind: len(found) for kind, found in sorted(ids.items())}

    def check(self) -> None:
        """Read every file of the run that onionlab reads back (items, errors, summary,
        stats, config, sites); raise :class:`RunDirDamaged` on the first damaged one."""
        for _ in bulk_pairs(self.items):
            pass
        for _ in ndjson_lines(self.errors):
            pass
        for path in (self.summary, self.stats, self.config, self.sites):
            self.read_json(path)
