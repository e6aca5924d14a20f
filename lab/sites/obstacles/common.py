"""What the obstacle middlewares share: the per-site state, signed cookies, visitor identity.

A *visitor id* (random, from ``secrets``) is issued with the queue ticket and carried on by
the CAPTCHA pass and the login session, so that the rate limiter, the CAPTCHA lockout and
the honeypot ban all see one visitor. Cookies the client could forge (queue, pass) are
HMAC-signed with a per-process key; login sessions live in memory. Every table is bounded.
Depends on aiohttp and ``onionlab.lab.profiles``.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web

from onionlab.lab.profiles import LabProfile

QUEUE_COOKIE = "eg_queue"
PASS_COOKIE = "eg_pass"
SESSION_COOKIE = "session"
ANON = "anon"  # the one visitor key every cookie-less request of a site shares
HEADERS = {"Server": "nginx", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

# Where a request caches its visitor id (web.RequestKey from aiohttp 3.13 on).
_VISITOR: Any = (
    web.RequestKey("onionlab_visitor", str) if hasattr(web, "RequestKey") else "onionlab_visitor"
)
K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A dict that forgets its least recently written entries beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.limit:
            self._data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


class Signer:
    """Signs ``visitor.millis`` values so that clients cannot mint queue or pass cookies."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, visitor: str, at: float) -> str:
        payload = f"{visitor}.{int(at * 1000)}"
        return f"{payload}.{self._mac(payload)}"

    def unsign(self, value: str | None) -> tuple[str, float] | None:
        """``(visitor, at)`` of a valid value, else None."""
        if not value or value.count(".") != 2:
            return None
        visitor, millis, mac = value.split(".")
        if not millis.isdigit() or not hmac.compare_digest(mac, self._mac(f"{visitor}.{millis}")):
            return None
        return visitor, int(millis) / 1000


def new_visitor() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class Session:
    username: str
    visitor: str
    created: float


@dataclass
class Front:
    """Everything one protected site's middlewares share (kept on the app)."""

    site: str
    profile: LabProfile
    seed: int
    protected_prefixes: tuple[str, ...]
    clock: Callable[[], float] = time.monotonic
    signer: Signer = field(default_factory=Signer)
    sessions: Bounded[str, Session] = field(default_factory=lambda: Bounded(50_000))

    def passed(self, request: web.Request) -> str | None:
        """The visitor id of a valid CAPTCHA pass cookie, else None."""
        ticket = self.signer.unsign(request.cookies.get(PASS_COOKIE))
        return ticket[0] if ticket else None

    def visitor(self, request: web.Request) -> str:
        """Who is asking: the visitor id of its cookies, or ``ANON`` (cached per request)."""
        cached = request.get(_VISITOR)
        if cached is not None:
            return cached
        found = self.passed(request)
        if found is None:
            ticket = self.signer.unsign(request.cookies.get(QUEUE_COOKIE))
            found = ticket[0] if ticket else None
        if found is None:
            session = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
            found = session.visitor if session else None
        request[_VISITOR] = found or ANON
        return found or ANON


FRONT_KEY: web.AppKey[Front] = web.AppKey("onionlab_front", Front)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, body: str, *, head: str = "") -> bytes:
    """A complete, script-free HTML page."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"{head}<title>{esc(title)}</title></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    ).encode()


def html_response(
    body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=body,
        content_type="text/html",
        charset="utf-8",
        headers={**HEADERS, **(headers or {})},
    )


def set_cookie(response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="Lax")


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go to after a form (never another host, never a form action)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if target.split("?", 1)[0] in {"/captcha", "/login", "/register", "/logout"}:
        return default
    return target


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={**HEADERS, "Location": location})
