"""Evidence capture: every HTTP exchange of a crawl written to WARC files (ISO 28500, WARC 1.1).

What a chain of custody needs from a crawl is the bytes as they came, kept so that a change
shows. :class:`WarcFiles` writes each exchange as two records, the ``response`` and the
``request`` that asked for it (``WARC-Concurrent-To`` links them), each one gzip member of its
own (so a reader can seek to any record and a damaged one spoils only itself), with SHA-256
block and payload digests (``WARC-Block-Digest``, ``WARC-Payload-Digest``, base32 as the
standard's examples write them). Every file starts with a ``warcinfo`` record describing the
crawl (tool and version, run, start time, the SOCKS path, the lab's seed).

Files go to ``<run>/warc/<run>-<n>.warc.gz``, a new one once a file reaches ``max_bytes``
(rotation) and for every session of a resumed crawl (a file is never reopened). Beside each,
``<file>.members.ndjson`` lists its records: offset, length and SHA-256 of the gzip member,
type, record id and target URI, so :mod:`onionlab.crawler.runs.warccheck` can say exactly
which record was altered even where a changed byte makes the member unreadable.

Records are built with warcio (Webrecorder's WARC library, the one pywb reads with); each
member is built in memory and appended in one write, cut back if it fails
(:class:`onionlab.crawler.runs.rundir.AppendFile`), so a full disk or a kill leaves no half
record. The body is the one the downloader received, before any content decoding (the
capture middleware sits next to the downloader); Twisted has already removed a chunked
transfer coding, so that header is kept as ``X-Archive-Orig-Transfer-Encoding`` (pywb's
prefix for a header it must not apply). Depends on warcio and the run directory's writer.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from onionlab.crawler.runs.rundir import AppendFile

WARC_VERSION = "1.1"
DEFAULT_MAX_BYTES = 1024**3  # 1 GiB a file, as Heritrix and wget's --warc-max-size default do
FOLDER = "warc"
MEMBERS_SUFFIX = ".members.ndjson"
_NAME = re.compile(r"-(\d{5})\.warc\.gz$")

Headers = Sequence[tuple[str, str]]


def sha256_label(data: bytes) -> str:
    """``sha256:<base32>``, the form of a WARC digest header."""
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass(frozen=True)
class Exchange:
    """One request and the response the downloader got for it, as captured."""

    url: str
    method: str
    request_headers: Headers
    request_body: bytes
    status: int
    response_headers: Headers
    body: bytes
    protocol: str = "HTTP/1.1"


def request_target(url: str) -> str:
    """The request line's target: the path and query of ``url`` (``/`` for none)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _response_headers(headers: Headers) -> list[tuple[str, str]]:
    kept = []
    for name, value in headers:
        if name.lower() == "transfer-encoding":  # already undone by Twisted: not to be re-applied
            name = "X-Archive-Orig-Transfer-Encoding"
        kept.append((name, value))
    return kept


