"""The run directory: one folder per crawl holding everything needed to score or replay it.

Layout: ``items.ndjson`` (Elasticsearch bulk format: action line, then document),
``errors.ndjson`` (one line per page that could not be fetched), ``stats.json`` (Scrapy's
stats), ``summary.json`` (what ``onionlab crawl --json`` prints), ``config.json`` (how the
crawl was started) and ``crawl.log``. Depends on the standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

INDEX_PREFIX = "onionlab"


_PLURALS = {"vendor_identity": "vendor-identities"}


def index_for(kind: str) -> str:
    """The index (alias) name items of ``kind`` are written to, e.g. ``onionlab-listings``."""
    return f"{INDEX_PREFIX}-{_PLURALS.get(kind, kind + 's')}"


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

    def write_json(self, path: Path, data: Any) -> None:
        path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")

    def iter_docs(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(action, document)`` pairs from ``items.ndjson``."""
        if not self.items.exists():
            return
        with self.items.open(encoding="utf-8") as lines:
            for action_line in lines:
                if not action_line.strip():
                    continue
                yield json.loads(action_line), json.loads(next(lines))

    def documents(self, kind: str) -> list[dict[str, Any]]:
        """Every document of ``kind`` in the run, the last write of each id winning."""
        by_id: dict[str, dict[str, Any]] = {}
        for action, doc in self.iter_docs():
            if doc.get("kind") == kind:
                by_id[next(iter(action.values()))["_id"]] = doc
        return list(by_id.values())

    def count_documents(self) -> dict[str, int]:
        """Distinct documents per kind in ``items.ndjson`` (a re-written id counts once)."""
        ids: dict[str, set[str]] = {}
        for action, doc in self.iter_docs():
            ids.setdefault(str(doc.get("kind")), set()).add(next(iter(action.values()))["_id"])
        return {kind: len(found) for kind, found in sorted(ids.items())}
