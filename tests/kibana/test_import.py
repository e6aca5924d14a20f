"""``onionlab kibana setup`` against a fake Kibana: a local ``http.server`` on 127.0.0.1.

The fake answers ``GET /api/status`` and ``POST /api/saved_objects/_import`` from a script
the test sets, and records every request, so each test checks what a real Kibana would
receive (method, path, query, ``kbn-xsrf``, basic auth, multipart body) and what the user
sees when Kibana refuses objects, is still starting, or is not there at all.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result

from onionlab.crawler.commands import cli
from onionlab.crawler.kibana.bundle import build
from tests.support import crawls

AVAILABLE = {"status": {"overall": {"level": "available"}}}
NOT_READY = {"status": {"overall": {"level": "unavailable"}}}


def status(overall: str, summary: str, elasticsearch: str, saved_objects: str) -> dict[str, Any]:
    """A full ``/api/status`` body of Kibana 8.19 (what an authenticated request gets)."""
    return {
        "name": "kibana",
        "version": {"number": "8.19.21"},
        "status": {
            "overall": {"level": overall, "summary": summary},
            "core": {
                "elasticsearch": {
                    "level": elasticsearch,
                    "summary": "Elasticsearch is " + elasticsearch,
                },
                "savedObjects": {
                    "level": saved_objects,
                    "summary": "SavedObjects is " + saved_objects,
                },
            },
            "plugins": {},
        },
    }


# Task manager degraded at start (elastic/kibana#138680): core serves, overall is degraded, and
# Kibana answers 200 (since 7.16 it answers 503 only when a core service is unavailable).
DEGRADED = status("degraded", "1 service is degraded: taskManager", "available", "available")
MIGRATING = status("unavailable", "SavedObjects service is migrating", "available", "unavailable")


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeKibana:
    """Scripted answers: ``statuses`` are served in turn (the last one repeats)."""

    statuses: list[tuple[int, dict[str, Any]]] = field(default_factory=lambda: [(200, AVAILABLE)])
    import_answer: tuple[int, dict[str, Any]] = (200, {"success": True, "successCount": 2})
    requests: list[Seen] = field(default_factory=list)
    url: str = ""

    def answer(self, seen: Seen) -> tuple[int, dict[str, Any]]:
        self.requests.append(seen)
        if seen.method == "GET" and seen.path.endswith("/api/status"):
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if seen.method == "POST" and seen.path.endswith("/api/saved_objects/_import"):
            return self.import_answer
        return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}

    def imports(self) -> list[Seen]:
        return [r for r in self.requests if r.path.endswith("/_import")]


@contextmanager
def serving(fake: FakeKibana, tls: ssl.SSLContext | None = None) -> Iterator[FakeKibana]:
    """Serve ``fake`` on 127.0.0.1 (over TLS with ``tls``) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            code, payload = fake.answer(seen)
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    fake.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    with crawls.serving(server):
        yield fake


@pytest.fixture
def kibana() -> Iterator[FakeKibana]:
    with serving(FakeKibana()) as fake:
        yield fake


@pytest.fixture
def objects(tmp_path: Path) -> Path:
    """A two-object bundle: a data view and a saved search that uses it."""
    directory = tmp_path / "objects"
    directory.mkdir()
    view = {
        "id": "onionlab-test-view",
        "type": "index-pattern",
        "coreMigrationVersion": "8.8.0",
        "typeMigrationVersion": "8.0.0",
        "attributes": {"title": "onionlab-test", "name": "Test", "timeFieldName": "@timestamp"},
        "references": [],
    }
    search = {
        "id": "onionlab-test-search",
        "type": "search",
        "coreMigrationVersion": "8.8.0",
        "typeMigrationVersion": "8.0.0",
        "attributes": {"title": "Tést search", "columns": ["title"]},
        "references": [
            {
                "type": "index-pattern",
                "id": "onionlab-test-view",
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            }
        ],
    }
    for body in (search, view):
        (directory / f"{body['id']}.json").write_text(json.dumps(body))
    return directory


