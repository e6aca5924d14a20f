"""Evidence capture and its check: WARC records as written, the manifest, ``onionlab verify``.

The WARC files are read back with warcio's own reader (``check_digests``) and the digests
recomputed here with hashlib; a changed byte must be found and named by file and record.
"""

from __future__ import annotations

import base64
import errno
import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from onionlab.crawler.downloadermiddlewares.capture import CaptureMiddleware
from onionlab.crawler.runs import manifest, warccheck
from onionlab.crawler.runs.rundir import WriteFailed
from onionlab.crawler.sinks.warc import Exchange, WarcFiles
from tests.support.cli import onionlab

HOST = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
PAGE = "<html><head><title>Мефедрон 1 г</title></head><body>$40.00 за грамм</body></html>"


def exchange(n: int, body: bytes | None = None, **kwargs: object) -> Exchange:
    fields: dict[str, object] = {
        "url": f"http://{HOST}/item/{n}?view=1",
        "method": "GET",
        "request_headers": [("User-Agent", "UA"), ("Accept-Encoding", "gzip")],
        "request_body": b"",
        "status": 200,
        "response_headers": [("Content-Type", "text/html; charset=utf-8")],
        "body": body if body is not None else PAGE.replace("1 г", f"{n} г").encode(),
    }
    fields.update(kwargs)
    return Exchange(**fields)  # type: ignore[arg-type]


def records(path: Path) -> list:
    """Every record of a WARC file as (type, headers, http headers, payload as stored: not
    content-decoded), digests checked by warcio as it reads."""
    out = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle, check_digests=True):
            body = record.raw_stream.read()
            assert record.digest_checker.passed is not False, record.digest_checker.problems
            out.append((record.rec_type, record.rec_headers, record.http_headers, body))
    return out


def b32(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode()


def a_run(tmp_path: Path, pages: int = 3, max_bytes: int = 10**9) -> Path:
    run = tmp_path / "run-1"
    run.mkdir()
    (run / "items.ndjson").write_text('{"index": {"_id": "a"}}\n{"kind": "page"}\n')
    files = WarcFiles(run / "warc", run.name, {"isPartOf": run.name}, max_bytes=max_bytes)
    for n in range(pages):
        files.write(exchange(n))
    files.close()
    manifest.write_manifest(run)
    return run


def test_each_exchange_is_a_response_and_its_request_with_sha256_digests(tmp_path: Path) -> None:
    files = WarcFiles(tmp_path, "run", {"software": "onionlab/test", "onionlab-lab-seed": "1"})
    files.write(exchange(7, response_headers=[("Transfer-Encoding", "chunked")]))
    files.close()
    (info, _, _, fields), (response, rh, http, body), (request, qh, qhttp, _) = records(
        files.files[0]
    )
    assert (info, response, request) == ("warcinfo", "response", "request")
    assert b"onionlab-lab-seed: 1" in fields and b"format: WARC File Format 1.1" in fields
    assert rh.get_header("WARC-Target-URI") == f"http://{HOST}/item/7?view=1"
    assert body == PAGE.replace("1 г", "7 г").encode()
    assert rh.get_header("WARC-Payload-Digest") == b32(body)  # computed here, not by warcio
    assert qh.get_header("WARC-Concurrent-To") == rh.get_header("WARC-Record-ID")
    assert qhttp.get_header("Host") == HOST and qhttp.get_header("User-Agent") == "UA"
    # Twisted undid the chunking: the header is kept, under a name no reader applies
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    # one gzip member a record: each one decompresses on its own
    listing = [json.loads(line) for line in files.files[0].with_suffix(".gz.members.ndjson")
               .read_text().splitlines()]  # fmt: skip
    raw = files.files[0].read_bytes()
    for entry in listing:
        member = raw[entry["offset"] : entry["offset"] + entry["length"]]
        assert gzip.decompress(member).startswith(b"WARC/1.1\r\n")
        assert hashlib.sha256(member).hexdigest() == entry["sha256"]


def test_files_rotate_at_their_size_and_a_new_session_never_reopens_one(tmp_path: Path) -> None:
    files = WarcFiles(tmp_path, "run", {}, max_bytes=2_000)
    for n in range(6):
        files.write(exchange(n, body=os.urandom(700)))
    files.close()
    assert len(files.files) >= 3
    for path in files.files:
        kinds = [r[0] for r in records(path)]
        assert kinds[0] == "warcinfo" and kinds.count("warcinfo") == 1
    again = WarcFiles(tmp_path, "run", {})
    again.write(exchange(9))
    again.close()
    assert again.files[0].name == f"run-{len(files.files) + 1:05d}.warc.gz"
    pages = [
        r for p in sorted(tmp_path.glob("*.warc.gz")) for r in records(p) if r[0] == "response"
    ]
    assert len(pages) == 7


def test_a_write_that_fails_keeps_nothing_of_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = WarcFiles(tmp_path, "run", {})
    files.write(exchange(1))
    path = files.files[0]
    size = path.stat().st_size
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[:100])  # part of it reached the disk, then ENOSPC
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(WriteFailed):
        files.write(exchange(2))
    monkeypatch.undo()
    assert path.stat().st_size == size
    files.write(exchange(3))
    files.close()
    assert [r[1].get_header("WARC-Target-URI").split("/")[-1] for r in records(path)[1:]] == [
        "1?view=1", "1?view=1", "3?view=1", "3?view=1"
    ]  # fmt: skip
    assert warccheck.check_warc(path, path.name) == []


