"""A small Kibana HTTP client: wait for readiness, import saved objects.

Framework core, standard library only (``urllib.request``, ``ssl``). Two calls are all
onionlab needs — ``GET /api/status`` and ``POST /api/saved_objects/_import`` — so a
dependency would buy nothing: ``requests`` is not a direct dependency of onionlab, and the
PyPI package ``kibana-api`` (0.0.4) creates objects through the generic saved-object create
API (deprecated since Kibana 8.7), hard-codes Kibana 7.8 visualisation versions and never
looks at the errors Kibana returns. See docs/kibana.md.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

XSRF_HEADER = "kbn-xsrf"
AVAILABLE = "available"
SERVING = (AVAILABLE, "degraded")  # levels at which Kibana still answers API requests
CORE_SERVICES = ("elasticsearch", "savedObjects")  # what the saved-objects import needs


class KibanaError(RuntimeError):
    """Kibana refused a request or answered something unusable."""


class KibanaNotReady(KibanaError):
    """Kibana did not become available within the wait."""


@dataclass(frozen=True)
class ImportResult:
    """What ``_import`` answered: ``success`` is false when any object failed."""

    success: bool
    success_count: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error_lines(self) -> list[str]:
        """One readable line per failed object."""
        return [describe_import_error(error) for error in self.errors]


def describe_import_error(error: dict[str, Any]) -> str:
    """``dashboard onionlab-x ("Title"): missing_references: index-pattern onionlab-y``."""
    kind = error.get("error", {})
    what = f"{error.get('type', '?')} {error.get('id', '?')}"
    title = error.get("meta", {}).get("title") or error.get("title")
    if title:
        what += f" ({title!r})"
    reason = kind.get("type", "unknown")
    if reason == "missing_references":
        missing = ", ".join(f"{r.get('type')} {r.get('id')}" for r in kind.get("references", []))
        return f"{what}: missing_references: {missing}"
    details = kind.get("message") or kind.get("reason") or ""
    return f"{what}: {reason}" + (f": {details}" if details else "")


@dataclass(frozen=True)
class KibanaStatus:
    """One answer of ``GET /api/status`` (Kibana 8.19).

    ``level`` is ``status.overall.level`` (``available``, ``degraded``, ``unavailable``,
    ``critical``); ``core`` has ``status.core.<service>.level`` for ``elasticsearch`` and
    ``savedObjects`` when Kibana sent them (an unauthenticated request gets a redacted body:
    the overall level only, which is then the core services' level).
    """

    code: int
    level: str
    summary: str = ""
    core: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, code: int, body: bytes) -> KibanaStatus:
        """Read the answer; a body that is not Kibana's JSON keeps its first characters."""
        try:
            status = json.loads(body)["status"]
            overall = status["overall"]
            level = str(overall.get("level") or overall.get("state") or "unknown")
            core = {
                name: str(service.get("level"))
                for name, service in (status.get("core") or {}).items()
                if isinstance(service, dict)
            }
            return cls(code, level, str(overall.get("summary") or ""), core)
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls(code, body[:80].decode("utf-8", "replace").strip() or "no body")

    @property
    def serving(self) -> bool:
        """Whether the saved-objects import can run now.

        Kibana may stay ``degraded`` for long with its core working (a plugin such as task
        manager degraded at start, elastic/kibana#138680), so the overall level is not the
        test: with the core services listed, Elasticsearch and saved objects must each be
        ``available`` or ``degraded``; without them, Kibana must answer 200 (since 7.16 it
        answers 503 exactly when a core service is unavailable) at a serving level.
        """
        if self.core:
            return all(self.core.get(name) in SERVING for name in CORE_SERVICES)
        return self.code == 200 and self.level in SERVING

    def describe(self) -> str:
        """``degraded (1 service is degraded: taskManager) but serving (…)``."""
        what = self.level + (f" ({self.summary})" if self.summary else "")
        levels = [self.core.get(name) for name in CORE_SERVICES]
        if not self.core:
            why = f"HTTP {self.code}"
        elif levels == [AVAILABLE, AVAILABLE]:
            why = "Elasticsearch and saved objects available"
        else:
            why = f"Elasticsearch {levels[0]}, saved objects {levels[1]}"
        return f"{what} but serving ({why})"


class KibanaClient:
    """Talks to one Kibana (optionally one space) with basic auth and an optional CA."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        ca_cert: Path | None = None,
        space: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"not a Kibana URL: {url!r} (expected http(s)://host:port)")
        self.url = url.rstrip("/")
        self.space = space
        self.timeout = timeout
        self._headers = {XSRF_HEADER: "onionlab"}
        if user:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._context = ssl.create_default_context(cafile=str(ca_cert)) if ca_cert else None

    def status(self) -> KibanaStatus:
        """What ``GET /api/status`` answers, HTTP errors included; raises ``OSError``."""
        try:
            code, body = self._request("GET", "/api/status")
        except urllib.error.HTTPError as exc:
            code, body = exc.code, exc.read()
        return KibanaStatus.of(code, body)

    def wait_until_ready(
        self,
        max_wait: float,
        *,
        interval: float = 5.0,
        report: Callable[[str], None] = lambda _line: None,
    ) -> float:
        """Poll ``/api/status`` until Kibana serves (:attr:`KibanaStatus.serving`); return the
        seconds waited.

        ``report`` gets one line whenever the observed status changes:
        ``waiting for Kibana at URL (status: 503 unavailable)``, and one when Kibana serves
        but is not wholly available: ``Kibana at URL is degraded (…) but serving …: importing
        anyway``. Raises :class:`KibanaNotReady` after ``max_wait`` seconds, and
        :class:`KibanaError` at once on 401/403 (waiting cannot fix credentials).
        """
        started = time.monotonic()
        last = ""
        while True:
            try:
                status = self.status()
                seen = f"{status.code} {status.level}"
                if status.code in (401, 403):
                    raise KibanaError(
                        f"Kibana at {self.url} refused the credentials (HTTP {status.code}): "
                        "check ONIONLAB_KIBANA_USER / ONIONLAB_KIBANA_PASSWORD"
                    )
                if status.serving:
                    if status.level != AVAILABLE:
                        report(f"Kibana at {self.url} is {status.describe()}: importing anyway")
                    return time.monotonic() - started
            except (OSError, ssl.SSLError) as exc:
                seen = _reason(exc)
            waited = time.monotonic() - started
            if waited + interval > max_wait:
                raise KibanaNotReady(
                    f"Kibana at {self.url} is not ready after {waited:.0f} s "
                    f"(last status: {seen}); is it running? (--wait sets the limit)"
                )
            if seen != last:
                report(f"waiting for Kibana at {self.url} (status: {seen})")
                last = seen
            time.sleep(interval)

    def import_objects(self, ndjson: bytes, *, overwrite: bool = True) -> ImportResult:
        """``POST /api/saved_objects/_import`` with ``ndjson`` as the multipart file part."""
        boundary = f"onionlab-{uuid.uuid4().hex}"
        body = _multipart(boundary, "file", "onionlab.ndjson", "application/ndjson", ndjson)
        query = "?overwrite=true" if overwrite else ""
        try:
            _code, answer = self._request(
                "POST",
                f"/api/saved_objects/_import{query}",
                body=body,
                content_type=f"multipart/form-data; boundary={boundary}",
            )
        except urllib.error.HTTPError as exc:
            raise KibanaError(f"import refused: HTTP {exc.code} {_message(exc.read())}") from exc
        except (OSError, ssl.SSLError) as exc:
            raise KibanaError(f"cannot reach Kibana at {self.url}: {_reason(exc)}") from exc
        try:
            result = json.loads(answer)
            return ImportResult(
                success=bool(result["success"]),
                success_count=int(result.get("successCount", 0)),
                errors=list(result.get("errors") or []),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise KibanaError(f"unexpected answer to the import: {answer[:200]!r}") from exc

    def _request(
        self, method: str, path: str, *, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes]:
        prefix = f"/s/{urllib.parse.quote(self.space)}" if self.space else ""
        headers = dict(self._headers)
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(
            f"{self.url}{prefix}{path}", data=body, headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=self.timeout, context=self._context) as resp:
            return resp.status, resp.read()


def _multipart(boundary: str, field_name: str, filename: str, mime: str, content: bytes) -> bytes:
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode()


def _reason(exc: BaseException) -> str:
    """A short reason for a connection failure: ``connection refused``, ``timed out``."""
    inner = getattr(exc, "reason", exc)
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(inner, TimeoutError):
        return "timed out"
    if isinstance(inner, ssl.SSLError):
        return f"TLS error: {getattr(inner, 'reason', None) or inner}"
    text = getattr(inner, "strerror", None) or str(inner)
    return text or type(inner).__name__


def _message(body: bytes) -> str:
    try:
        answer = json.loads(body)
        return f"{answer.get('error', '')}: {answer.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")
