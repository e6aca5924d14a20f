"""Login wall with registration and expiring sessions, for a site's protected paths.

Paths under ``protected_prefixes`` need a logged-in session (cookie ``session``); otherwise
they answer 200 with a login page ("Please login to access the marketplace"). Served here:
``GET/POST /login``, ``GET/POST /register`` (accounts kept in memory, bounded) and
``/logout`` (a state-changing GET, as on real markets). Sessions are valid
``session_ttl`` seconds after login; then protected pages show the login page again with
"Your session has expired". The profile's lab account always exists.
Depends on aiohttp and ``.common``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from onionlab.lab.sites.obstacles.common import (
    ANON,
    SESSION_COOKIE,
    Front,
    Session,
    esc,
    html_response,
    new_visitor,
    page,
    safe_next,
    see_other,
    set_cookie,
)

LOGIN_PHRASE = "Please login to access the marketplace."
EXPIRED_PHRASE = "Your session has expired. Please login again."
USERNAME = re.compile(r"[A-Za-z0-9_-]{3,32}")
MIN_PASSWORD = 8
MAX_ACCOUNTS = 10_000


class Accounts:
    """Usernames → salted PBKDF2 password hashes, in memory."""

    def __init__(self) -> None:
        self._hashes: dict[str, tuple[bytes, bytes]] = {}

    def add(self, username: str, password: str) -> None:
        salt = secrets.token_bytes(16)
        self._hashes[username.lower()] = (salt, self._hash(password, salt))

    def exists(self, username: str) -> bool:
        return username.lower() in self._hashes

    def full(self) -> bool:
        return len(self._hashes) >= MAX_ACCOUNTS

    def check(self, username: str, password: str) -> bool:
        stored = self._hashes.get(username.lower())
        return stored is not None and hmac.compare_digest(
            stored[1], self._hash(password, stored[0])
        )

    @staticmethod
    def _hash(password: str, salt: bytes) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 2_000)


def login_page(front: Front, target: str, error: str = "", notice: str = "") -> bytes:
    err = f'<p class="login-error">{esc(error)}</p>' if error else ""
    note = f'<p class="login-success">{esc(notice)}</p>' if notice else ""
    return page(
        f"{front.site} - Login",
        '<div class="login-box"><h1>Login</h1>'
        f'<p class="login-notice">{LOGIN_PHRASE}</p>{err}{note}'
        '<form class="login-form" method="post" action="/login">'
        f'<input type="hidden" name="next" value="{esc(target)}">'
        '<label>Username <input type="text" name="username" required></label> '
        '<label>Password <input type="password" name="password" required></label> '
        '<button type="submit">Login</button></form>'
        f'<p>No account? <a class="register-link" href="/register?next={esc(quote(target))}">'
        "Register</a></p></div>",
    )


def register_page(front: Front, target: str, error: str = "") -> bytes:
    err = f'<p class="register-error">{esc(error)}</p>' if error else ""
    return page(
        f"{front.site} - Register",
        f'<div class="register-box"><h1>Register</h1>{err}'
        '<form class="register-form" method="post" action="/register">'
        f'<input type="hidden" name="next" value="{esc(target)}">'
        '<label>Username <input type="text" name="username" required></label> '
        '<label>Password <input type="password" name="password" required></label> '
        '<label>Repeat password <input type="password" name="password2" required></label> '
        '<button type="submit">Register</button></form>'
        f'<p><a class="login-link" href="/login?next={esc(quote(target))}">Login</a></p></div>',
    )


def make_login(front: Front) -> Middleware:
    """The login-wall middleware (also serves /login, /register and /logout)."""
    profile = front.profile
    accounts = Accounts()
    accounts.add(profile.account_username, profile.account_password)
    prefixes = front.protected_prefixes

    def current(request: web.Request) -> tuple[Session | None, bool]:
        """The request's live session, and whether it had one that expired."""
        sid = request.cookies.get(SESSION_COOKIE, "")
        session = front.sessions.get(sid)
        if session is None:
            return None, False
        if front.clock() - session.created >= profile.session_ttl:
            front.sessions.pop(sid)
            return None, True
        return session, False

    async def do_login(request: web.Request) -> web.Response:
        if request.method != "POST":
            target = safe_next(request.query.get("next"))
            return html_response(login_page(front, target))
        form = await request.post()
        target = safe_next(str(form.get("next", "")))
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        if not accounts.check(username, password):
            return html_response(login_page(front, target, "Wrong username or password."))
        visitor = front.visitor(request)
        sid = secrets.token_urlsafe(24)
        session = Session(username, new_visitor() if visitor == ANON else visitor, front.clock())
        front.sessions.put(sid, session)
        response = see_other(target)
        set_cookie(response, SESSION_COOKIE, sid)
        return response

    async def do_register(request: web.Request) -> web.Response:
        if not profile.registration:
            return html_response(register_page(front, "/", "Registration is closed."), status=403)
        if request.method != "POST":
            return html_response(register_page(front, safe_next(request.query.get("next"))))
        form = await request.post()
        target = safe_next(str(form.get("next", "")))
        username = str(form.get("username", ""))
        password, again = str(form.get("password", "")), str(form.get("password2", ""))
        error = ""
        if not USERNAME.fullmatch(username):
            error = "Usernames are 3 to 32 letters, digits, '_' or '-'."
        elif accounts.exists(username):
            error = "This username is taken."
        elif len(password) < MIN_PASSWORD:
            error = f"Passwords need at least {MIN_PASSWORD} characters."
        elif password != again:
            error = "The passwords do not match."
        elif accounts.full():
            error = "Registration is closed."
        if error:
            return html_response(register_page(front, target, error))
        accounts.add(username, password)
        return see_other(f"/login?next={quote(target)}&registered=1")

    def do_logout(request: web.Request) -> web.Response:
        front.sessions.pop(request.cookies.get(SESSION_COOKIE, ""))
        response = see_other("/")
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    @web.middleware
    async def login(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path == "/login":
            if request.method != "POST" and request.query.get("registered"):
                target = safe_next(request.query.get("next"))
                notice = "Account created. You can login now."
                return html_response(login_page(front, target, notice=notice))
            return await do_login(request)
        if path == "/register":
            return await do_register(request)
        if path == "/logout":
            return do_logout(request)
        if path.startswith(prefixes):
            session, expired = current(request)
            if session is None:
                error = EXPIRED_PHRASE if expired else ""
                return html_response(login_page(front, safe_next(request.path_qs), error))
        return await handler(request)

    return login