def test_verify_says_intact_then_names_the_altered_record_and_file(tmp_path: Path) -> None:
    run = a_run(tmp_path)
    ok = onionlab("verify", str(run))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact: " in ok.stdout and "7 WARC records" in ok.stdout  # warcinfo + 3 × 2
    warc = next((run / "warc").glob("*.warc.gz"))
    listing = [json.loads(line) for line in (warc.parent / (warc.name + ".members.ndjson"))
               .read_text().splitlines()]  # fmt: skip
    second = next(e for e in listing if e["type"] == "response" and "/item/1?" in e["uri"])
    data = bytearray(warc.read_bytes())
    data[second["offset"] + second["length"] // 2] ^= 0x01  # one bit of one byte
    warc.write_bytes(bytes(data))
    items = run / "items.ndjson"
    items.write_bytes(items.read_bytes().replace(b"page", b"pagE"))
    bad = onionlab("verify", str(run), "--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["intact"] is False
    assert {(c["path"], c["what"]) for c in report["changed_files"]} == {
        ("items.ndjson", "altered"), (f"warc/{warc.name}", "altered")
    }  # fmt: skip
    [record] = report["changed_records"]
    assert record["file"] == f"warc/{warc.name}" and record["offset"] == second["offset"]
    assert record["record"] == f"response {second['uri']} {second['id']}"
    text = onionlab("verify", str(run))
    assert text.returncode == 1 and "NOT intact" in text.stdout
    assert "item/1?view=1" in text.stdout and "items.ndjson: altered" in text.stdout


def test_verify_finds_added_missing_cut_and_appended(tmp_path: Path) -> None:
    run = a_run(tmp_path)
    (run / "notes.txt").write_text("added later")
    (run / "items.ndjson").unlink()
    warc = next((run / "warc").glob("*.warc.gz"))
    shutil.copy(warc, tmp_path / "whole")
    with warc.open("ab") as handle:
        handle.write(b"extra bytes")
    changes = {(c.path, c.what) for c in manifest.check_manifest(run, manifest.load(run))}
    assert changes == {
        ("notes.txt", "added"), ("items.ndjson", "missing"), (f"warc/{warc.name}", "altered")
    }  # fmt: skip
    [appended] = warccheck.check_warc(warc, warc.name)
    assert "11 bytes after the last record" in appended.problem
    warc.write_bytes((tmp_path / "whole").read_bytes()[:-50])
    [cut] = warccheck.check_warc(warc, warc.name)
    assert "cut short" in cut.problem and cut.record.startswith("request ")


def test_a_record_rewritten_whole_is_still_caught_by_its_own_digest(tmp_path: Path) -> None:
    """Someone who re-gzips a changed record and fixes the members list: the list is in
    the manifest, and the record's WARC digest no longer matches its body."""
    run = a_run(tmp_path, pages=1)
    warc = next((run / "warc").glob("*.warc.gz"))
    listing_path = warc.parent / (warc.name + ".members.ndjson")
    listing = [json.loads(line) for line in listing_path.read_text().splitlines()]
    entry = listing[1]
    raw = warc.read_bytes()
    text = gzip.decompress(raw[entry["offset"] : entry["offset"] + entry["length"]])
    forged = gzip.compress(text.replace(b"$40.00", b"$90.00"))
    warc.write_bytes(raw[: entry["offset"]] + forged + raw[entry["offset"] + entry["length"] :])
    shift = len(forged) - entry["length"]
    entry.update(length=len(forged), sha256=hashlib.sha256(forged).hexdigest())
    for later in listing[2:]:
        later["offset"] += shift
    listing_path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in listing))
    [problem] = warccheck.check_warc(warc, warc.name)
    assert "digest" in problem.problem and problem.record.startswith("response ")
    changed = {c.path for c in manifest.check_manifest(run, manifest.load(run))}
    assert changed == {f"warc/{warc.name}", f"warc/{listing_path.name}"}