def setup(kibana_url: str, objects: Path, *extra: str, env: dict[str, str] | None = None) -> Result:
    args = ["kibana", "setup", "--objects", str(objects), "--url", kibana_url, *extra]
    return CliRunner().invoke(cli, args, env=env or {}, catch_exceptions=False)


def test_import_posts_the_bundle_as_multipart_with_xsrf_and_auth(
    kibana: FakeKibana, objects: Path
) -> None:
    result = setup(
        kibana.url,
        objects,
        env={"ONIONLAB_KIBANA_USER": "elastic", "ONIONLAB_KIBANA_PASSWORD": "pw:with colon"},
    )

    assert result.exit_code == 0, result.stderr
    assert "imported 2 of 2 saved objects" in result.stderr
    (sent,) = kibana.imports()
    assert sent.method == "POST"
    assert sent.path == "/api/saved_objects/_import"
    assert sent.query == {"overwrite": ["true"]}
    assert sent.headers["kbn-xsrf"]
    scheme, token = sent.headers["authorization"].split()
    assert (scheme, base64.b64decode(token)) == ("Basic", b"elastic:pw:with colon")
    content_type = sent.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + sent.body
    )
    (part,) = list(message.iter_parts())
    assert part.get_param("name", header="content-disposition") == "file"
    assert part.get_filename().endswith(".ndjson")
    assert part.get_payload(decode=True) == build(objects)
    lines = [json.loads(line) for line in part.get_payload(decode=True).splitlines()]
    assert [o["id"] for o in lines] == ["onionlab-test-view", "onionlab-test-search"]
    assert lines[1]["attributes"]["title"] == "Tést search"


def test_flags_override_the_environment_and_a_space_changes_the_path(
    kibana: FakeKibana, objects: Path
) -> None:
    result = setup(
        kibana.url,
        objects,
        "--user",
        "flag-user",
        "--password",
        "flag-pw",
        "--space",
        "training",
        env={"ONIONLAB_KIBANA_USER": "env-user", "ONIONLAB_KIBANA_PASSWORD": "env-pw"},
    )

    assert result.exit_code == 0, result.stderr
    (sent,) = kibana.imports()
    assert sent.path == "/s/training/api/saved_objects/_import"
    assert base64.b64decode(sent.headers["authorization"].split()[1]) == b"flag-user:flag-pw"
    assert all(r.path.startswith("/s/training/") for r in kibana.requests)


def test_refused_objects_exit_non_zero_and_are_each_named(
    kibana: FakeKibana, objects: Path
) -> None:
    kibana.import_answer = (
        200,
        {
            "success": False,
            "successCount": 1,
            "errors": [
                {
                    "id": "onionlab-test-search",
                    "type": "search",
                    "meta": {"title": "Test search"},
                    "error": {
                        "type": "missing_references",
                        "references": [{"type": "index-pattern", "id": "onionlab-gone"}],
                    },
                },
                {
                    "id": "onionlab-test-view",
                    "type": "index-pattern",
                    "error": {"type": "unknown", "message": "mapper_parsing_exception"},
                },
            ],
        },
    )

    result = setup(kibana.url, objects)

    assert result.exit_code == 1
    assert "imported 1 of 2 saved objects" in result.stderr
    assert (
        "search onionlab-test-search ('Test search'): missing_references: "
        "index-pattern onionlab-gone" in result.stderr
    )
    assert "index-pattern onionlab-test-view: unknown: mapper_parsing_exception" in result.stderr


def test_success_false_without_errors_still_fails(kibana: FakeKibana, objects: Path) -> None:
    kibana.import_answer = (200, {"success": False, "successCount": 0})
    result = setup(kibana.url, objects)
    assert result.exit_code == 1
    assert "success: false" in result.stderr


