"""The lab crawl's evidence: every response in its WARC files, and ``onionlab verify`` on it.

Uses the session's crawl of the whole lab through Tor (every obstacle on). The WARC files
are read with warcio's reader, the digests recomputed here; the tampering checks work on a
copy of the run, the session's run is left as it is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from onionlab.crawler.runs.rundir import RunDir
from tests.support.cli import onionlab


def read_warcs(run: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted((run / "warc").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle, check_digests=True):
                payload = record.raw_stream.read()
                assert record.digest_checker.passed is not False, record.digest_checker.problems
                headers = record.rec_headers
                out.append(
                    {
                        "type": record.rec_type,
                        "uri": headers.get_header("WARC-Target-URI"),
                        "payload_digest": headers.get_header("WARC-Payload-Digest"),
                        "status": record.http_headers.get_statuscode()
                        if record.rec_type == "response"
                        else None,
                        "payload": payload if record.rec_type != "request" else b"",
                    }
                )
    return out


def test_every_response_of_the_crawl_is_in_its_warc_files(crawl_summary: dict[str, Any]) -> None:
    run = Path(crawl_summary["run_dir"])
    stats = json.loads((run / "stats.json").read_text())
    records = read_warcs(run)
    kinds = Counter(record["type"] for record in records)
    # one response record per response the downloader got (redirects, 429s, gates too),
    # each with the request that asked for it
    assert kinds["response"] == stats["downloader/response_count"] > 1000
    assert kinds["request"] == kinds["response"]
    assert kinds["warcinfo"] == len(list((run / "warc").glob("*.warc.gz")))
    for record in records:
        if record["type"] == "response":
            digest = base64.b32encode(hashlib.sha256(record["payload"]).digest()).decode()
            assert record["payload_digest"] == f"sha256:{digest}"
    statuses = Counter(record["status"] for record in records if record["type"] == "response")
    assert statuses["200"] > 1000 and set(statuses) - {"200"}, statuses  # not only the 200s
    # every page the crawl kept (and so every listing on one) has its response captured
    captured = {record["uri"] for record in records if record["type"] == "response"}
    pages = [doc["url"] for doc in RunDir(run).documents("page")]
    assert len(pages) > 1000 and not [url for url in pages if url not in captured]
    summary = crawl_summary["capture"]
    assert summary["records"] == sum(kinds.values()) and summary["files"] == kinds["warcinfo"]


def test_the_warcinfo_says_how_the_crawl_was_made(crawl_summary: dict[str, Any], lab: dict) -> None:
    run = Path(crawl_summary["run_dir"])
    first = sorted((run / "warc").glob("*.warc.gz"))[0]
    with first.open("rb") as handle:
        info = next(iter(ArchiveIterator(handle))).content_stream().read().decode()
    socks = f"{lab['state']['socks']['host']}:{lab['state']['socks']['port']}"
    assert f"socks5h://{socks}" in info
    assert f"onionlab-lab-seed: {lab['state']['seed']}" in info
    assert "software: onionlab/" in info and f"isPartOf: {run.name}" in info


def test_verify_passes_on_the_crawl_and_names_a_changed_byte(
    crawl_summary: dict[str, Any], tmp_path: Path
) -> None:
    run = Path(crawl_summary["run_dir"])
    result = onionlab("verify", str(run), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["intact"] and report["manifest_sha256"] == crawl_summary["manifest_sha256"]
    assert "crawl.log" in json.loads((run / "manifest.json").read_text())["files"]
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    warc = sorted((copy / "warc").glob("*.warc.gz"))[0]
    members = warc.with_name(warc.name + ".members.ndjson").read_text().splitlines()
    target = json.loads(members[len(members) // 2])
    data = bytearray(warc.read_bytes())
    data[target["offset"] + target["length"] // 2] ^= 0x20
    warc.write_bytes(bytes(data))
    items = copy / "items.ndjson"
    text = bytearray(items.read_bytes())
    text[len(text) // 2] ^= 0x01
    items.write_bytes(bytes(text))
    result = onionlab("verify", str(copy))
    assert result.returncode == 1
    assert "items.ndjson: altered" in result.stdout
    assert f"warc/{warc.name}: altered" in result.stdout
    assert f"at byte {target['offset']}: {target['type']} {target['uri']}" in result.stdout