def test_verify_without_a_manifest_says_how_to_get_one(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "items.ndjson").write_text("")
    result = onionlab("verify", str(run))
    assert result.returncode == 7
    assert "no manifest" in result.stderr and "--resume" in result.stderr


def middleware(tmp_path: Path, **settings: object) -> CaptureMiddleware:
    crawler = get_crawler(
        settings_dict={"ONIONLAB_RUN_DIR": str(tmp_path), "TOR_SOCKS": "127.0.0.1:9050",
                       "ONIONLAB_LAB_SEED": "3", **settings}
    )  # fmt: skip
    crawler.stats.open_spider()
    capture = CaptureMiddleware.from_crawler(crawler)
    capture.spider_opened()
    return capture


def test_the_middleware_keeps_the_body_as_it_came_and_every_header_sent(tmp_path: Path) -> None:
    capture = middleware(tmp_path)
    request = Request(f"http://{HOST}/login", method="POST", body=b"user=a&pass=b",
                      headers={"Cookie": "s=1", "Accept-Encoding": "gzip"})  # fmt: skip
    compressed = gzip.compress(PAGE.encode())
    response = HtmlResponse(request.url, status=302, body=compressed, request=request,
                            headers={"Content-Encoding": "gzip", "Location": "/home",
                                     "Set-Cookie": ["a=1", "b=2"]})  # fmt: skip
    assert capture.process_response(request, response) is response
    capture.spider_closed()
    stats = capture.crawler.stats
    assert stats.get_value("onionlab/capture/records") == 2
    assert stats.get_value("onionlab/capture/files") == 1
    [(_, _, _, info), (_, _, http, body), (_, _, qhttp, qbody)] = records(
        next((tmp_path / "warc").glob("*.warc.gz"))
    )
    assert body == compressed  # not decoded: the bytes the site sent
    assert http.get_statuscode() == "302" and http.get_header("Content-Encoding") == "gzip"
    assert [v for k, v in http.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert qhttp.protocol == "POST" and qbody == b"user=a&pass=b"
    assert qhttp.get_header("Cookie") == "s=1"
    assert b"socks5h://127.0.0.1:9050" in info and b"onionlab-lab-seed: 3" in info


def test_capture_is_off_with_no_capture_and_without_a_run_directory(tmp_path: Path) -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        middleware(tmp_path, ONIONLAB_CAPTURE=False)
    with pytest.raises(NotConfigured):
        CaptureMiddleware.from_crawler(get_crawler(settings_dict={}))


def test_a_change_onionlab_makes_later_is_recorded_and_verify_shows_it(tmp_path: Path) -> None:
    run = a_run(tmp_path, pages=1)
    (run / "spool.ndjson").write_text("")  # created after the manifest: not onionlab's doing
    assert onionlab("verify", str(run)).returncode == 1
    (run / "spool.ndjson").unlink()
    assert manifest.record_change(run, ["spool.ndjson"], "onionlab index load", "why") is None
    (run / "spool.ndjson").write_text('{"index": {"_id": "x"}}\n{"kind": "page"}\n')
    sealed = manifest.record_change(run, ["spool.ndjson"], "onionlab index load", "replayed")
    assert sealed == manifest.file_sha256(run / manifest.NAME)
    result = onionlab("verify", str(run))
    assert result.returncode == 0, result.stdout
    assert "recorded: " in result.stdout and "onionlab index load changed spool.ndjson" in (
        result.stdout
    )