def test_an_import_refused_with_an_http_error_says_why(kibana: FakeKibana, objects: Path) -> None:
    kibana.import_answer = (
        415,
        {"statusCode": 415, "error": "Unsupported Media Type", "message": "bad file"},
    )
    result = setup(kibana.url, objects)
    assert result.exit_code == 1
    assert "import refused: HTTP 415 Unsupported Media Type: bad file" in result.stderr


def test_waits_while_kibana_is_not_ready_and_says_so(kibana: FakeKibana, objects: Path) -> None:
    kibana.statuses = [(503, NOT_READY), (503, NOT_READY), (200, AVAILABLE)]

    result = setup(kibana.url, objects, "--interval", "0.05", "--wait", "10")

    assert result.exit_code == 0, result.stderr
    waiting = [line for line in result.stderr.splitlines() if line.startswith("waiting")]
    assert waiting == [f"waiting for Kibana at {kibana.url} (status: 503 unavailable)"]
    statuses = [r for r in kibana.requests if r.path == "/api/status"]
    assert len(statuses) == 3
    assert len(kibana.imports()) == 1
    assert kibana.requests.index(kibana.imports()[0]) > kibana.requests.index(statuses[-1])


def test_a_kibana_that_never_gets_ready_fails_after_the_wait(
    kibana: FakeKibana, objects: Path
) -> None:
    kibana.statuses = [(503, NOT_READY)]
    result = setup(kibana.url, objects, "--interval", "0.05", "--wait", "0.5")
    assert result.exit_code == 5
    assert "is not ready after" in result.stderr
    assert "(last status: 503 unavailable)" in result.stderr
    assert not kibana.imports()


def test_a_degraded_kibana_whose_core_serves_is_imported_into_and_says_so(
    kibana: FakeKibana, objects: Path
) -> None:
    kibana.statuses = [(200, DEGRADED)]
    result = setup(kibana.url, objects, "--interval", "0.05", "--wait", "0.5")

    assert result.exit_code == 0, result.stderr
    assert len(kibana.imports()) == 1
    assert (
        f"Kibana at {kibana.url} is degraded (1 service is degraded: taskManager) but serving "
        "(Elasticsearch and saved objects available): importing anyway"
    ) in result.stderr
    assert "imported 2 of 2 saved objects" in result.stderr


def test_an_unauthenticated_degraded_status_is_serving_when_kibana_answers_200(
    kibana: FakeKibana, objects: Path
) -> None:
    # Without credentials Kibana answers the redacted body: the core services' level only.
    kibana.statuses = [(200, {"status": {"overall": {"level": "degraded"}}})]
    result = setup(kibana.url, objects, "--interval", "0.05", "--wait", "0.5")
    assert result.exit_code == 0, result.stderr
    assert f"Kibana at {kibana.url} is degraded but serving (HTTP 200): importing anyway" in (
        result.stderr
    )


def test_a_kibana_whose_saved_objects_are_not_available_is_waited_for(
    kibana: FakeKibana, objects: Path
) -> None:
    kibana.statuses = [(503, MIGRATING), (200, MIGRATING), (200, DEGRADED)]
    result = setup(kibana.url, objects, "--interval", "0.05", "--wait", "10")

    assert result.exit_code == 0, result.stderr
    waiting = [line for line in result.stderr.splitlines() if line.startswith("waiting")]
    assert waiting == [
        f"waiting for Kibana at {kibana.url} (status: 503 unavailable)",
        f"waiting for Kibana at {kibana.url} (status: 200 unavailable)",
    ]
    statuses = [r for r in kibana.requests if r.path == "/api/status"]
    assert len(statuses) == 3 and len(kibana.imports()) == 1


def test_a_degraded_kibana_with_unavailable_saved_objects_is_not_ready(
    kibana: FakeKibana, objects: Path
) -> None:
    kibana.statuses = [(200, status("degraded", "migrating", "available", "unavailable"))]
    result = setup(kibana.url, objects, "--interval", "0.05", "--wait", "0.3")
    assert result.exit_code == 5
    assert "(last status: 200 degraded)" in result.stderr
    assert not kibana.imports()