class WarcFiles:
    """The capture of one crawl session: rotating gzip WARC files in ``folder``.

    ``info`` is the ``warcinfo`` record's fields (written at the top of every file).
    :meth:`write` raises :class:`onionlab.crawler.runs.rundir.WriteFailed` when a record
    cannot be written (nothing of it is kept). One writer per folder at a time.
    """

    def __init__(
        self, folder: Path, prefix: str, info: dict[str, str], max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
        self.folder = folder
        self.prefix = prefix
        self.info = dict(info)
        self.max_bytes = max_bytes
        self.records = 0
        self.bytes = 0
        self.files: list[Path] = []
        self._file: AppendFile | None = None
        self._members: AppendFile | None = None
        self._size = 0
        self._next = next_number(folder)

    def write(self, exchange: Exchange) -> None:
        """Append the response and the request of ``exchange`` (a new file first if the
        current one is full)."""
        if self._file is None or self._size >= self.max_bytes:
            self._open_next()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        response = _response_record(exchange, stamp)
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request = _request_record(exchange, stamp, response_id)
        self._append([response, request], exchange.url)

    def close(self) -> None:
        for handle in (self._file, self._members):
            if handle is not None:
                handle.close()
        self._file = self._members = None

    def _open_next(self) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.prefix}-{self._next:05d}.warc.gz"
        self._next += 1
        self._file = AppendFile(path)
        self._members = AppendFile(path.with_name(path.name + MEMBERS_SUFFIX))
        self._size = path.stat().st_size
        self.files.append(path)
        fields = {**self.info, "format": "WARC File Format 1.1"}
        fields["conformsTo"] = "https://iso.org/standard/68004.html"
        payload = "".join(f"{key}: {value}\r\n" for key, value in fields.items()).encode()
        record = _writer().create_warc_record(
            "",
            "warcinfo",
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Filename": path.name,
                "WARC-Block-Digest": sha256_label(payload),
            },
        )
        self._append([record], path.name)

    def _append(self, records: Iterable[object], uri: str) -> None:
        assert self._file is not None and self._members is not None
        members: list[bytes] = []
        index: list[dict[str, object]] = []
        offset = self._size
        for record in records:
            buffer = io.BytesIO()
            _writer(buffer).write_record(record)
            member = buffer.getvalue()
            headers = record.rec_headers  # type: ignore[attr-defined]
            index.append(
                {
                    "offset": offset,
                    "length": len(member),
                    "sha256": hashlib.sha256(member).hexdigest(),
                    "type": headers.get_header("WARC-Type"),
                    "id": headers.get_header("WARC-Record-ID"),
                    "uri": uri,
                }
            )
            offset += len(member)
            members.append(member)
        data = b"".join(members)
        self._file.write(data)  # WriteFailed: cut back, nothing kept
        lines = "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in index)
        try:
            self._members.write(lines)
        except OSError:
            self._file.cut(self._size)
            raise
        self._size = offset
        self.records += len(index)
        self.bytes += len(data)


def next_number(folder: Path) -> int:
    """The number of the next WARC file in ``folder`` (1 for an empty or missing one)."""
    numbers = [int(m.group(1)) for p in folder.glob("*.warc.gz") if (m := _NAME.search(p.name))]
    return max(numbers, default=0) + 1


def _writer(out: io.BytesIO | None = None) -> WARCWriter:
    return WARCWriter(out if out is not None else io.BytesIO(), gzip=True, warc_version="1.1")


def _response_record(exchange: Exchange, stamp: str) -> object:
    try:
        reason = HTTPStatus(exchange.status).phrase
    except ValueError:
        reason = ""
    http = StatusAndHeaders(
        f"{exchange.status} {reason}".strip(),
        _response_headers(exchange.response_headers),
        protocol=exchange.protocol or "HTTP/1.1",
    )
    return _record(exchange.url, "response", http, exchange.body, stamp, {})


def _request_record(exchange: Exchange, stamp: str, concurrent_to: str) -> object:
    headers = list(exchange.request_headers)
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", urlsplit(exchange.url).netloc))
    http = StatusAndHeaders(
        f"{exchange.method} {request_target(exchange.url)} {exchange.protocol or 'HTTP/1.1'}",
        headers,
        is_http_request=True,
    )
    extra = {"WARC-Concurrent-To": concurrent_to}
    return _record(exchange.url, "request", http, exchange.request_body, stamp, extra)


def _record(
    uri: str, kind: str, http: StatusAndHeaders, body: bytes, stamp: str, extra: dict[str, str]
) -> object:
    http.compute_headers_buffer()
    block = http.headers_buff + body
    digests = {"WARC-Block-Digest": sha256_label(block), "WARC-Payload-Digest": sha256_label(body)}
    return _writer().create_warc_record(
        uri,
        kind,
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": stamp, **digests, **extra},
    )