def test_wrong_credentials_fail_at_once(kibana: FakeKibana, objects: Path) -> None:
    kibana.statuses = [(401, {"statusCode": 401, "error": "Unauthorized"})]
    started = time.monotonic()
    result = setup(kibana.url, objects, "--wait", "30", "--user", "elastic", "--password", "x")
    assert result.exit_code == 1
    assert time.monotonic() - started < 5
    assert "refused the credentials (HTTP 401)" in result.stderr
    assert not kibana.imports()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_kibana_is_one_clear_line_within_the_wait(objects: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    result = setup(url, objects, "--wait", "1", "--interval", "0.2")
    elapsed = time.monotonic() - started

    assert result.exit_code == 5
    assert elapsed < 5
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: Kibana at {url} is not ready after 1 s (last status: connection refused); "
        "is it running? (--wait sets the limit)"
    ]
    assert f"waiting for Kibana at {url} (status: connection refused)" in result.stderr


def test_an_invalid_bundle_is_refused_before_any_request(kibana: FakeKibana, objects: Path) -> None:
    (objects / "onionlab-test-view.json").unlink()
    result = setup(kibana.url, objects)
    assert result.exit_code == 1
    assert "points to index-pattern onionlab-test-view, which is not in the bundle" in (
        result.stderr
    )
    assert not kibana.requests


def test_bundle_writes_the_same_ndjson_the_import_sends(objects: Path, tmp_path: Path) -> None:
    out = tmp_path / "onionlab.ndjson"
    result = CliRunner().invoke(
        cli, ["kibana", "bundle", "--objects", str(objects), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == build(objects)
    assert "wrote 2 saved objects" in result.stderr


# -- the CA certificate of an https:// Kibana ----------------------------------------------------


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate it signed for 127.0.0.1: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("onionlab test CA", "onionlab test CA", ca_key, ca_key, ca=True)
    cert = build("127.0.0.1", "onionlab test CA", key, ca_key, ca=False)
    paths = (directory / "ca.crt", directory / "kibana.crt", directory / "kibana.key")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_kibana(tmp_path: Path) -> Iterator[tuple[FakeKibana, Path]]:
    """A fake Kibana over https with a certificate from a fresh CA, and that CA's file."""
    ca, cert, key = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serving(FakeKibana(), context) as fake:
        yield fake, ca


def test_the_ca_certificate_comes_from_onionlab_ca_cert(
    tls_kibana: tuple[FakeKibana, Path], objects: Path
) -> None:
    fake, ca = tls_kibana
    result = setup(fake.url, objects, env={"ONIONLAB_CA_CERT": str(ca)})
    assert result.exit_code == 0, result.stderr
    assert len(fake.imports()) == 1 and "deprecated" not in result.stderr


def test_the_deprecated_es_ca_variable_still_works_with_a_warning(
    tls_kibana: tuple[FakeKibana, Path], objects: Path
) -> None:
    fake, ca = tls_kibana
    result = setup(fake.url, objects, env={"ONIONLAB_ES_CA_CERT": str(ca)})
    assert result.exit_code == 0, result.stderr
    assert "warning: ONIONLAB_ES_CA_CERT is deprecated: set ONIONLAB_CA_CERT" in result.stderr
    assert len(fake.imports()) == 1


def test_without_the_ca_an_https_kibana_is_not_trusted(
    tls_kibana: tuple[FakeKibana, Path], objects: Path, tmp_path: Path
) -> None:
    fake, _ca = tls_kibana
    result = setup(fake.url, objects, "--wait", "0")
    assert result.exit_code == 5 and "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert fake.requests == []  # the handshake failed: no request was made
    missing = tmp_path / "missing.crt"
    result = setup(fake.url, objects, env={"ONIONLAB_ES_CA_CERT": str(missing)})
    assert result.exit_code == 2 and "CA certificate not found" in result.stderr
